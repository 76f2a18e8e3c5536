/**
 * What the admin panel needs from the rest of the gateway. The composition root
 * (`routes/mod.ts`) builds an {@link AdminDeps} and passes it to `createAdminRoutes`.
 *
 * @module
 */
import type { Hono } from "hono";
import type { SessionRevocations } from "./session.ts";

/** Dependencies of the admin sub-app. */
export interface AdminDeps {
  /**
   * The admin JSON API (keys, settings, tokens, logs, metrics), mounted at `/api` behind admin auth
   * and CSRF. Pages load their first data from it in-process.
   */
  api: Hono;
  /** Calls `onChange` whenever key state changes; returns an unsubscribe function. */
  subscribe(onChange: () => void): () => void;
  /** True when `token` is the admin token (compared in constant time). */
  verifyAdminToken(token: string): Promise<boolean>;
  /** Secret for signing session cookies and deriving CSRF tokens (32+ random bytes). */
  sessionSecret: Uint8Array;
  /** Logged-out sessions, shared through KV. */
  revocations: SessionRevocations;
}
