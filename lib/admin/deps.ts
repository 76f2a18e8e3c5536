/**
 * What the admin panel needs from the rest of the gateway. The key pool and config owners build an
 * {@link AdminDeps} and pass it to `createAdminRoutes`.
 *
 * @module
 */

import type { KeyCooldown, KeyView as PoolKeyView } from "../pool/key_admin.ts";
import type { UsageTotals } from "../pool/usage.ts";
import type { SessionRevocations } from "./session.ts";
import type { KeyCounts, KeyListQuery } from "./api_types.ts";

export type { KeyCooldown };

/** Today's usage counters of a key. */
export type KeyUsage = UsageTotals;

/**
 * A key as the admin panel shows it: never the full secret. The pool's view, except that gateways
 * which do not track them may leave out `addedAt` and `usageToday`.
 */
export type KeyView =
  & Omit<PoolKeyView, "addedAt" | "usageToday">
  & Partial<Pick<PoolKeyView, "addedAt" | "usageToday">>;

/** One page of keys, with the total that matched and the counts by state over all keys. */
export interface KeyPage {
  total: number;
  keys: KeyView[];
  counts: KeyCounts;
}

/** Dependencies of the admin sub-app. */
export interface AdminDeps {
  /** Every key (in-memory; called for `keys`-mode SSE updates, and for the Keys page without `queryKeys`). */
  listKeys(): KeyView[];
  /**
   * One page of keys filtered, sorted and paged like `GET /keys` (for the Keys page and, without the
   * JSON API, `GET /api/keys`). Default: `listKeys()` filtered in memory.
   */
  queryKeys?(q: KeyListQuery): KeyPage;
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
  /** Logged-out sessions, shared through KV when given; per process otherwise. */
  revocations?: SessionRevocations;
}
