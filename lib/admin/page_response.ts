/**
 * Admin page responses: renders a page through the island renderer inside a complete document with
 * the admin stylesheet, the CSRF meta tag and strict security headers (CSP with a per-response
 * nonce for the inline boot script).
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Fragment, h, type JSX } from "preact";
import { type BuildInfo, loadBuildInfo } from "../islands/build_info.ts";
import { islandRegistry } from "../islands/default_registry.ts";
import { renderDocument } from "../islands/document.ts";
import type { IslandRegistry } from "../islands/registry.ts";
import { randomId } from "./crypto.ts";

/** Options for {@link createPageRenderer}. */
export interface PageRendererOptions {
  /** Where `/static` is served; default `/static`. */
  staticBase?: string;
  /** The island bundle; default: read `static/build/manifest.json` once, on first use. */
  build?: BuildInfo | null;
  /** Island registry; default the project's. */
  registry?: IslandRegistry;
}

/** What one page response needs. */
export interface PageOptions {
  /** Document title (the product name is appended). */
  title: string;
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
}

/** Renders a page into a Response. */
export type PageRenderer = (c: Context, page: PageOptions) => Response;

/** Product name shown in titles. */
export const PRODUCT_NAME = "Gemini Gateway";

/** Creates the admin page renderer. */
export function createPageRenderer(opts: PageRendererOptions = {}): PageRenderer {
  const staticBase = opts.staticBase ?? "/static";
  const registry = opts.registry ?? islandRegistry;
  let build: BuildInfo | null | undefined = opts.build;
  return function renderPage(c, page) {
    if (build === undefined) build = loadBuildInfo({ staticBase });
    const nonce = randomId(12);
    const head = h(Fragment, null, [
      ...(page.styles ?? []).map((href) => h("link", { rel: "stylesheet", href: `${staticBase}/${href}` })),
      h("link", { rel: "stylesheet", href: `${staticBase}/admin.css` }),
      h("link", { rel: "stylesheet", href: `${staticBase}/admin_controls.css` }),
      h("link", { rel: "stylesheet", href: `${staticBase}/admin_ui.css` }),
      h("link", { rel: "stylesheet", href: `${staticBase}/admin_pages.css` }),
      h("link", { rel: "icon", type: "image/svg+xml", href: `${staticBase}/favicon.svg` }),
      h("meta", { name: "color-scheme", content: "light dark" }),
      page.csrfToken ? h("meta", { name: "csrf-token", content: page.csrfToken }) : null,
    ]);
    const html = renderDocument({
      title: `${page.title} · ${PRODUCT_NAME}`,
      body: page.body,
      head,
      registry,
      build,
      nonce,
    });
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
