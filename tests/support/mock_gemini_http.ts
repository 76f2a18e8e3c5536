/**
 * Response helpers for the mock Gemini upstream: Google's response headers and the exact
 * `google.rpc.Status` error envelopes (wire reference part D).
 *
 * @module
 */

/** `@type` prefix of every google.rpc detail. */
const RPC = "type.googleapis.com/google.rpc.";
const SERVICE = "generativelanguage.googleapis.com";
const RATE_LIMIT_DOC = "https://ai.google.dev/gemini-api/docs/rate-limits";

/** Headers Google puts on every answer. */
export function googleHeaders(contentType = "application/json; charset=UTF-8"): Headers {
  return new Headers({
    "content-type": contentType,
    "server": "scaffolding on HTTPServer2",
    "vary": "Origin, X-Origin, Referer",
    "server-timing": "gfet4t7; dur=42",
    "x-xss-protection": "0",
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "nosniff",
  });
}

/** A unary JSON answer with Google's headers (pretty-printed like Google does). */
export function jsonResponse(
  body: unknown,
  init: { status?: number; headers?: Record<string, string> } = {},
) {
  const headers = googleHeaders();
  for (const [k, v] of Object.entries(init.headers ?? {})) headers.set(k, v);
  return new Response(JSON.stringify(body, null, 2) + "\n", { status: init.status ?? 200, headers });
}

/** Fields of one google.rpc.Status error. */
export interface GoogleErrorSpec {
  /** HTTP status, repeated as `error.code`. */
  code: number;
  /** Canonical code, e.g. `INVALID_ARGUMENT`. */
  status: string;
  /** Human text. */
  message: string;
  /** `details[]` entries (each with `@type`); omitted when empty. */
  details?: Record<string, unknown>[];
}

/** The JSON body of a Google error (`{error:{code,message,status,details?}}`). */
export function googleErrorBody(spec: GoogleErrorSpec): { error: Record<string, unknown> } {
  const error: Record<string, unknown> = { code: spec.code, message: spec.message, status: spec.status };
  if (spec.details && spec.details.length > 0) error.details = spec.details;
  return { error };
}

/** A Google error response. */
export function googleError(spec: GoogleErrorSpec): Response {
  return jsonResponse(googleErrorBody(spec), { status: spec.code });
}

function errorInfo(reason: string, metadata: Record<string, string>) {
  return { "@type": RPC + "ErrorInfo", reason, domain: "googleapis.com", metadata };
}

function localized(message: string) {
  return { "@type": RPC + "LocalizedMessage", locale: "en-US", message };
}

function badRequest(descriptions: string[]) {
  return {
    "@type": RPC + "BadRequest",
    fieldViolations: descriptions.map((description) => ({ description })),
  };
}

/** 403: request without any credential. */
export function noKeyError(): Response {
  return googleError({
    code: 403,
    status: "PERMISSION_DENIED",
    message:
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  });
}

/** 400 API_KEY_INVALID (invalid or expired key). */
export function invalidKeyError(expired: boolean): Response {
  const message = expired
    ? "API key expired. Please renew the API key."
    : "API key not valid. Please pass a valid API key.";
  return googleError({
    code: 400,
    status: "INVALID_ARGUMENT",
    message,
    details: [errorInfo("API_KEY_INVALID", { service: SERVICE }), localized(message)],
  });
}

/** Options of {@link deniedKeyError}. */
export interface DeniedOptions {
  /** Which 403 variant. */
  kind: "suspended" | "leaked" | "blocked";
  /** The key (Google quotes it in the suspended message). */
  key: string;
  /** Project number used in `consumer` metadata. */
  project: string;
  /** RPC method name, e.g. `GenerateContent`. */
  rpcMethod: string;
  /** API version from the path, e.g. `v1beta`. */
  version: string;
}

/** 403 PERMISSION_DENIED for a suspended, leaked or service-blocked key. */
export function deniedKeyError(o: DeniedOptions): Response {
  const consumer = `projects/${o.project}`;
  if (o.kind === "leaked") {
    return googleError({
      code: 403,
      status: "PERMISSION_DENIED",
      message: "Your API key was reported as leaked. Please use another API key.",
    });
  }
  if (o.kind === "suspended") {
    return googleError({
      code: 403,
      status: "PERMISSION_DENIED",
      message: `Permission denied: Consumer 'api_key:${o.key}' has been suspended.`,
      details: [errorInfo("CONSUMER_SUSPENDED", { consumer, service: SERVICE })],
    });
  }
  const methodName = `google.ai.generativelanguage.${o.version}.GenerativeService.${o.rpcMethod}`;
  const message = `Requests to this API ${SERVICE} method ${methodName} are blocked.`;
  return googleError({
    code: 403,
    status: "PERMISSION_DENIED",
    message,
    details: [
      errorInfo("API_KEY_SERVICE_BLOCKED", {
        consumer,
        service: SERVICE,
        apiName: SERVICE,
        methodName,
      }),
      localized(message),
    ],
  });
}

