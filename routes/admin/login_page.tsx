/**
 * The sign-in page: a plain POST form (no JavaScript) asking for the admin token. It says where the
 * token comes from (ADMIN_TOKEN, or generated at the first start) and how to replace a lost one.
 *
 * @module
 */
import type { AdminTokenSource } from "../../lib/config/admin_secrets.ts";
import { t, tn } from "../../lib/admin/i18n.ts";
import { BrandMark } from "./icons.tsx";
import { LangSwitch } from "./lang_switch.tsx";

/** Props of {@link LoginPage}. */
export interface LoginPageProps {
  /** Form action, e.g. `/admin/login`. */
  action: string;
  /** The admin base path, for the language switch. */
  basePath: string;
  /** Where to go after signing in (kept in a hidden field). */
  next?: string;
  /** Error to show above the form. */
  error?: string;
  /** Session lifetime, shown under the form. */
  sessionTtlMs: number;
  /** Where the admin token comes from. */
  tokenSource: AdminTokenSource;
}

function formatDuration(ms: number): string {
  const hours = Math.round(ms / 3600_000);
  return hours >= 1
    ? tn("duration.hours", hours)
    : tn("duration.minutes", Math.max(1, Math.round(ms / 60_000)));
}

/** The admin sign-in page. */
export function LoginPage(props: LoginPageProps) {
  const fromEnv = props.tokenSource === "env";
  return (
    <main class="login">
      <div class="login-card">
        <div class="login-brand">
          <BrandMark />
          <div>
            <div class="brand-name">{t("product.name")}</div>
            <div class="muted small">{t("login.console")}</div>
          </div>
        </div>
        <h1>{t("login.title")}</h1>
        <p class="muted" data-token-source={props.tokenSource}>
          {fromEnv ? t("login.intro.env") : t("login.intro.generated")}
        </p>
        {props.error && <p class="alert" role="alert">{props.error}</p>}
        <form method="post" action={props.action} class="form">
          {props.next && <input type="hidden" name="next" value={props.next} />}
          <label for="token">{t("login.token")}</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            required
            autofocus
            spellcheck={false}
          />
          <button type="submit" class="button primary">{t("login.submit")}</button>
        </form>
        <p class="muted small login-foot" data-lost-token>
          {fromEnv ? t("login.lost.env") : t("login.lost.generated")}{" "}
          {t("login.session", { duration: formatDuration(props.sessionTtlMs) })}
        </p>
        <LangSwitch basePath={props.basePath} next={props.action} />
      </div>
    </main>
  );
}
