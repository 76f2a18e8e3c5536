/**
 * Admin error responses: JSON `{ error: { code, message } }` for API callers, a short page for browsers.
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

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
      `<!doctype html><meta charset="utf-8"><title>Error ${status}</title><p>${safe}</p>`,
      status,
    );
  }
  return c.json({ error: { code: status, message } }, status);
}
