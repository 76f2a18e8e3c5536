/**
 * WebSocket close codes on the Live API. Google refuses a Live session by closing the WebSocket with a
 * code and a reason (at most 123 bytes, so Google's error details are cut off) instead of an HTTP error
 * body: a quota refusal is `1011` "You exceeded your current quota, please check your plan and billing
 * details. For more information…", a concurrent-session refusal is `1011` "… RESOURCE_EXHAUSTED:
 * Maximum concurrent se…", an expired key is `1007` "API key expired. Please renew the API key.", a bad
 * setup is `1007` "Request contains an invalid argument.". {@link refusalOf} turns such a close into the
 * HTTP status and `google.rpc.Status` body the pool's one classifier (`lib/pool/classify.ts`) reads; the
 * rest of this file holds the codes the gateway itself sends.
 *
 * Sources: RFC 6455 §7.4 and the IANA WebSocket close code registry; observed reasons in
 * GoogleCloudPlatform/generative-ai#1576, kazunori279/interpretab#13, yagudaev/voiceclaw#155,
 * rudyll/stackchan-ai-server#7 (see docs/wire_notes.md, "Gemini Live API").
 *
 * @module
 */
import type { GoogleErrorBody } from "../gemini/rpc_status.ts";
import { redactKeys } from "../secrets/redact.ts";
import { googleStatusFor } from "../http/errors.ts";

/** Close codes the gateway sends (RFC 6455 §7.4.1 and the IANA registry). */
export const CLOSE = {
  /** Normal closure. */
  normal: 1000,
  /** Going away: the gateway shuts down. */
  goingAway: 1001,
  /** The first message was not a usable setup message. */
  invalidPayload: 1007,
  /** The client token may not do this (model outside its allow-list). */
  policyViolation: 1008,
  /** A message larger than `LIVE_MAX_FRAME_BYTES`. */
  tooBig: 1009,
  /** An error inside the gateway. */
  internalError: 1011,
  /** No key can serve the session now. */
  tryAgainLater: 1013,
  /** The upstream connection was lost or unusable. */
  badGateway: 1014,
} as const;

/** What a refusal means, in the HTTP terms the classifier reads. */
interface RefusalRule {
  /** Tested against the close reason. */
  reason: RegExp;
  status: number;
  googleStatus: string;
  /** Google refused because the key's project has too many sessions open. */
  sessionLimit?: true;
}

/** Close reasons, first match wins (Google puts its canonical status names into some reasons). */
const REFUSAL_RULES: readonly RefusalRule[] = [
  {
    reason: /concurrent se|too many active sessions/i, // Google's reason is cut: "Maximum concurrent se"
    status: 429,
    googleStatus: "RESOURCE_EXHAUSTED",
    sessionLimit: true,
  },
  {
    reason: /exceeded your current quota|quota exceeded|RESOURCE_EXHAUSTED|rate limit/i,
    status: 429,
    googleStatus: "RESOURCE_EXHAUSTED",
  },
  {
    reason: /API key (?:not valid|expired|not found)|API_KEY_INVALID/i,
    status: 400,
    googleStatus: "INVALID_ARGUMENT",
  },
  {
    reason:
      /suspended|leaked|unregistered callers|has been disabled|blocked|denied access|PERMISSION_DENIED/i,
    status: 403,
    googleStatus: "PERMISSION_DENIED",
  },
  { reason: /not found|NOT_FOUND|is not supported for/i, status: 404, googleStatus: "NOT_FOUND" },
  { reason: /deadline|DEADLINE_EXCEEDED/i, status: 504, googleStatus: "DEADLINE_EXCEEDED" },
  { reason: /unavailable|overloaded/i, status: 503, googleStatus: "UNAVAILABLE" },
];

/** By close code, when no reason rule matched. */
const REFUSAL_BY_CODE: Readonly<Record<number, Pick<RefusalRule, "status" | "googleStatus">>> = {
  1007: { status: 400, googleStatus: "INVALID_ARGUMENT" },
  1008: { status: 403, googleStatus: "PERMISSION_DENIED" },
  1009: { status: 413, googleStatus: "INVALID_ARGUMENT" },
  1011: { status: 500, googleStatus: "INTERNAL" },
  1012: { status: 503, googleStatus: "UNAVAILABLE" },
  1013: { status: 503, googleStatus: "UNAVAILABLE" },
  1014: { status: 502, googleStatus: "UNAVAILABLE" },
};

