/**
 * Admin error responses: JSON `{ error: { code, message } }` for API callers, a short page for browsers.
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { STATIC_BASE } from "../islands/build_info.ts";
import { ADMIN_BASE } from "./nav.ts";
import { translator } from "./i18n.ts";
import { requestLocale } from "./page_response.ts";

/** True when the client prefers HTML (a browser navigation). */
export function wantsHtml(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("text/html");
}

/** An admin error response in the caller's preferred format. */
export function adminError(
  c: Context,
  status: ContentfulStatusCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  if (wantsHtml(c)) {
    const locale = requestLocale(c);
    const tr = translator(locale);
    const esc = (text: string) =>
      text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
    const title = status === 404 ? tr("error.notFound") : tr("error.status", { status });
    return c.html(
      `<!doctype html><html lang="${esc(locale.locale)}"><head><meta charset="utf-8">` +
        `<meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${esc(title)} · ${esc(tr("product.name"))}</title>` +
        `<link rel="stylesheet" href="${STATIC_BASE}/admin.css">` +
        `<link rel="stylesheet" href="${STATIC_BASE}/admin_controls.css">` +
        `</head><body class="error-page"><main class="login"><div class="login-card">` +
        `<h1>${esc(title)}</h1><p>${esc(message)}</p>` +
        `<a class="button" href="${ADMIN_BASE}">${esc(tr("error.back"))}</a></div></main></body></html>`,
      status,
      { "content-security-policy": "default-src 'none'; style-src 'self'; frame-ancestors 'none'" },
    );
  }
  return c.json({ error: { code: status, message } }, status);
}
