/**
 * Formats any error as OpenAI's error envelope `{error:{message,type,param,code}}`, keeping the status
 * (and `Retry-After`) so OpenAI SDKs pick the right exception class and retry policy.
 *
 * @module
 */
import { asGatewayError } from "../http/errors.ts";
import {
  apiKeyInvalid,
  type GoogleErrorBody,
  quotaVerdict,
  readErrorDetails,
  retryDelayMs,
} from "../gemini/rpc_status.ts";

/** OpenAI's error body. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A formatted error: status, body and response headers. */
export interface OpenAIErrorParts {
  status: number;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
}

/** Default `type`/`code` per status (first match wins; `min`..`max` inclusive). */
const STATUS_TABLE: Array<{ min: number; max: number; type: string; code: string | null }> = [
  { min: 401, max: 401, type: "invalid_request_error", code: "invalid_api_key" },
  { min: 403, max: 403, type: "permission_error", code: null },
  { min: 404, max: 404, type: "invalid_request_error", code: "model_not_found" },
  { min: 429, max: 429, type: "requests", code: "rate_limit_exceeded" },
  { min: 400, max: 499, type: "invalid_request_error", code: null },
  { min: 500, max: 599, type: "server_error", code: null },
];

/** Seconds to wait, rounded up, from RetryInfo or the "Please retry in 12.5s." text. */
function retryAfterFrom(upstream: GoogleErrorBody | undefined): string | undefined {
  const ms = retryDelayMs(upstream);
  return ms === undefined ? undefined : String(Math.ceil(ms / 1000));
}

/** Maps any thrown value to OpenAI's status, envelope and headers. */
export function toOpenAIError(err: unknown): OpenAIErrorParts {
  const ge = asGatewayError(err);
  const upstream = ge.options.upstream;
  let status = ge.status as number;
  const details = readErrorDetails(upstream);
  if (status === 400 && apiKeyInvalid(upstream)) status = 401;
  // Prepaid credits used up (402) and daily / zero quotas: OpenAI's "insufficient_quota", not worth retrying.
  const noQuota = status === 402 || (status === 429 && quotaVerdict(details).hard);
  if (status === 402) status = 429;
  const row = STATUS_TABLE.find((r) => status >= r.min && status <= r.max) ??
    { type: "api_error", code: null };
  const headers: Record<string, string> = { ...ge.options.headers };
  if (status === 429) {
    const retry = retryAfterFrom(upstream);
    if (retry && !Object.keys(headers).some((h) => h.toLowerCase() === "retry-after")) {
      headers["retry-after"] = retry;
    }
  }
  if (noQuota) headers["x-should-retry"] = "false";
  const type = noQuota ? "insufficient_quota" : row.type;
  const code = ge.options.code ?? (noQuota ? "insufficient_quota" : row.code);
  const message = upstream?.error.message || ge.message || "Unknown error.";
  return {
    status,
    headers,
    body: {
      error: {
        message,
        type,
        param: ge.options.param ?? details.fieldViolations[0]?.field ?? null,
        code,
      },
    },
  };
}

/** Builds a JSON `Response` with OpenAI's error envelope for any error. */
export function openAIErrorResponse(err: unknown): Response {
  const { status, body, headers } = toOpenAIError(err);
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, "content-type": "application/json" },
  });
}
