/**
 * The admin panel's languages: English and Simplified Chinese from one catalogue (`i18n/en.ts` names
 * every message; `i18n/zh_cn.ts` must translate each one, which the type checker and
 * `tests/i18n_test.ts` enforce). The language comes from the `gw_lang` cookie (the switch in the
 * panel), else the browser's `Accept-Language`, else English. Dates and numbers follow the browser's
 * own locale within that language (`en-GB` dates for a British browser).
 *
 * `t()` reads the language of the page being rendered: on the server inside {@link withLang} (page
 * rendering is synchronous), in the browser from `<html lang>`. Code that runs outside a render on the
 * server (route handlers) uses {@link translator} with the request's language.
 *
 * @module
 */
import { en, type MessageKey } from "./i18n/en.ts";
import { zhCN } from "./i18n/zh_cn.ts";

export type { MessageKey };

/** The panel's languages. */
export const LANGS = ["en", "zh-CN"] as const;

/** One of the panel's languages. */
export type Lang = typeof LANGS[number];

/** Every message in every language. */
export const CATALOGUES: Readonly<Record<Lang, Readonly<Record<MessageKey, string>>>> = { en, "zh-CN": zhCN };

/** Each language's name in itself, for the switch. */
export const LANG_NAMES: Readonly<Record<Lang, string>> = { en: "English", "zh-CN": "简体中文" };

/** The cookie that keeps the language chosen with the switch. */
export const LANG_COOKIE = "gw_lang";

/** A language and the locale dates and numbers are formatted in (`en-GB`, `zh-CN`). */
export interface Locale {
  lang: Lang;
  locale: string;
}

/** The panel language of a BCP 47 tag (`zh-TW` -> `zh-CN`, `en-GB` -> `en`), or undefined. */
export function langOf(tag: string | undefined | null): Lang | undefined {
  const t = (tag ?? "").trim().toLowerCase();
  if (t.startsWith("zh")) return "zh-CN";
  if (t.startsWith("en")) return "en";
  return undefined;
}

/** A locale from a tag, or English. */
export function localeOf(tag: string | undefined | null): Locale {
  const lang = langOf(tag);
  if (!lang) return { lang: "en", locale: "en" };
  const clean = (tag ?? "").trim();
  // Formatting follows a Chinese browser's region too, but the messages are Simplified Chinese.
  return { lang, locale: /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(clean) ? clean : lang };
}

/**
 * The locale for a request: the switch's cookie, else the first `Accept-Language` entry the panel
 * speaks (by q-value), else English.
 */
export function pickLocale(o: { cookie?: string; acceptLanguage?: string | null }): Locale {
  if (langOf(o.cookie)) return localeOf(o.cookie);
  const ranked = (o.acceptLanguage ?? "").split(",").map((part, i) => {
    const [tag, ...params] = part.trim().split(";");
    const q = Number(params.find((p) => p.trim().startsWith("q="))?.trim().slice(2) ?? 1);
    return { tag: tag.trim(), q: Number.isFinite(q) ? q : 0, i };
  }).filter((x) => x.tag && x.q > 0).sort((a, b) => b.q - a.q || a.i - b.i);
  const first = ranked.find((x) => langOf(x.tag));
  return first ? localeOf(first.tag) : { lang: "en", locale: "en" };
}

let current: Locale = typeof document === "undefined"
  ? { lang: "en", locale: "en" }
  : localeOf(document.documentElement.lang);

/** The locale `t()` uses now. */
export function currentLocale(): Locale {
  return current;
}

/** Runs `fn` (a synchronous render) with `locale` as the current one. */
export function withLang<T>(locale: Locale, fn: () => T): T {
  const before = current;
  current = locale;
  try {
    return fn();
  } finally {
    current = before;
  }
}

/** Values for a message's `{name}` placeholders. */
export type MessageVars = Record<string, string | number>;

function fill(text: string, vars?: MessageVars): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => name in vars ? String(vars[name]) : m);
}

/** Message `key` in the current language, with `{name}` placeholders filled from `vars`. */
export function t(key: MessageKey, vars?: MessageVars): string {
  return fill(CATALOGUES[current.lang][key] ?? en[key] ?? key, vars);
}

/** The base of plural messages: keys `<base>.one` and `<base>.other` both exist. */
export type PluralKey = MessageKey extends infer K ? K extends `${infer B}.one` ? B : never : never;

const plurals = new Map<string, Intl.PluralRules>();

/** The key of the plural form for count `n` (`<key>.one` or `<key>.other`, by the language's rules). */
export function pluralKey(key: PluralKey, n: number): MessageKey {
  let rules = plurals.get(current.lang);
  if (!rules) plurals.set(current.lang, rules = new Intl.PluralRules(current.lang));
  return `${key}.${rules.select(n) === "one" ? "one" : "other"}` as MessageKey;
}

/** A message for count `n` in the right plural form; `{n}` is `n`. */
export function tn(key: PluralKey, n: number, vars?: MessageVars): string {
  return t(pluralKey(key, n), { n: formatNumber(n), ...vars });
}

/** `t` for one request's locale, for code that runs outside a render (route handlers). */
export function translator(locale: Locale): (key: MessageKey, vars?: MessageVars) => string {
  return (key, vars) => withLang(locale, () => t(key, vars));
}

const numberFormats = new Map<string, Intl.NumberFormat>();

/** A whole number with the locale's grouping (`12,345`). */
export function formatNumber(n: number, options?: Intl.NumberFormatOptions): string {
  const id = `${current.locale}|${JSON.stringify(options ?? {})}`;
  let f = numberFormats.get(id);
  if (!f) numberFormats.set(id, f = new Intl.NumberFormat(current.locale, options));
  return f.format(n);
}
