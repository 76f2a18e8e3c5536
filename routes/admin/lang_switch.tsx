/**
 * The language switch: one link per language to `<base>/lang`, which keeps the choice in a cookie and
 * comes back to `next`. Works without JavaScript (on the sign-in page too).
 *
 * @module
 */
import { currentLocale, LANG_NAMES, LANGS, t } from "../../lib/admin/i18n.ts";

/** The switch; `next` is the page to come back to. */
export function LangSwitch(props: { basePath: string; next: string }) {
  const current = currentLocale().lang;
  return (
    <nav class="lang-switch" aria-label={t("layout.language")} data-lang-switch>
      {LANGS.map((lang) => (
        <a
          key={lang}
          href={`${props.basePath}/lang?set=${lang}&next=${encodeURIComponent(props.next)}`}
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
