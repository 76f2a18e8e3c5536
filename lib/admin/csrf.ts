/**
 * CSRF protection for cookie sessions: each session's token is an HMAC of its id, embedded in pages
 * as `<meta name="csrf-token">` and required on every state-changing request as the `x-csrf-token`
 * header or the `_csrf` form field. Bearer-token requests need no CSRF token.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { AdminEnv } from "./auth.ts";
import { timingSafeEqual } from "../secrets/timing_safe_equal.ts";
import { hmacBase64url } from "./crypto.ts";
import { adminError } from "./responses.ts";

/** Header carrying the CSRF token. */
export const CSRF_HEADER = "x-csrf-token";
/** Form field carrying the CSRF token. */
export const CSRF_FIELD = "_csrf";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The CSRF token of a session. */
export function csrfTokenFor(sid: string, secret: Uint8Array): Promise<string> {
  return hmacBase64url(secret, `csrf:v1:${sid}`);
}

/** True when `token` is the CSRF token of session `sid` (constant time). */
export async function verifyCsrfToken(sid: string, token: string, secret: Uint8Array): Promise<boolean> {
  return timingSafeEqual(token, await csrfTokenFor(sid, secret));
}

/** Options for {@link csrfProtect}. */
export interface CsrfProtectOptions {
  /** Secret the tokens are derived with (the session secret). */
  secret: Uint8Array;
}

/**
 * Middleware (after `adminAuth`): refuses POST/PUT/PATCH/DELETE from a cookie session with 403 unless
 * it carries the session's CSRF token.
 */
export function csrfProtect(opts: CsrfProtectOptions): MiddlewareHandler<AdminEnv> {
  return async function csrfProtect(c, next) {
    if (SAFE_METHODS.has(c.req.method)) return await next();
    const admin = c.get("admin");
    if (!admin) return adminError(c, 401, "Not signed in: csrfProtect must run after adminAuth.");
    if (admin.via === "bearer") return await next();
    let token = c.req.header(CSRF_HEADER);
    const type = c.req.header("content-type") ?? "";
    if (
      !token &&
      (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data"))
    ) {
      const field = (await c.req.parseBody())[CSRF_FIELD];
      if (typeof field === "string") token = field;
    }
    if (!token || !admin.session || !await verifyCsrfToken(admin.session.sid, token, opts.secret)) {
      return adminError(
        c,
        403,
        `Missing or invalid CSRF token: send the page's <meta name="csrf-token"> value as the ${CSRF_HEADER} ` +
          `header or the ${CSRF_FIELD} form field, or reload the page if your session changed.`,
      );
    }
    await next();
  };
}
