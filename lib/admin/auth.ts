/**
 * `adminAuth`: lets a request through when it carries a valid admin session cookie or
 * `Authorization: Bearer <admin token>`; otherwise redirects browsers to the login page and answers
 * API callers with 401. Bearer attempts go through the login throttle (per client address), so a
 * wrong bearer token is slowed down like a wrong password.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { csrfTokenFor } from "./csrf.ts";
import { adminError, wantsHtml } from "./responses.ts";
import { type AdminSession, readSession, type SessionRevocations } from "./session.ts";
import type { LoginThrottle } from "./throttle.ts";
import { peerAddress } from "../http/client_address.ts";

/** Who is calling, set by `adminAuth` as `c.get("admin")`. */
export interface AdminPrincipal {
  /** How the caller authenticated. */
  via: "session" | "bearer";
  /** The cookie session (`via: "session"` only). */
  session?: AdminSession;
  /** The session's CSRF token, for embedding in pages (`via: "session"` only). */
  csrfToken?: string;
}

/** Hono environment of admin routes. */
export type AdminEnv = { Variables: { admin: AdminPrincipal } };

/** Options for {@link adminAuth}. */
export interface AdminAuthOptions {
  /** True when the token is the admin token (constant time). */
  verifyToken(token: string): Promise<boolean>;
  /** Session signing secret. */
  secret: Uint8Array;
  /** Where browsers are sent to sign in, e.g. `/admin/login`. */
  loginPath: string;
  /** Sessions ended by logout. */
  revocations: SessionRevocations;
  /** Throttle shared with the login form, per client address; failed bearer tokens count as failed logins. */
  throttle: LoginThrottle;
  /** The client's address for the throttle (default: the connecting peer's). */
  clientAddress?: (c: Context) => string;
}

/** Middleware factory: requires an admin session or bearer token. */
export function adminAuth(opts: AdminAuthOptions): MiddlewareHandler<AdminEnv> {
  const { loginPath, throttle } = opts;
  const addressOf = opts.clientAddress ?? peerAddress;
  return async function adminAuth(c, next) {
    const authorization = c.req.header("authorization");
    if (authorization !== undefined) {
      const token = authorization.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
      const turn = await throttle.admit(addressOf(c), c.req.raw.signal);
      if (!turn.allowed) {
        return adminError(c, 429, `Too many failed attempts; retry in ${turn.retryAfterSeconds} s.`, {
          "retry-after": String(turn.retryAfterSeconds),
        });
      }
      let ok = false;
      try {
        ok = !!token && await opts.verifyToken(token);
      } finally {
        turn.attempt.done(ok);
      }
      if (!ok) {
        return adminError(
          c,
          401,
          "Invalid admin token: send `Authorization: Bearer <ADMIN_TOKEN>` with the configured admin token.",
          { "www-authenticate": 'Bearer realm="admin"' },
        );
      }
      c.set("admin", { via: "bearer" });
      return await next();
    }
    const session = await readSession(c, opts.secret);
    if (session && !opts.revocations.isRevoked(session)) {
      c.set("admin", { via: "session", session, csrfToken: await csrfTokenFor(session.sid, opts.secret) });
      return await next();
    }
    if (wantsHtml(c) && (c.req.method === "GET" || c.req.method === "HEAD")) {
      const url = new URL(c.req.url);
      return c.redirect(`${loginPath}?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    return adminError(c, 401, "Not signed in: sign in at the admin login page or send a bearer token.");
  };
}