/** A Live close before `setupComplete`, in the terms of an HTTP attempt. */
export interface Refusal {
  /** The HTTP status Google would have answered (429, 400, 403, 404, 5xx). */
  status: number;
  /** The error body for `classify()`: the close reason as its message (keys redacted). */
  body: GoogleErrorBody;
  /** Google's concurrent-session limit: the key is full, not cooling. */
  sessionLimit: boolean;
}

/**
 * Maps a close code and reason that ended a Live attempt before `setupComplete` to an HTTP status and
 * Google error body. A close without a known code or reason (1000, 1001, 1005, 1006, network errors)
 * counts as a 502: not the key's fault, the next key may try. `redact` masks secrets the reason quotes
 * (default: secret shapes only; sessions pass the gateway's `Redactor`, which knows every pool key).
 */
export function refusalOf(
  code: number,
  reason: string,
  redact: (text: string) => string = redactKeys,
): Refusal {
  const message = redact(reason) || `The upstream closed the Live session with code ${code}.`;
  const rule = REFUSAL_RULES.find((r) => r.reason.test(reason)) ??
    REFUSAL_BY_CODE[code] ?? { status: 502, googleStatus: "UNAVAILABLE" };
  return {
    status: rule.status,
    body: { error: { code: rule.status, message, status: rule.googleStatus } },
    sessionLimit: "sessionLimit" in rule && rule.sessionLimit === true,
  };
}

/**
 * Google answered the WebSocket upgrade with an HTTP error instead of accepting it (its body is not
 * readable through a WebSocket client): the status alone decides.
 */
export function upgradeRefusal(status: number): Refusal {
  const message = `Google answered the Live WebSocket upgrade with HTTP ${status}.`;
  return {
    status,
    body: { error: { code: status, message, status: googleStatusFor(status) } },
    sessionLimit: false,
  };
}

/** The close code (RFC 6455) the gateway answers for an HTTP status it refuses a session with. */
export function closeCodeFor(status: number): number {
  if (status === 413) return CLOSE.tooBig;
  if (status === 400) return CLOSE.invalidPayload;
  if (status === 401 || status === 403 || status === 404) return CLOSE.policyViolation;
  if (status === 429 || status === 503) return CLOSE.tryAgainLater;
  if (status === 502 || status === 504) return CLOSE.badGateway;
  return CLOSE.internalError;
}

/** Codes that may not appear in a close frame (RFC 6455 §7.4.1: 1005, 1006 and 1015 are reserved). */
const UNSENDABLE = new Set([1005, 1006, 1015]);

/**
 * The code to pass on to the client for an upstream close: Google's own code, except the reserved ones
 * that only describe a connection lost without a close frame (sent as 1014, bad gateway). `undefined`
 * for 1005 (the upstream sent no code: none is sent on).
 */
export function clientCloseCode(upstreamCode: number): number | undefined {
  if (upstreamCode === 1005) return undefined;
  return UNSENDABLE.has(upstreamCode) || upstreamCode < 1000 || upstreamCode > 4999
    ? CLOSE.badGateway
    : upstreamCode;
}

/**
 * The code to close the upstream with when the client closed: a WebSocket client may only send 1000 or
 * 3000-4999 (WHATWG WebSocket `close()`), so application codes pass and the rest become 1000.
 */
export function upstreamCloseCode(clientCode: number): number {
  return clientCode >= 3000 && clientCode <= 4999 ? clientCode : CLOSE.normal;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** A close reason holds at most 123 bytes of UTF-8 (RFC 6455 §5.5: control frames carry ≤ 125 bytes). */
const MAX_REASON_BYTES = 123;

/**
 * A close reason safe to send: keys redacted (by `redact`, default secret shapes only), cut to 123 bytes
 * of UTF-8 on a character boundary.
 */
export function closeReason(text: string, redact: (text: string) => string = redactKeys): string {
  const bytes = encoder.encode(redact(text));
  if (bytes.length <= MAX_REASON_BYTES) return decoder.decode(bytes);
  let end = MAX_REASON_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // do not cut a character in two
  return decoder.decode(bytes.subarray(0, end));
}
