/**
 * English and Simplified Chinese through one catalogue: every message in both languages with the
 * same placeholders, every setting described in Chinese, no UI text outside the catalogue (a source
 * scan, and the panel rendered in Chinese with no English left), the language from the browser with a
 * switch, and dates and numbers in the locale.
 */
import assert from "node:assert/strict";
import { CATALOGUES, LANGS, pickLocale, t, tn, translator, withLang } from "../lib/admin/i18n.ts";
import { en } from "../lib/admin/i18n/en.ts";
import { ZH_SETTINGS } from "../lib/admin/i18n/settings_zh.ts";
import { describeSettings } from "../lib/config/describe.ts";
import { settingsSchema } from "../lib/settings_schema.ts";
import { startSettingsSchema } from "../lib/config/schema.ts";
import { formatDate, formatDateTime, formatInt, formatPercent } from "../lib/admin/format.ts";
import { formatRemaining } from "../lib/admin/key_format.ts";
import { ADMIN_TOKEN } from "./support/admin_api.ts";
import { startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

Deno.test("catalogue: every message exists in every language, with the same placeholders, and is not empty", () => {
  const keys = Object.keys(en).sort();
  for (const lang of LANGS) {
    const table = CATALOGUES[lang] as Record<string, string>;
    assert.deepEqual(Object.keys(table).sort(), keys, `${lang}: keys differ from en.ts`);
    for (const key of keys) {
      assert.ok(table[key].trim(), `${lang}: ${key} is empty`);
      assert.deepEqual(placeholders(table[key]), placeholders(en[key as keyof typeof en]), `${lang}: ${key}`);
    }
  }
  // Plural messages come in pairs.
  for (const key of keys) {
    if (key.endsWith(".one")) assert.ok(`${key.slice(0, -4)}.other` in en, key);
    if (key.endsWith(".other")) assert.ok(`${key.slice(0, -6)}.one` in en, key);
  }
});

Deno.test("catalogue: every setting has a Chinese label and description", () => {
  const names = [...describeSettings(settingsSchema), ...describeSettings(startSettingsSchema)].map((f) =>
    f.name
  );
  const missing = names.filter((n) => !ZH_SETTINGS[n]?.[0] || !ZH_SETTINGS[n]?.[1]);
  assert.deepEqual(missing, [], "add them to lib/admin/i18n/settings_zh.ts");
  assert.deepEqual(
    Object.keys(ZH_SETTINGS).filter((n) => !names.includes(n)),
    [],
    "settings that no longer exist",
  );
});

/** UI files whose text must come from the catalogue. */
async function uiFiles(): Promise<Array<{ path: string; text: string }>> {
  const out = [];
  for (const dir of ["islands", "lib/admin/ui", "routes/admin"]) {
    for await (const e of Deno.readDir(new URL(`../${dir}/`, import.meta.url))) {
      if (!e.name.endsWith(".tsx")) continue;
      const path = `${dir}/${e.name}`;
      out.push({ path, text: await Deno.readTextFile(new URL(`../${path}`, import.meta.url)) });
    }
  }
  return out;
}

/** Words allowed in UI source text: variable names, units, symbols. */
const ALLOWED = /^(?:[A-Z][A-Z0-9_]+|p50|p95|p99|rpm|rpd|[^A-Za-z]*)$/;

/** Hard-coded UI text in a TSX source: JSX text and text attributes with words in them. */
export function hardCodedText(source: string): string[] {
  const code = source
    .replace(/<code[^>]*>[^<]*<\/code>/g, "<code></code>") // code is never translated
    .replace(/\{\/\*[\s\S]*?\*\/\}/g, "")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  const words = (s: string) =>
    s.trim().split(/\s+/).filter((w) => /[A-Za-z]{2,}/.test(w) && !ALLOWED.test(w));
  // <tag>Text</tag> on one line.
  for (const m of code.matchAll(/>([^<>{}\n]+)<\//g)) if (words(m[1]).length) found.push(m[1].trim());
  // Text on its own line between JSX tags.
  const lines = code.split("\n");
  for (let i = 1; i < lines.length - 1; i++) {
    const line = lines[i].trim();
    if (!/^[A-Za-z][^=;(){}<>`"]*$/.test(line)) continue;
    const prev = lines[i - 1].trim();
    const next = lines[i + 1].trim();
    if (prev.endsWith(">") && (next.startsWith("<") || next.startsWith("{")) && words(line).length) {
      found.push(line);
    }
  }
  // Text attributes written as string literals.
  for (const m of code.matchAll(/\b(?:placeholder|title|aria-label|alt|label)="([^"]*)"/g)) {
    if (words(m[1]).length) found.push(m[0]);
  }
  return found;
}

Deno.test("every UI string goes through the catalogue (no hard-coded text in islands and pages)", async () => {
  assert.deepEqual(hardCodedText('<p class="x">Hello world</p>'), ["Hello world"], "the scan finds text");
  assert.deepEqual(hardCodedText("<span>\n  Cancel\n</span>"), ["Cancel"]);
  assert.deepEqual(hardCodedText('<input placeholder="e.g. my-app" />'), ['placeholder="e.g. my-app"']);
  assert.deepEqual(hardCodedText("<code>ADMIN_TOKEN</code> <b>{t('x')}</b>"), []);
  const problems: string[] = [];
  for (const f of await uiFiles()) {
    for (const text of hardCodedText(f.text)) problems.push(`${f.path}: ${text}`);
  }
  assert.deepEqual(problems, [], "put these strings in lib/admin/i18n/en.ts and zh_cn.ts");
});

/** Visible text and text attributes of an HTML page, without scripts and styles. */
function visibleText(html: string): string {
  const attrs = [...html.matchAll(/\b(?:placeholder|title|aria-label|alt)="([^"]*)"/g)].map((m) => m[1]);
  const body = html.replace(/<script[\s\S]*?<\/script>/g, "").replace(/<style[\s\S]*?<\/style>/g, "")
    .replace(/<code[^>]*>[\s\S]*?<\/code>/g, " ").replace(/<[^>]+>/g, " ")
    .replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">");
  return [body, ...attrs].join(" ");
}

/** English words left in Chinese text (names, ids, units and variables allowed). */
function englishWords(text: string): string[] {
  const allowed = new Set([
    "Gemini",
    "Gateway",
    "API",
    "URL",
    "JSON",
    "HTTP",
    "ID",
    "KV",
    "SSE",
    "CIDR",
    "IP",
    "Webhook",
    "Token",
    "token",
    "Bearer",
    "Authorization",
    "CSRF",
    "Google",
    "OpenAI",
    "TTS",
    "English",
    "rpm",
    "rpd",
    "p50",
    "p95",
    "p99",
    "null",
    "true",
    "false",
    "memory",
    "req",
    "SIGTERM",
    "Ctrl",
    "Deno",
    "Connect",
    "http",
    "https",
    "socks5",
    "safetySettings",
    "thinkingConfig",
    "responseModalities",
    "proxyDownMs",
    "TEXT",
    "IMAGE",
    "NAT",
    "AIza",
    // Wire names quoted in setting descriptions (?key=, tools: [{googleSearch:{}}], ...).
    "key",
    "SSRF",
    "POST",
    "tools",
    "googleSearch",
    "thinkingBudget",
    "codeExecution",
    "urlContext",
    // Product and protocol names (Vertex AI, Gemini 3 Pro, Claude Code, the Live API, OpenAI Responses).
    "CORS",
    "Vertex",
    "AI",
    "Pro",
    "Claude",
    "Anthropic",
    "Code",
    "SDK",
    "Live",
    "WebSocket",
    "Responses",
    "GET",
    // Setting values and wire fields quoted as they are (KEY_KIND_ROUTING=mix, store: true).
    "mix",
    "store",
  ]);
  return text.split(/[^A-Za-z0-9_.:/*'-]+/).map((w) => w.replace(/^['.:]+|['.:]+$/g, ""))
    .filter((w) => /^[A-Za-z]{2,}$/.test(w) && !allowed.has(w));
}

Deno.test("the panel in Chinese: no English left on the sign-in page and every section (Accept-Language zh-CN)", async () => {
  const h = await startHarness();
  try {
    const r = await nativeGenerate(h, { token: h.token });
    await r.body?.cancel();
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${h.url}${path}`, {
        headers: { "accept-language": "zh-CN,zh;q=0.9,en;q=0.5", ...headers },
      });
      assert.equal(res.status, 200, path);
      return await res.text();
    };
    const login = await get("/admin/login");
    assert.match(login, /<html lang="zh-CN">/);
    assert.deepEqual(englishWords(visibleText(login)), [], "sign-in page");
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    for (const path of ["/admin", "/admin/keys", "/admin/settings", "/admin/tokens", "/admin/logs"]) {
      const html = await get(path, auth);
      assert.match(html, /<html lang="zh-CN">/, path);
      assert.deepEqual(englishWords(visibleText(html)), [], path);
    }
    // The same pages in English by default, and the switch's cookie wins over the browser.
    assert.match(await get("/admin/login", { "accept-language": "en-GB" }), /<html lang="en-GB">.*Sign in/s);
    const switched = await fetch(`${h.url}/admin/login?lang=en`, { redirect: "manual" });
    await switched.body?.cancel();
    assert.equal(switched.status, 303);
    assert.equal(switched.headers.get("location"), "/admin/login");
    const cookie = switched.headers.get("set-cookie")!.split(";")[0];
    assert.match(await get("/admin/login", { cookie }), /<html lang="en">.*Sign in/s);
    const evil = await fetch(`${h.url}/admin/login?lang=zh-CN&next=https://evil.example`, {
      redirect: "manual",
    });
    await evil.body?.cancel();
    assert.equal(
      evil.headers.get("location"),
      "/admin/login?next=https%3A%2F%2Fevil.example",
      "the same page",
    );
  } finally {
    await h.close();
  }
});

Deno.test("language from the browser; dates, numbers and plurals in the locale", () => {
  assert.deepEqual(pickLocale({ acceptLanguage: "zh-TW,zh;q=0.9" }), { lang: "zh-CN", locale: "zh-TW" });
  assert.deepEqual(pickLocale({ acceptLanguage: "fr-FR, en-GB;q=0.8, zh;q=0.5" }), {
    lang: "en",
    locale: "en-GB",
  });
  assert.deepEqual(pickLocale({ acceptLanguage: "de-DE" }), { lang: "en", locale: "en" });
  assert.deepEqual(pickLocale({ acceptLanguage: "zh-CN", cookie: "en" }), { lang: "en", locale: "en" });
  assert.deepEqual(pickLocale({ acceptLanguage: "en;q=0.1, zh;q=0.9" }).lang, "zh-CN");
  const when = new Date(2026, 10, 26, 9, 14, 3).getTime();
  withLang({ lang: "zh-CN", locale: "zh-CN" }, () => {
    assert.equal(formatDate(when), "2026/11/26");
    assert.equal(formatDateTime(when), "2026/11/26 09:14:03");
    assert.equal(formatRemaining(125_000), "2 分 05 秒");
    assert.equal(tn("keys.done.deleted", 3), "已删除 3 个密钥。");
    assert.equal(t("nav.keys"), "密钥");
  });
  withLang({ lang: "en", locale: "en-GB" }, () => {
    assert.equal(formatDate(when), "26/11/2026");
    assert.equal(formatInt(1234567), "1,234,567");
    assert.equal(tn("keys.done.deleted", 1), "Deleted 1 key.");
  });
  withLang({ lang: "en", locale: "en-US" }, () => assert.equal(formatDate(when), "11/26/2026"));
  withLang({ lang: "en", locale: "de-DE" }, () => {
    assert.equal(formatInt(1234567), "1.234.567", "numbers follow the browser's region");
    assert.equal(formatPercent(1, 8), "12,5\u00a0%");
  });
  assert.equal(translator({ lang: "zh-CN", locale: "zh-CN" })("login.title"), "登录");
  assert.equal(t("login.title"), "Sign in", "outside a render: English");
});
