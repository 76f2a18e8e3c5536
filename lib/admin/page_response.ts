/**
 * Admin page responses: renders a page through the island renderer inside a complete document with
 * the admin stylesheet, the CSRF meta tag and strict security headers (CSP with a per-response
 * nonce for the inline boot script).
 *
 * @module
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Fragment, h, type JSX } from "preact";
import { type BuildInfo, loadBuildInfo, STATIC_BASE } from "../islands/build_info.ts";
import { renderDocument } from "../islands/document.ts";
import type { IslandRegistry } from "../islands/registry.ts";
import { randomId } from "./crypto.ts";
import { LANG_COOKIE, type Locale, pickLocale, t, withLang } from "./i18n.ts";

/** The locale of an admin request: the language switch's cookie, else `Accept-Language`. */
export function requestLocale(c: Context): Locale {
  return pickLocale({ cookie: getCookie(c, LANG_COOKIE), acceptLanguage: c.req.header("accept-language") });
}

/** What one page response needs. */
export interface PageOptions {
  /** Document title (the product name is appended); a function is called in the page's language. */
  title: string | (() => string);
  /** The page body (usually the admin layout). */
  body: JSX.Element;
  /** CSRF token for `<meta name="csrf-token">`, when signed in. */
  csrfToken?: string;
  /** HTTP status; default 200. */
  status?: ContentfulStatusCode;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Extra stylesheets, as paths under the static base (e.g. `uplot.css`). */
  styles?: string[];
  /** A warning shown above the page (e.g. the state store is failing). */
  alert?: string;
}

/** Renders a page into a Response. */
export type PageRenderer = (c: Context, page: PageOptions) => Response;

/**
 * Creates the admin page renderer for the app's islands (`registry`). The island bundle is read
 * from `static/build/manifest.json` once, on first use (pages render without hydration before the
 * first `deno task build`).
 */
export function createPageRenderer(registry: IslandRegistry): PageRenderer {
  let build: BuildInfo | null | undefined;
  return function renderPage(c, page) {
    if (build === undefined) build = loadBuildInfo();
    const info = build;
    const nonce = randomId(12);
    const head = h(Fragment, null, [
      ...(page.styles ?? []).map((href) => h("link", { rel: "stylesheet", href: `${STATIC_BASE}/${href}` })),
      h("link", { rel: "stylesheet", href: `${STATIC_BASE}/admin.css` }),
      h("link", { rel: "stylesheet", href: `${STATIC_BASE}/admin_controls.css` }),
      h("link", { rel: "stylesheet", href: `${STATIC_BASE}/admin_ui.css` }),
      h("link", { rel: "stylesheet", href: `${STATIC_BASE}/admin_pages.css` }),
      h("link", { rel: "stylesheet", href: `${STATIC_BASE}/admin_phone.css` }),
      h("link", { rel: "icon", type: "image/svg+xml", href: `${STATIC_BASE}/favicon.svg` }),
      h("meta", { name: "color-scheme", content: "light dark" }),
      page.csrfToken ? h("meta", { name: "csrf-token", content: page.csrfToken }) : null,
    ]);
    const body = page.alert
      ? h(Fragment, null, [h("div", { class: "page-alert", role: "alert" }, page.alert), page.body])
      : page.body;
    const locale = requestLocale(c);
    // Rendering is synchronous: every t() in the page's components sees this request's language.
    const html = withLang(locale, () =>
      renderDocument({
        title: `${typeof page.title === "function" ? page.title() : page.title} · ${t("product.name")}`,
        body,
        head,
        registry,
        build: info,
        nonce,
        lang: locale.locale,
      }));
    return c.html(html, page.status ?? 200, {
      "content-security-policy": [
        "default-src 'self'",
        `script-src 'self' 'nonce-${nonce}'`,
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
      ].join("; "),
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "cache-control": "no-store",
      ...page.headers,
    });
  };
}
