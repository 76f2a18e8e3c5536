/**
 * Classifies every upstream outcome into what the pool must do with the key and the request. Google's
 * error details are read by the one reader in ../gemini/rpc_status.ts (shapes: wire reference part D).
 * Vertex AI's answers (express-mode keys) that mean something else than the Gemini API's same status
 * are rows of {@link VERTEX_ROWS}, recognised by their body, tried first.
 *
 * @module
 */
import {
  apiKeyInvalid,
  countsRequests,
  errorInfoMethod,
  type GoogleErrorBody,
  publisherModelNotFound,
  quotaVerdict,
  readErrorDetails,
  retryDelayMs,
  vertexQuotaMetric,
  vertexSharedCapacity,
} from "../gemini/rpc_status.ts";
import { expressModel } from "../vertex/express_models.ts";
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

/** One Vertex AI answer the pool reads its own way. */
interface VertexRow {
  status: number;
  /** The verdict when the body is this row's answer, else undefined. */
  verdict(input: ClassifyInput): Verdict | undefined;
  /** Where the answer was seen or documented. */
  source: string;
}

/** RPC methods of Vertex AI express mode that take an API key. */
const EXPRESS_KEY_METHODS = /^(GenerateContent|StreamGenerateContent|CountTokens)$/;

/** Vertex AI answers (express-mode keys) whose meaning differs from the Gemini API's same status. */
export const VERTEX_ROWS: readonly VertexRow[] = [
  {
    // "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model ..."
    status: 429,
    verdict({ body, now, defaultCooldownMs }) {
      const metric = vertexQuotaMetric(body);
      if (!metric) return undefined;
      if (/per_day/.test(metric)) {
        return {
          kind: "cooldown",
          window: "day",
          until: nextPacificMidnight(now),
          reason: `daily quota reached (${metric})`,
        };
      }
      const delay = retryDelayMs(body) ?? defaultCooldownMs;
      return {
        kind: "cooldown",
        window: "minute",
        until: now + Math.max(delay, 1000),
        reason: `quota reached (${metric})`,
      };
    },
    source: "https://cloud.google.com/vertex-ai/generative-ai/docs/quotas",
  },
  {
    // Dynamic shared quota: Google's capacity for the model was busy; another project may get through.
    status: 429,
    verdict({ body, now, defaultCooldownMs }) {
      if (!vertexSharedCapacity(body)) return undefined;
      const delay = retryDelayMs(body) ?? defaultCooldownMs;
      return {
        kind: "cooldown",
        window: "minute",
        until: now + Math.max(delay, 1000),
        reason: "Vertex AI shared capacity exhausted (429 RESOURCE_EXHAUSTED)",
      };
    },
    source: "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429",
  },
  {
    // 401 CREDENTIALS_MISSING "API keys are not supported by this API" for a method express mode does not
    // open to API keys: the key is fine, that method (so that model, for this key) is not.
    status: 401,
    verdict({ body }) {
      const details = readErrorDetails(body);
      const method = errorInfoMethod(details);
      if (
        details.errorInfo?.reason !== "CREDENTIALS_MISSING" || !method || EXPRESS_KEY_METHODS.test(method)
      ) {
        return undefined;
      }
      return {
        kind: "no_access",
        reason: `Vertex AI takes no API key for ${method}: ${body?.error.message}`,
      };
    },
    source: "SillyTavern/SillyTavern#4223, googleapis/python-genai#1404 (ErrorInfo metadata.method)",
  },
  {
    // "Publisher Model `projects/…/publishers/google/models/{id}` was not found or your project does not have
    // access to it.": a model Vertex express lists is missing for this project; an unknown one is the caller's.
    status: 404,
    verdict({ body }) {
      const model = publisherModelNotFound(body);
      if (!model) return undefined;
      if (!expressModel(model)) return { kind: "client_error" };
      return { kind: "no_access", reason: `this project has no access to ${model} on Vertex AI (404)` };
    },
    source: "genkit-ai/genkit#4688, google/adk-python#833",
  },
];

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
  for (const row of VERTEX_ROWS) {
    const verdict = row.status === status ? row.verdict(input) : undefined;
    if (verdict) return verdict;
  }
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
