/**
 * Classifies every upstream outcome into what the pool must do with the key and the request. Google's
 * error details are read by the one reader in ../gemini/rpc_status.ts (shapes: wire reference part D).
 *
 * @module
 */
import {
  apiKeyInvalid,
  countsRequests,
  type GoogleErrorBody,
  quotaVerdict,
  readErrorDetails,
  retryDelayMs,
} from "../gemini/rpc_status.ts";
import { nextPacificMidnight } from "./quota_clock.ts";

/** What an upstream outcome means for the key and the request. */
export type Verdict =
  | { kind: "ok" }
  /** The caller's own error: return it unchanged, do not retry, do not blame the key. */
  | { kind: "client_error" }
  /** A quota was hit: cool the (project, model) pair until `until`; retry on another key. */
  | { kind: "cooldown"; window: "minute" | "day"; until: number; reason: string; limit?: number }
  /** The key's project has no access to the model (quota value 0): keep the pair out until a re-check. */
  | { kind: "no_access"; reason: string }
  /** The key is unusable for every model (invalid, expired, suspended, leaked, blocked). */
  | { kind: "disable"; reason: string }
  /** Not the key's fault (5xx, timeout, network): retry elsewhere; repeated ones back the key off. */
  | { kind: "transient"; reason: string };

/** Inputs for {@link classify}. */
export interface ClassifyInput {
  status: number;
  body: GoogleErrorBody | null;
  now: number;
  /** Cooldown when a 429 names no delay. */
  defaultCooldownMs: number;
}

function classify429(input: ClassifyInput): Verdict {
  const { body, now } = input;
  const { zero, daily, minute } = quotaVerdict(readErrorDetails(body));
  if (zero) return { kind: "no_access", reason: `no quota for this model (${zero.quotaId ?? "quota 0"})` };
  if (daily) {
    return {
      kind: "cooldown",
      window: "day",
      until: nextPacificMidnight(now),
      reason: `daily quota reached (${daily.quotaId})`,
      limit: Number(daily.quotaValue) || undefined,
    };
  }
  const delay = retryDelayMs(body) ?? input.defaultCooldownMs;
  return {
    kind: "cooldown",
    window: "minute",
    until: now + Math.max(delay, 1000),
    reason: minute ? `per-minute quota reached (${minute.quotaId})` : "rate limited (429)",
    limit: minute && countsRequests(minute) ? Number(minute.quotaValue) || undefined : undefined,
  };
}

const DISABLE_403 =
  /leaked|suspend|unregistered callers|API key|blocked|has been disabled|billing|denied access|consumer/i;

function keyReason(body: GoogleErrorBody | null, fallback: string): string {
  const reason = readErrorDetails(body).errorInfo?.reason;
  const msg = body?.error.message || fallback;
  return reason ? `${reason}: ${msg}` : msg;
}

/** Decides what an upstream HTTP status (and its Google error body) means. */
export function classify(input: ClassifyInput): Verdict {
  const { status, body } = input;
  if (status >= 200 && status < 400) return { kind: "ok" };
  if (status === 429) return classify429(input);
  if (status === 400) {
    if (apiKeyInvalid(body)) {
      return { kind: "disable", reason: keyReason(body, "API key not valid") };
    }
    return { kind: "client_error" };
  }
  if (status === 401) return { kind: "disable", reason: keyReason(body, "unauthenticated (401)") };
  if (status === 402) return { kind: "disable", reason: keyReason(body, "prepaid credit depleted (402)") };
  if (status === 403) {
    const msg = body?.error.message ?? "";
    const errorInfo = readErrorDetails(body).errorInfo?.reason ?? "";
    // "You do not have permission to access the File ..." is about the caller's resource, not the key.
    if (/permission to access/i.test(msg) && !errorInfo) return { kind: "client_error" };
    if (errorInfo || DISABLE_403.test(msg) || !msg) {
      return { kind: "disable", reason: keyReason(body, "403") };
    }
    return { kind: "client_error" };
  }
  if (status === 408 || status >= 500) {
    return { kind: "transient", reason: body?.error.message || `upstream ${status}` };
  }
  return { kind: "client_error" };
}
