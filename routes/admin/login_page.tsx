/**
 * The sign-in page: a plain POST form (no JavaScript) asking for the admin token.
 *
 * @module
 */
import { BrandMark } from "./icons.tsx";

/** Props of {@link LoginPage}. */
export interface LoginPageProps {
  /** Form action, e.g. `/admin/login`. */
  action: string;
  /** Where to go after signing in (kept in a hidden field). */
  next?: string;
  /** Error to show above the form. */
  error?: string;
  /** Session lifetime, shown under the form. */
  sessionTtlMs: number;
}

function formatDuration(ms: number): string {
  const hours = Math.round(ms / 3600_000);
  if (hours >= 1) return hours === 1 ? "1 hour" : `${hours} hours`;
  const minutes = Math.max(1, Math.round(ms / 60_000));
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/** The admin sign-in page. */
export function LoginPage(props: LoginPageProps) {
  return (
    <main class="login">
      <div class="login-card">
        <div class="login-brand">
          <BrandMark />
          <div>
            <div class="brand-name">Gemini Gateway</div>
            <div class="muted small">Admin console</div>
          </div>
        </div>
        <h1>Sign in</h1>
        <p class="muted">Enter the admin token configured for this gateway.</p>
        {props.error && <p class="alert" role="alert">{props.error}</p>}
        <form method="post" action={props.action} class="form">
          {props.next && <input type="hidden" name="next" value={props.next} />}
          <label for="token">Admin token</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            required
            autofocus
            spellcheck={false}
          />
          <button type="submit" class="button primary">Sign in</button>
        </form>
        <p class="muted small login-foot">
          The token is set with <code>ADMIN_TOKEN</code> on the server. Sessions last{" "}
          {formatDuration(props.sessionTtlMs)}.
        </p>
      </div>
    </main>
  );
}
