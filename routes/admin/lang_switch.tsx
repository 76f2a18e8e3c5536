/**
 * The language switch: one link per language to the page itself with `?lang=`, which the admin routes
 * keep in a cookie before showing the page again without it. Works without JavaScript (on the sign-in
 * page too).
 *
 * @module
 */
import { currentLocale, LANG_NAMES, LANGS, t } from "../../lib/admin/i18n.ts";

/** The switch; `next` is the page to show in the chosen language (a path under `basePath`). */
export function LangSwitch(props: { basePath: string; next: string }) {
  const join = props.next.includes("?") ? "&" : "?";
  const current = currentLocale().lang;
  return (
    <nav class="lang-switch" aria-label={t("layout.language")} data-lang-switch>
      {LANGS.map((lang) => (
        <a
          key={lang}
          href={`${props.next}${join}lang=${lang}`}
          lang={lang}
          hreflang={lang}
          aria-current={lang === current ? "true" : undefined}
          class={lang === current ? "lang active" : "lang"}
          data-lang={lang}
        >
          {LANG_NAMES[lang]}
        </a>
      ))}
    </nav>
  );
}
