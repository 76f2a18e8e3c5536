/**
 * Admin error responses: JSON `{ error: { code, message } }` for API callers, a short page for browsers.
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { STATIC_BASE } from "../islands/build_info.ts";
import { ADMIN_BASE } from "./nav.ts";

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
    const safe = message.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
    return c.html(
      `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
        `<meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>Error ${status} · Gemini Gateway</title><link rel="stylesheet" href="${STATIC_BASE}/admin.css">` +
        `<link rel="stylesheet" href="${STATIC_BASE}/admin_controls.css">` +
        `</head><body class="error-page"><main class="login"><div class="login-card">` +
        `<h1>${status === 404 ? "Not found" : `Error ${status}`}</h1><p>${safe}</p>` +
        `<a class="button" href="${ADMIN_BASE}">Back to the admin console</a></div></main></body></html>`,
      status,
      { "content-security-policy": "default-src 'none'; style-src 'self'; frame-ancestors 'none'" },
    );
  }
  return c.json({ error: { code: status, message } }, status);
}
