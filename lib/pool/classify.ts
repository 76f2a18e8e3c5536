/**
 * Classifies every upstream outcome into what the pool must do with the key and the request.
 * See ../shared/docs/gemini-openai-wire.md part D for the shapes.
 *
 * @module
 */
import type { GoogleErrorBody } from "../gemini/rpc_status.ts";
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

type Detail = Record<string, unknown>;

function detailOf(body: GoogleErrorBody | null, type: string): Detail | undefined {
  return body?.error.details?.find((d) => String(d["@type"] ?? "").endsWith(type));
}

/** Parses a protobuf Duration string such as `"37s"` or `"1.5s"` to ms. */
export function parseDuration(text: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(String(text ?? "").trim());
  return m ? Math.ceil(Number(m[1]) * 1000) : undefined;
}

function retryDelayMs(body: GoogleErrorBody | null): number | undefined {
  const fromInfo = parseDuration(detailOf(body, "google.rpc.RetryInfo")?.retryDelay);
  if (fromInfo !== undefined) return fromInfo;
  const m = /retry in (\d+(?:\.\d+)?)\s*s/i.exec(body?.error.message ?? "");
  return m ? Math.ceil(Number(m[1]) * 1000) : undefined;
}

interface Violation {
  quotaId?: string;
  quotaValue?: string;
  quotaMetric?: string;
}

function classify429(input: ClassifyInput): Verdict {
  const { body, now } = input;
  const violations = (detailOf(body, "google.rpc.QuotaFailure")?.violations ?? []) as Violation[];
  const zero = violations.find((v) => String(v.quotaValue) === "0");
  if (zero) return { kind: "no_access", reason: `no quota for this model (${zero.quotaId ?? "quota 0"})` };
  const daily = violations.find((v) => /PerDay/i.test(v.quotaId ?? ""));
  if (daily) {
    return {
      kind: "cooldown",
      window: "day",
      until: nextPacificMidnight(now),
      reason: `daily quota reached (${daily.quotaId})`,
      limit: Number(daily.quotaValue) || undefined,
    };
  }
  const minute = violations.find((v) => /PerMinute/i.test(v.quotaId ?? ""));
  const delay = retryDelayMs(body) ?? input.defaultCooldownMs;
  return {
    kind: "cooldown",
    window: "minute",
    until: now + Math.max(delay, 1000),
    reason: minute ? `per-minute quota reached (${minute.quotaId})` : "rate limited (429)",
    limit: minute && /Requests/i.test(minute.quotaId ?? "")
      ? Number(minute.quotaValue) || undefined
      : undefined,
  };
}

const DISABLE_403 =
  /leaked|suspend|unregistered callers|API key|blocked|has been disabled|billing|denied access|consumer/i;

function keyReason(body: GoogleErrorBody | null, fallback: string): string {
  const reason = detailOf(body, "google.rpc.ErrorInfo")?.reason;
  const msg = body?.error.message || fallback;
  return reason ? `${reason}: ${msg}` : msg;
}

/** Decides what an upstream HTTP status (and its Google error body) means. */
export function classify(input: ClassifyInput): Verdict {
  const { status, body } = input;
  if (status >= 200 && status < 400) return { kind: "ok" };
  if (status === 429) return classify429(input);
  if (status === 400) {
    const reason = String(detailOf(body, "google.rpc.ErrorInfo")?.reason ?? "");
    if (reason === "API_KEY_INVALID" || /API key (not valid|expired)/i.test(body?.error.message ?? "")) {
      return { kind: "disable", reason: keyReason(body, "API key not valid") };
    }
    return { kind: "client_error" };
  }
  if (status === 401) return { kind: "disable", reason: keyReason(body, "unauthenticated (401)") };
  if (status === 402) return { kind: "disable", reason: keyReason(body, "prepaid credit depleted (402)") };
  if (status === 403) {
    const msg = body?.error.message ?? "";
    const errorInfo = String(detailOf(body, "google.rpc.ErrorInfo")?.reason ?? "");
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