/** One exceeded quota, for {@link quotaError}. */
export interface QuotaViolation {
  /** e.g. `GenerateRequestsPerMinutePerProjectPerModel-FreeTier`. */
  quotaId: string;
  /** e.g. `generativelanguage.googleapis.com/generate_content_free_tier_requests`. */
  quotaMetric: string;
  /** The limit (0 = no access to the model). */
  limit: number;
}

/** Options of {@link quotaError}. */
export interface QuotaErrorOptions {
  /** Bare model id. */
  model: string;
  /** Exceeded quotas (at least one). */
  violations: QuotaViolation[];
  /** Seconds until the window resets (fractional). */
  retrySeconds: number;
}

/** The 429 RESOURCE_EXHAUSTED body for exceeded quotas, current Google shape. */
export function quotaError(o: QuotaErrorOptions): Response {
  const lines = o.violations.map((v) =>
    `\n* Quota exceeded for metric: ${v.quotaMetric}, limit: ${v.limit}, model: ${o.model}`
  ).join("");
  const seconds = Math.max(1, o.retrySeconds);
  const message = "You exceeded your current quota, please check your plan and billing details. " +
    `For more information on this error, head to: ${RATE_LIMIT_DOC}. ` +
    "To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. " +
    `${lines}\nPlease retry in ${seconds.toFixed(2)}s.`;
  return googleError({
    code: 429,
    status: "RESOURCE_EXHAUSTED",
    message,
    details: [
      {
        "@type": RPC + "QuotaFailure",
        violations: o.violations.map((v) => ({
          quotaMetric: v.quotaMetric,
          quotaId: v.quotaId,
          quotaDimensions: { location: "global", model: o.model },
          quotaValue: String(v.limit),
        })),
      },
      {
        "@type": RPC + "Help",
        links: [{ description: "Learn more about Gemini API quotas", url: RATE_LIMIT_DOC }],
      },
      { "@type": RPC + "RetryInfo", retryDelay: `${Math.max(1, Math.ceil(o.retrySeconds))}s` },
    ],
  });
}

/** 404 for an unknown model (or one that does not support `method`). */
export function modelNotFoundError(o: { model: string; version: string; method: string }): Response {
  return googleError({
    code: 404,
    status: "NOT_FOUND",
    message:
      `models/${o.model} is not found for API version ${o.version}, or is not supported for ${o.method}. Call ListModels to see the list of available models and their supported methods.`,
  });
}

/** 404 for an unknown route or resource. */
export function notFoundError(message: string): Response {
  return googleError({ code: 404, status: "NOT_FOUND", message });
}

/** 400 INVALID_ARGUMENT with a plain message (and optionally a BadRequest detail). */
export function invalidArgument(message: string, withViolation = false): Response {
  return googleError({
    code: 400,
    status: "INVALID_ARGUMENT",
    message,
    details: withViolation ? [badRequest([message])] : undefined,
  });
}

/** 400 for a body that is not JSON. */
export function invalidJsonError(reason: string): Response {
  return invalidArgument(`Invalid JSON payload received. ${reason}`, true);
}

/** 400 for unknown top-level request fields (one field violation each). */
export function unknownFieldsError(names: string[]): Response {
  const descriptions = names.map((n) =>
    `Invalid JSON payload received. Unknown name "${n}": Cannot find field.`
  );
  return googleError({
    code: 400,
    status: "INVALID_ARGUMENT",
    message: descriptions.join("\n"),
    details: [badRequest(descriptions)],
  });
}

/** 403 for a file owned by someone else (or missing). */
export function fileDeniedError(id: string): Response {
  return googleError({
    code: 403,
    status: "PERMISSION_DENIED",
    message: `You do not have permission to access the File ${id} or it may not exist.`,
  });
}

