/**
 * Why the gateway itself refused a request (before or instead of asking Google). Refusals are logged
 * and counted apart from upstream errors and from the client's own mistakes, aggregated per client
 * address and minute under a flood (`lib/logs/refusal_log.ts`).
 *
 * @module
 */

/** Every reason the gateway refuses a request on its own. */
export const REFUSAL_REASONS = [
  "missing_token",
  "invalid_token",
  "revoked_token",
  "expired_token",
  "auth_throttled",
  "token_rate_limit",
  "token_quota",
  "model_not_allowed",
  "body_too_large",
] as const;

/** One reason the gateway refused a request. */
export type RefusalReason = typeof REFUSAL_REASONS[number];

/** How a finished request ended, for the dashboard and the log filters. */
export type Outcome =
  /** Served (status < 400). */
  | "ok"
  /** Refused by the gateway itself (see {@link RefusalReason}). */
  | "refused"
  /** The client's own mistake: a bad request, an unknown model or path (Google's or the gateway's 4xx). */
  | "client_error"
  /** The client went away before the answer was complete (499). */
  | "cancelled"
  /** Rate limited by Google, or no key could serve it (429). */
  | "rate_limited"
  /** The gateway or Google failed (5xx, timeouts, keys refused). */
  | "error";

/** Every outcome, in the order the dashboard lists them. */
export const OUTCOMES: readonly Outcome[] = [
  "ok",
  "refused",
  "client_error",
  "cancelled",
  "rate_limited",
  "error",
];

/** The outcome implied by a status alone (records written before outcomes were recorded). */
export function outcomeOfStatus(status: number, refusal?: RefusalReason): Outcome {
  if (refusal) return "refused";
  if (status > 0 && status < 400) return "ok";
  if (status === 429) return "rate_limited";
  if (status === 499) return "cancelled";
  if (status >= 400 && status < 500) return "client_error";
  return "error";
}
