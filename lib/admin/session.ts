/**
 * Signed admin session cookies. The cookie value is `<sid>.<expiresAtMs>.<hmac>`, where the HMAC
 * (SHA-256, Web Crypto) covers the session id and the expiry, so neither can be changed.
 * Logout revokes the session id in memory until it expires.
 *
 * @module
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { hmacBase64url, randomId, timingSafeEqualStrings } from "./crypto.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "gw_admin";
/** Default session lifetime: 12 hours. */
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** A verified session. */
export interface AdminSession {
  /** Random session id. */
  sid: string;
  /** Epoch ms when the session ends. */
  expiresAt: number;
}

/** Signs a session into a cookie value. */
export async function signSession(session: AdminSession, secret: Uint8Array): Promise<string> {
  const body = `${session.sid}.${session.expiresAt}`;
  return `${body}.${await hmacBase64url(secret, `session:v1:${body}`)}`;
}

/** Verifies a cookie value; null when malformed, tampered with, or expired at `now`. */
export async function verifySession(
  value: string | undefined,
  secret: Uint8Array,
  now: number = Date.now(),
): Promise<AdminSession | null> {
  const match = value?.match(/^([\w-]{16,64})\.(\d{1,16})\.([\w-]{43})$/);
  if (!match) return null;
  const [, sid, exp, sig] = match;
  const expected = await hmacBase64url(secret, `session:v1:${sid}.${exp}`);
  if (!await timingSafeEqualStrings(sig, expected)) return null;
  const expiresAt = Number(exp);
  return expiresAt > now ? { sid, expiresAt } : null;
}

/** Session ids ended by logout, remembered until they would have expired anyway. */
export class SessionRevocations {
  #revoked = new Map<string, number>();

  /** Revokes a session. */
  revoke(session: AdminSession): void {
    this.#prune();
    this.#revoked.set(session.sid, session.expiresAt);
  }

  /** True when the session was revoked. */
  isRevoked(session: AdminSession): boolean {
    return this.#revoked.has(session.sid);
  }

  #prune(): void {
    const now = Date.now();
    for (const [sid, exp] of this.#revoked) if (exp <= now) this.#revoked.delete(sid);
  }
}

/** True when the request reached us over https (directly or via a proxy's x-forwarded-proto). */
export function isHttps(c: Context): boolean {
  const forwarded = c.req.header("x-forwarded-proto")?.split(",")[0].trim().toLowerCase();
  return forwarded === "https" || new URL(c.req.url).protocol === "https:";
}

/** Options shared by {@link startSession} and {@link endSession}. */
export interface SessionCookieOptions {
  /** Signing secret. */
  secret: Uint8Array;
  /** Cookie path, e.g. `/admin`. */
  path: string;
  /** Session lifetime; default {@link DEFAULT_SESSION_TTL_MS}. */
  ttlMs?: number;
}

/** Creates a session and sets its cookie (HttpOnly, SameSite=Strict, Secure on https). */
export async function startSession(c: Context, opts: SessionCookieOptions): Promise<AdminSession> {
  const ttl = opts.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const session = { sid: randomId(), expiresAt: Date.now() + ttl };
  setCookie(c, SESSION_COOKIE, await signSession(session, opts.secret), {
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    path: opts.path,
    maxAge: Math.floor(ttl / 1000),
  });
  return session;
}

/** Clears the session cookie. */
export function endSession(c: Context, opts: Pick<SessionCookieOptions, "path">): void {
  deleteCookie(c, SESSION_COOKIE, {
    path: opts.path,
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
  });
}

/** Reads and verifies the session cookie of a request. */
export function readSession(c: Context, secret: Uint8Array): Promise<AdminSession | null> {
  return verifySession(getCookie(c, SESSION_COOKIE), secret);
}
