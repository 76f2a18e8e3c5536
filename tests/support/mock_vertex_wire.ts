/**
 * Vertex AI's wire format for the mock Vertex upstream: its error envelopes (as real Vertex answers
 * express-mode keys, from public issue threads and Firebase's `vertexai-sdk-test-data`) and the fields
 * its answers add to or lack from the Gemini API's.
 *
 * @module
 */
import { googleError } from "./mock_gemini_http.ts";
import { arrayField, isObject, type Json } from "./mock_gemini_util.ts";

const RPC = "type.googleapis.com/google.rpc.";
const SERVICE = "aiplatform.googleapis.com";

/** The RPC method Vertex names in ErrorInfo metadata, e.g. `google.cloud.aiplatform.v1.PredictionService.Predict`. */
export function vertexRpcMethod(version: string, method: string): string {
  return `google.cloud.aiplatform.${version}.PredictionService.${method[0].toUpperCase()}${method.slice(1)}`;
}

/** 400 API_KEY_INVALID, with Vertex's service in the ErrorInfo (Firebase `vertexai/unary-failure-api-key.json`). */
export function vertexInvalidKey(): Response {
  return googleError({
    code: 400,
    status: "INVALID_ARGUMENT",
    message: "API key not valid. Please pass a valid API key.",
    details: [
      {
        "@type": RPC + "ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com",
        metadata: { service: SERVICE },
      },
      {
        "@type": RPC + "LocalizedMessage",
        locale: "en-US",
        message: "API key not valid. Please pass a valid API key.",
      },
    ],
  });
}

/**
 * 401 CREDENTIALS_MISSING: an API key where Vertex wants OAuth (a key not enabled for express mode, or a
 * method express mode does not open to keys). Body as in SillyTavern/SillyTavern#4223.
 */
export function vertexKeysNotSupported(rpcMethod: string): Response {
  return googleError({
    code: 401,
    status: "UNAUTHENTICATED",
    message:
      "API keys are not supported by this API. Expected OAuth2 access token or other authentication credentials that assert a principal. See https://cloud.google.com/docs/authentication",
    details: [{
      "@type": RPC + "ErrorInfo",
      reason: "CREDENTIALS_MISSING",
      domain: "googleapis.com",
      metadata: { method: rpcMethod, service: SERVICE },
    }],
  });
}

/** 401 for a request without any key. */
export function vertexNoCredential(rpcMethod: string): Response {
  return googleError({
    code: 401,
    status: "UNAUTHENTICATED",
    message:
      "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    details: [{
      "@type": RPC + "ErrorInfo",
      reason: "CREDENTIALS_MISSING",
      domain: "googleapis.com",
      metadata: { method: rpcMethod, service: SERVICE },
    }],
  });
}

/** 403 SERVICE_DISABLED: the key's project has not enabled the Vertex AI API. */
export function vertexServiceDisabled(project: string): Response {
  return googleError({
    code: 403,
    status: "PERMISSION_DENIED",
    message:
      `Vertex AI API has not been used in project ${project} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=${project} then retry.`,
    details: [{
      "@type": RPC + "ErrorInfo",
      reason: "SERVICE_DISABLED",
      domain: "googleapis.com",
      metadata: { consumer: `projects/${project}`, service: SERVICE },
    }],
  });
}

/** 403 CONSUMER_SUSPENDED; Google quotes the key ("Consumer 'api_key:…' has been suspended."). */
export function vertexSuspended(o: { key: string; project: string }): Response {
  return googleError({
    code: 403,
    status: "PERMISSION_DENIED",
    message: `Permission denied: Consumer 'api_key:${o.key}' has been suspended.`,
    details: [{
      "@type": RPC + "ErrorInfo",
      reason: "CONSUMER_SUSPENDED",
      domain: "googleapis.com",
      metadata: { consumer: `projects/${o.project}`, service: SERVICE },
    }],
  });
}

/** 429 of Vertex's dynamic shared quota (google-gemini/gemini-cli#14831): no details. */
export function vertexSharedQuota(): Response {
  return googleError({
    code: 429,
    status: "RESOURCE_EXHAUSTED",
    message:
      "Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
  });
}

/** 429 of a project quota, in Vertex's sentence (GoogleCloudPlatform/Open_Data_QnA#61). */
export function vertexProjectQuota(model: string, window: "minute" | "day"): Response {
  return googleError({
    code: 429,
    status: "RESOURCE_EXHAUSTED",
    message:
      `Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_${window}_per_project_per_base_model with base model: ${model}. Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.`,
  });
}

/** 404 for a model the project cannot use (genkit-ai/genkit#4688). */
export function vertexModelNotFound(project: string, model: string): Response {
  return googleError({
    code: 404,
    status: "NOT_FOUND",
    message:
      `Publisher Model \`projects/${project}/locations/global/publishers/google/models/${model}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`,
  });
}

/** 400 INVALID_ARGUMENT with Vertex's wording. */
export function vertexInvalid(message: string): Response {
  return googleError({ code: 400, status: "INVALID_ARGUMENT", message });
}

/** Vertex adds scores and severities to each safety rating. */
function scoredRatings(ratings: unknown): unknown {
  if (!Array.isArray(ratings)) return ratings;
  return ratings.map((r) =>
    isObject(r)
      ? { ...r, probabilityScore: 0.05, severity: "HARM_SEVERITY_NEGLIGIBLE", severityScore: 0.03 }
      : r
  );
}

/**
 * A Gemini API answer (the shared reply builder's) in Vertex's shape: `createTime`, safety scores and
 * severities, `usageMetadata.trafficType`; on a stream's intermediate events the usage carries only the
 * traffic type (Firebase `vertexai/streaming-success-basic-reply-long.txt`).
 */
export function asVertexAnswer(gemini: Json, o: { createTime: string; finalUsage: boolean }): Json {
  const out: Json = { ...gemini, createTime: o.createTime };
  if (isObject(out.promptFeedback)) {
    out.promptFeedback = {
      ...out.promptFeedback,
      safetyRatings: scoredRatings(out.promptFeedback.safetyRatings),
    };
  }
  out.candidates = arrayField(out, "candidates").map((c) =>
    isObject(c) && c.safetyRatings ? { ...c, safetyRatings: scoredRatings(c.safetyRatings) } : c
  );
  if (!arrayField(gemini, "candidates").length) delete out.candidates;
  out.usageMetadata = o.finalUsage && isObject(gemini.usageMetadata)
    ? { ...gemini.usageMetadata, trafficType: "ON_DEMAND" }
    : { trafficType: "ON_DEMAND" };
  return out;
}
