/**
 * One error type for the whole gateway. Every failure (bad input, auth, upstream errors, pool
 * exhaustion) is thrown as a {@link GatewayError}; each route group formats it in its own dialect
 * (Google's `google.rpc.Status` envelope on Gemini routes, OpenAI's envelope on OpenAI routes).
 *
 * @module
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { redactKeys } from "../secrets/redact.ts";
import type { FieldViolation, GoogleErrorBody } from "../gemini/rpc_status.ts";
import type { RefusalReason } from "./refusal.ts";

/** Options for {@link GatewayError}. */
export interface GatewayErrorOptions {
  /** Google's canonical status (`INVALID_ARGUMENT`, ...). Derived from the HTTP status when omitted. */
  googleStatus?: string;
  /** `google.rpc` details to include in the Google envelope. */
  details?: Array<Record<string, unknown>>;
  /** Extra response headers (for example `Retry-After`). */
  headers?: Record<string, string>;
  /** The upstream's own error body, parsed (OpenAI and other dialects map it). */
  upstream?: GoogleErrorBody;
  /** The upstream's error body as it came (keys redacted): sent byte for byte on Gemini routes. */
  upstreamText?: string;
  /** OpenAI `param` (the offending field), when known. */
  param?: string;
  /** OpenAI `code` (`invalid_api_key`, `rate_limit_exceeded`, ...), when known. */
  code?: string;
  /** The underlying cause, for logs. */
  cause?: unknown;
  /** Set when the gateway itself refused the request (its own policy, not Google's answer). */
  refusal?: RefusalReason;
}

const GOOGLE_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  402: "RESOURCE_EXHAUSTED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "UNIMPLEMENTED",
  409: "ALREADY_EXISTS",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** Google's canonical status name for an HTTP status code. */
export function googleStatusFor(status: number): string {
  return GOOGLE_STATUS[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
}

/** The gateway's single error type: an HTTP status, a human-actionable message, and dialect hints. */
export class GatewayError extends HTTPException {
  /** Options given at construction (google status, details, headers, upstream body, ...). */
  readonly options: GatewayErrorOptions;
  /**
   * True once the pipeline has reported this failure as a request record, so the edge does not record
   * it a second time (errors raised before the pipeline, such as auth, are recorded by the edge).
   */
  recorded = false;

  constructor(status: number, message: string, options: GatewayErrorOptions = {}) {
    super(status as ContentfulStatusCode, { message, cause: options.cause });
    this.options = options;
  }

  /** The error as Google's envelope: the upstream body verbatim when there is one. */
  toGoogle(): GoogleErrorBody {
    if (this.options.upstream) return this.options.upstream;
    const error: GoogleErrorBody["error"] = {
      code: this.status,
      message: this.message,
      status: this.options.googleStatus ?? googleStatusFor(this.status),
    };
    if (this.options.details?.length) error.details = this.options.details;
    return { error };
  }
}

/**
 * A `google.rpc.BadRequest` detail for an error body the gateway writes itself (read back by
 * `readErrorDetails` in `lib/gemini/rpc_status.ts`).
 * Source: https://github.com/googleapis/googleapis/blob/master/google/rpc/error_details.proto
 */
export function badRequestDetail(fieldViolations: FieldViolation[]): Record<string, unknown> {
  return { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations };
}

/**
 * 400 INVALID_ARGUMENT about one field of the request: the message is `why`, OpenAI's `param` is
 * `field`, and Google's envelope carries a `google.rpc.BadRequest` field violation.
 *
 * @param field the offending field as a request path (`messages[0].role`), or undefined for the body.
 */
export function badRequest(
  field: string | undefined,
  why: string,
  options: { code?: string; cause?: unknown } = {},
): GatewayError {
  return new GatewayError(400, why, {
    param: field,
    code: options.code,
    cause: options.cause,
    details: field ? [badRequestDetail([{ field, description: why }])] : undefined,
  });
}

/** 401 UNAUTHENTICATED: the client token is missing, unknown, revoked or expired (OpenAI `invalid_api_key`). */
export function unauthenticated(why: string, refusal: RefusalReason = "invalid_token"): GatewayError {
  return new GatewayError(401, why, { googleStatus: "UNAUTHENTICATED", code: "invalid_api_key", refusal });
}

/** 403 PERMISSION_DENIED: the caller may not do this (e.g. a model outside its token's allow-list). */
export function permissionDenied(
  why: string,
  options: { code?: string; param?: string; refusal?: RefusalReason } = {},
): GatewayError {
  return new GatewayError(403, why, { googleStatus: "PERMISSION_DENIED", ...options });
}

/** 404 NOT_FOUND. */
export function notFound(why: string, code?: string): GatewayError {
  return new GatewayError(404, why, { code });
}

/** 413: a body over the gateway's limit of `limit` bytes. */
export function tooLarge(limit: number): GatewayError {
  return new GatewayError(
    413,
    `The request body is larger than ${limit} bytes. Send less data, use the Files API for large inputs, or raise MAX_BODY_BYTES.`,
    { refusal: "body_too_large" },
  );
}

/**
 * 429 RESOURCE_EXHAUSTED with `Retry-After` (seconds, at least 1) when a wait is known; `refusal` names
 * the gateway's own limit that refused it (a client token's rate or quota, failed authentications).
 */
export function rateLimited(why: string, retryAfterSeconds?: number, refusal?: RefusalReason): GatewayError {
  return new GatewayError(429, why, {
    googleStatus: "RESOURCE_EXHAUSTED",
    refusal,
    headers: retryAfterSeconds === undefined
      ? undefined
      : { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
}

/** 499 CANCELLED: the client went away (logged; nobody reads the answer). */
export function clientClosed(): GatewayError {
  return new GatewayError(499, "The client closed the request.", { googleStatus: "CANCELLED" });
}

/** 502: the upstream could not be reached or answered something unusable. */
export function badGateway(why: string, cause?: unknown): GatewayError {
  return new GatewayError(502, why, { cause });
}

/**
 * 504 DEADLINE_EXCEEDED: the upstream did not answer in time. With `sent`, the request reached the
 * upstream (which may still be generating, and charges for it): the answer then says
 * `x-should-retry: false`, which the OpenAI and Anthropic SDKs obey instead of resending it on their
 * own (they retry every 5xx twice by default).
 */
export function upstreamTimeout(why: string, options: { sent?: boolean } = {}): GatewayError {
  return new GatewayError(504, why, { headers: options.sent ? { "x-should-retry": "false" } : undefined });
}

/**
 * The {@link GatewayError} for any thrown value: itself when it is one; otherwise a 500 whose cause is
 * printed to stderr (with keys redacted) so an operator can see what broke.
 */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const detail = err instanceof Error ? err.stack ?? err.message : String(err);
  console.error(`Internal gateway error: ${redactKeys(detail)}`);
  return new GatewayError(500, "Internal gateway error.", { cause: err });
}

/** Builds a JSON response with Google's envelope for any error (non-gateway errors become 500). */
export function googleErrorResponse(err: unknown): Response {
  const ge = asGatewayError(err);
  const headers = new Headers({ "content-type": "application/json; charset=UTF-8", ...ge.options.headers });
  const body = ge.options.upstreamText ?? JSON.stringify(ge.toGoogle());
  return new Response(body, { status: ge.status, headers });
}
