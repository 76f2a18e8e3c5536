/**
 * Watching the pipeline from outside (metrics, traces) without changing it: `forward.ts` calls these
 * hooks at the named steps. Every hook is optional, synchronous and must not throw.
 *
 * @module
 */
import type { Verdict } from "../pool/classify.ts";

/**
 * How one upstream attempt ended: `ok` (2xx), `rate_limited_minute` / `rate_limited_day` (429 by
 * quota kind), `no_access` (quota value 0), `invalid_key` (the key was disabled: invalid, expired,
 * suspended...), `server_error` (5xx, Google overloaded), `timeout` (no headers within `REQUEST_TIMEOUT_MS`),
 * `network` (could not reach the upstream or its proxy), `client_error` (the caller's own 4xx).
 */
export type AttemptOutcome =
  | "ok"
  | "rate_limited_minute"
  | "rate_limited_day"
  | "no_access"
  | "invalid_key"
  | "server_error"
  | "timeout"
  | "network"
  | "client_error";

/** Every {@link AttemptOutcome}, for metrics that list them all. */
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = [
  "ok",
  "rate_limited_minute",
  "rate_limited_day",
  "no_access",
  "invalid_key",
  "server_error",
  "timeout",
  "network",
  "client_error",
];

/** The start of one attempt: which key was chosen, for which request. */
export interface AttemptStart {
  /** The key's id (a hash prefix, never the key). */
  keyId: string;
  /** The key in masked form (`AIza…k9Xw`). */
  keyMasked: string;
  /** Bare model id, when the call names one. */
  model?: string;
  /** Which edge sent the request (`gemini`, `openai`, ...). */
  route: string;
  /** 1 for the first attempt of the request. */
  attempt: number;
  /** True when the key was pinned (a file or cached content belongs to it). */
  pinned: boolean;
  /** How long the request has waited for a cooling key so far, in ms. */
  waitedMs: number;
}

/** The end of one attempt. */
export interface AttemptEnd {
  outcome: AttemptOutcome;
  /** The upstream's HTTP status, when it answered. */
  status?: number;
  /** Epoch ms until which the key (pair) now cools down, when the outcome cooled it. */
  cooldownUntil?: number;
  /**
   * Milliseconds since the request arrived (for `ok`: until the answer starts reaching the client, i.e.
   * a stream's first bytes or a unary answer read whole).
   */
  elapsedMs: number;
}

/** Hooks into the pipeline. */
export interface ForwardObserver {
  /** An attempt starts; the returned function (if any) is called once when it ends. */
  attempt?(start: AttemptStart): ((end: AttemptEnd) => void) | undefined;
  /** A streamed answer starts passing through; the returned function (if any) is called when it ends. */
  stream?(route: string): (() => void) | undefined;
}

/** The outcome an upstream answer's verdict stands for. */
export function outcomeOf(verdict: Verdict, status: number): AttemptOutcome {
  switch (verdict.kind) {
    case "ok":
      return "ok";
    case "client_error":
      return "client_error";
    case "cooldown":
      return verdict.window === "day" ? "rate_limited_day" : "rate_limited_minute";
    case "no_access":
      return "no_access";
    case "disable":
      return "invalid_key";
    case "overloaded": // Google's 503 (or 429) for its own capacity, not the key's
      return "server_error";
    case "transient":
      return status >= 500 ? "server_error" : "network";
  }
}
