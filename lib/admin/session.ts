/**
 * Signed admin session cookies. The cookie value is `<sid>.<expiresAtMs>.<hmac>`, where the HMAC
 * (SHA-256, Web Crypto) covers the session id and the expiry, so neither can be changed.
 * Logout revokes the session id until it expires (shared through KV across workers and restarts).
 *
 * @module
 */
import type { ChangeFeed } from "../kv/change_feed.ts";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "../secrets/timing_safe_equal.ts";
import { hmacBase64url, randomId } from "./crypto.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "gw_admin";
/** Session lifetime: 12 hours. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

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
  if (!timingSafeEqual(sig, expected)) return null;
  const expiresAt = Number(exp);
  return expiresAt > now ? { sid, expiresAt } : null;
}

/** Session ids ended by logout, remembered until they would have expired anyway. */
export class SessionRevocations {
  #revoked = new Map<string, number>();

  /** A logout is stored in `kv` and reaches every worker and instance through `feed` (and survives a restart). */
  constructor(private readonly shared: { kv: Deno.Kv; feed: ChangeFeed }) {
    shared.feed.on("revocation", (sid) => sid ? this.#reload(sid) : undefined);
  }

  /** Loads stored revocations (call once at start). */
  async load(): Promise<void> {
    for await (const e of this.shared.kv.list<number>({ prefix: ["admin", "revoked"] })) {
      this.#revoked.set(String(e.key[2]), e.value);
    }
  }

  /**
   * Revokes a session: at once on this instance, and durably (other instances, restarts) once the
   * returned promise settles.
   *
   * @throws {GatewayError} 503 from the tracked store when the revocation could not be stored (the
   *   session stays refused here, but may work again after a restart or on another instance).
   */
  async revoke(session: AdminSession): Promise<void> {
    this.#prune();
    this.#revoked.set(session.sid, session.expiresAt);
    const ttl = Math.max(1, session.expiresAt - Date.now());
    const op = this.shared.kv.atomic().set(["admin", "revoked", session.sid], session.expiresAt, {
      expireIn: ttl,
    });
    this.shared.feed.record(op, { topic: "revocation", id: session.sid });
    await op.commit();
  }

  /** True when the session was revoked. */
  isRevoked(session: AdminSession): boolean {
    return this.#revoked.has(session.sid);
  }

  async #reload(sid: string): Promise<void> {
    const e = await this.shared.kv.get<number>(["admin", "revoked", sid]).catch(() => null);
    if (e?.value) this.#revoked.set(sid, e.value);
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
}

/** Creates a session and sets its cookie (HttpOnly, SameSite=Strict, Secure on https). */
export async function startSession(c: Context, opts: SessionCookieOptions): Promise<AdminSession> {
  const session = { sid: randomId(), expiresAt: Date.now() + SESSION_TTL_MS };
  setCookie(c, SESSION_COOKIE, await signSession(session, opts.secret), {
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    path: opts.path,
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
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
