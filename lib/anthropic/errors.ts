/**
 * Any error in Anthropic's envelope `{"type":"error","error":{"type","message"},"request_id"}` with the
 * status and headers Anthropic's SDKs read to pick an error class and a retry policy: Google's 503
 * becomes 529 `overloaded_error`, a 429 keeps `retry-after`, a per-day or zero quota and used-up
 * credits say `x-should-retry: false`, an invalid upstream key is a 401 `authentication_error`.
 *
 * Source: `@anthropic-ai/sdk` `core/error.ts`, `resources/shared.ts` `ErrorType`; wire reference §G6, §G8.
 *
 * @module
 */
import { asGatewayError } from "../http/errors.ts";
import { apiKeyInvalid, quotaVerdict, readErrorDetails, retryDelayMs } from "../gemini/rpc_status.ts";
import { randomAlnum } from "../gemini/tool_call_ids.ts";

/** Anthropic's `error.type` values. */
export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

/** The error object inside the envelope (also the `error` of a stream's `error` event). */
export interface AnthropicError {
  type: AnthropicErrorType;
  message: string;
}

/** HTTP status -> the status Anthropic answers and its `error.type` (first match; unlisted 4xx are invalid requests). */
const STATUS_TABLE: ReadonlyArray<{ from: number; status: number; type: AnthropicErrorType }> = [
  { from: 401, status: 401, type: "authentication_error" },
  { from: 402, status: 402, type: "billing_error" },
  { from: 403, status: 403, type: "permission_error" },
  { from: 404, status: 404, type: "not_found_error" },
  { from: 413, status: 413, type: "request_too_large" },
  { from: 429, status: 429, type: "rate_limit_error" },
  { from: 503, status: 529, type: "overloaded_error" },
  { from: 504, status: 504, type: "timeout_error" },
];

/** A formatted error: status, body and response headers. */
export interface AnthropicErrorParts {
  status: number;
  body: { type: "error"; error: AnthropicError; request_id: string };
  headers: Record<string, string>;
}

/** Maps any thrown value to Anthropic's status, envelope and headers. */
export function toAnthropicError(err: unknown): AnthropicErrorParts {
  const ge = asGatewayError(err);
  const upstream = ge.options.upstream;
  let status = ge.status as number;
  if (status === 400 && apiKeyInvalid(upstream)) status = 401;
  const row = STATUS_TABLE.find((r) => r.from === status);
  const type: AnthropicErrorType = row?.type ?? (status < 500 ? "invalid_request_error" : "api_error");
  const headers: Record<string, string> = { ...ge.options.headers };
  const hasRetryAfter = Object.keys(headers).some((h) => h.toLowerCase() === "retry-after");
  const delay = retryDelayMs(upstream);
  if (status === 429 && !hasRetryAfter && delay !== undefined) {
    headers["retry-after"] = String(Math.ceil(delay / 1000));
  }
  if (status === 402 || (status === 429 && quotaVerdict(readErrorDetails(upstream)).hard)) {
    headers["x-should-retry"] = "false";
  }
  const message = upstream?.error.message || ge.message || "Unknown error.";
  return {
    status: row?.status ?? status,
    headers,
    body: { type: "error", error: { type, message }, request_id: `req_${randomAlnum(24)}` },
  };
}

/** Builds a JSON `Response` with Anthropic's error envelope for any error. */
export function anthropicErrorResponse(err: unknown): Response {
  const { status, body, headers } = toAnthropicError(err);
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, "content-type": "application/json", "request-id": body.request_id },
  });
}
