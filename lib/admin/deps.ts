/**
 * What the admin panel needs from the rest of the gateway. The composition root
 * (`routes/mod.ts`) builds an {@link AdminDeps} and passes it to `createAdminRoutes`.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { SessionRevocations } from "./session.ts";
import type { AuditLog } from "../logs/audit_log.ts";
import type { AdminTokenSource } from "../config/admin_secrets.ts";
import type { LoginThrottle } from "./throttle.ts";
import type { KvStatus } from "../kv/kv_health.ts";

/** Dependencies of the admin sub-app. */
export interface AdminDeps {
  /**
   * The admin JSON API (keys, settings, tokens, logs, metrics), mounted at `/api` behind admin auth
   * and CSRF. Pages load their first data from it in-process.
   */
  api: Hono;
  /** Calls `onChange` whenever key state changes; returns an unsubscribe function. */
  subscribe(onChange: () => void): () => void;
  /** Where the admin token comes from (the sign-in page says so). */
  adminTokenSource: AdminTokenSource;
  /** True when `token` is the admin token (compared in constant time). */
  verifyAdminToken(token: string): Promise<boolean>;
  /** Secret for signing session cookies and deriving CSRF tokens (32+ random bytes). */
  sessionSecret: Uint8Array;
  /** Logged-out sessions, shared through KV. */
  revocations: SessionRevocations;
  /** Where admin actions are recorded (every API change, sign-in and sign-out). */
  audit: AuditLog;
  /** Names of secret settings (the audit log names them but never writes their values). */
  secretSettings: ReadonlySet<string>;
  /**
   * The client's address, for the failed-login throttle and the audit log (default: the connecting
   * peer's; the gateway passes `clientAddress` with its `TRUSTED_PROXIES`).
   */
  clientAddress?: (c: Context) => string;
  /** The failed-login throttle (default: a new one with its default spacing). */
  throttle?: LoginThrottle;
  /** The state store's health; every signed-in page warns while it fails. */
  storeStatus?: () => KvStatus;
}
