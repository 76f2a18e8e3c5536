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
import type { GoogleErrorBody } from "../gemini/rpc_status.ts";

/** Options for {@link GatewayError}. */
export interface GatewayErrorOptions {
  /** Google's canonical status (`INVALID_ARGUMENT`, ...). Derived from the HTTP status when omitted. */
  googleStatus?: string;
  /** `google.rpc` details to include in the Google envelope. */
  details?: Array<Record<string, unknown>>;
  /** Extra response headers (for example `Retry-After`). */
  headers?: Record<string, string>;
  /** The upstream's own error body, passed through verbatim on Gemini routes. */
  upstream?: GoogleErrorBody;
  /** OpenAI `param` (the offending field), when known. */
  param?: string;
  /** OpenAI `code` (`invalid_api_key`, `rate_limit_exceeded`, ...), when known. */
  code?: string;
  /** The underlying cause, for logs. */
  cause?: unknown;
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
  return new Response(JSON.stringify(ge.toGoogle()), { status: ge.status, headers });
}
