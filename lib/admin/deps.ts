/**
 * What the admin panel needs from the rest of the gateway. The key pool and config owners build an
 * {@link AdminDeps} and pass it to `createAdminRoutes`.
 *
 * @module
 */

/** One per-model cooldown of a key. */
export interface KeyCooldown {
  /** Bare model id, e.g. `gemini-2.5-flash` (or `*` for all models). */
  model: string;
  /** Epoch milliseconds when the cooldown ends. */
  until: number;
  /** Why: per-minute quota, daily quota, no access to the model, or error backoff. */
  kind: "minute" | "day" | "no_access" | "backoff";
  /** Human-readable reason (upstream message, shortened). */
  reason: string;
}

/** Today's usage counters of a key. */
export interface KeyUsage {
  requests: number;
  ok: number;
  rateLimited: number;
  inputTokens: number;
  outputTokens: number;
}

/** A key as the admin panel shows it: never the full secret. */
export interface KeyView {
  /** Stable key id. */
  id: string;
  /** Masked key, e.g. `AIza…x9Qk`. */
  masked: string;
  label?: string;
  project?: string;
  state: "active" | "cooling" | "disabled";
  disabledReason?: string;
  cooldowns: KeyCooldown[];
  lastError?: string;
  usageToday?: KeyUsage;
}

/** Dependencies of the admin sub-app. */
export interface AdminDeps {
  /** Current keys (cheap, in-memory; called on every page view and SSE update). */
  listKeys(): KeyView[];
  /** Calls `onChange` whenever key state changes; returns an unsubscribe function. */
  subscribe(onChange: () => void): () => void;
  /** True when `token` is the admin token (compare in constant time, e.g. with `tokenVerifier`). */
  verifyAdminToken(token: string): Promise<boolean>;
  /** Secret for signing session cookies and deriving CSRF tokens (32+ random bytes). */
  sessionSecret: Uint8Array;
  /** Session lifetime; default 12 hours. */
  sessionTtlMs?: number;
  /** Where the sub-app is mounted; default `/admin`. */
  basePath?: string;
  /** Where `/static` files are served; default `/static`. */
  staticBase?: string;
  /** Failed logins allowed per client IP per minute before 429; default 5. */
  maxFailedLoginsPerMinute?: number;
}