/** 403 for a cached content owned by someone else (or missing). */
export function cacheDeniedError(id: string): Response {
  return googleError({
    code: 403,
    status: "PERMISSION_DENIED",
    message: `You do not have permission to access the CachedContent ${id} or it may not exist.`,
  });
}

/** 400 for a Gemini 3 history whose function call lacks its thought signature. */
export function missingSignatureError(o: { name: string; position: number }): Response {
  return invalidArgument(
    "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:" +
      o.name + "` , position " + o.position +
      ". Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
  );
}

/** The 400 FAILED_PRECONDITION texts Google sends to projects it will not serve from where the call comes from. */
export const LOCATION_MESSAGES = {
  /** Seen since 2023 (gemini-cli#1993, snailyp/gemini-balance#328). */
  unsupported: "User location is not supported for the API use.",
  /** EU/UK/CH callers of a project without billing (EvanZhouDev/gemini-ai#16, google-gemini/cookbook#135). */
  no_billing: "User location is not supported for the API use without a billing account linked.",
  /** Free tier outside its countries (u14app/neo-chat#45); docs' troubleshooting table. */
  free_tier_country:
    "Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio.",
} as const;

/** 400 FAILED_PRECONDITION for a key whose project cannot be served from here (no details, as Google sends it). */
export function locationError(kind: keyof typeof LOCATION_MESSAGES): Response {
  return googleError({ code: 400, status: "FAILED_PRECONDITION", message: LOCATION_MESSAGES[kind] });
}

/**
 * The 429 Google sends today to a project with no free tier for a model: `limit: 0` only in the
 * message lines, violations without `quotaValue`, details in the order Help, QuotaFailure, RetryInfo
 * (bodies quoted in continuedev/continue#10032 and several public logs, 2026).
 */
export function noFreeTierError(o: { model: string; retrySeconds: number }): Response {
  const metrics = {
    tokens: "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
    requests: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
  };
  const violations = [
    [metrics.tokens, "GenerateContentInputTokensPerModelPerDay-FreeTier"],
    [metrics.requests, "GenerateRequestsPerDayPerProjectPerModel-FreeTier"],
    [metrics.requests, "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"],
    [metrics.tokens, "GenerateContentInputTokensPerModelPerMinute-FreeTier"],
  ];
  const lines = violations.map(([metric]) =>
    `\n* Quota exceeded for metric: ${metric}, limit: 0, model: ${o.model}`
  )
    .join("");
  return googleError({
    code: 429,
    status: "RESOURCE_EXHAUSTED",
    message: "You exceeded your current quota, please check your plan and billing details. " +
      `For more information on this error, head to: ${RATE_LIMIT_DOC}. ` +
      "To monitor your current usage, head to: https://ai.dev/rate-limit. " +
      `${lines}\nPlease retry in ${o.retrySeconds.toFixed(9)}s.`,
    details: [
      {
        "@type": RPC + "Help",
        links: [{ description: "Learn more about Gemini API quotas", url: RATE_LIMIT_DOC }],
      },
      {
        "@type": RPC + "QuotaFailure",
        violations: violations.map(([quotaMetric, quotaId]) => ({
          quotaMetric,
          quotaId,
          quotaDimensions: { location: "global", model: o.model },
        })),
      },
      { "@type": RPC + "RetryInfo", retryDelay: `${Math.floor(o.retrySeconds)}s` },
    ],
  });
}

/** Google's 503 texts: the classic one and the newer one (gemini-cli#5191, continuedev#10639). */
export const OVERLOADED_MESSAGES = {
  overloaded: "The model is overloaded. Please try again later.",
  high_demand:
    "This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.",
} as const;

/** Bodies of the injectable transient failures. */
const TRANSIENT: Record<500 | 503 | 504, { status: string; message: string }> = {
  500: {
    status: "INTERNAL",
    message:
      "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
  },
  503: { status: "UNAVAILABLE", message: "The model is overloaded. Please try again later." },
  504: { status: "DEADLINE_EXCEEDED", message: "Deadline expired before operation could complete." },
};

/** A 500/503/504 transient failure exactly as Google sends it (`message` replaces Google's text). */
export function transientError(code: 500 | 503 | 504, message?: string): Response {
  return googleError({ code, ...TRANSIENT[code], ...(message ? { message } : {}) });
}

/** The JSON body of a transient failure (also written into already-started streams). */
export function transientErrorBody(code: 500 | 503 | 504): { error: Record<string, unknown> } {
  return googleErrorBody({ code, ...TRANSIENT[code] });
}
