/**
 * Classifies every upstream outcome into what the pool must do with the key and the request. Google's
 * error details are read by the one reader in ../gemini/rpc_status.ts (shapes: wire reference part D,
 * and `docs/wire_notes.md` for bodies seen since). The decisions are one table, {@link CLASSIFICATION}:
 * the first row that matches an answer decides. Vertex AI's answers (express-mode keys) that mean
 * something else than the Gemini API's same status are rows of {@link VERTEX_ROWS}, recognised by their
 * body, tried first.
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
  /**
   * The key's project cannot use the model (quota value 0, or Google refuses it from where the
   * gateway runs without billing): keep the pair out until a re-check; retry on another key.
   * `answer` is Google's answer (status and redacted body), given to clients that later find no key
   * with access, so they get the real reason.
   */
  | { kind: "no_access"; reason: string; answer?: UpstreamAnswer }
  /** The key is unusable for every model (invalid, expired, suspended, leaked, blocked). */
  | { kind: "disable"; reason: string }
  /** Google has no capacity for the model now (503): not the key's fault; retry after a short delay. */
  | { kind: "overloaded"; reason: string; retryAfterMs?: number }
  /** Not the key's fault (5xx, timeout, network): retry elsewhere; repeated ones back the key off. */
  | { kind: "transient"; reason: string };

/** An upstream error answer as the gateway keeps it: its status and its body (keys redacted). */
export interface UpstreamAnswer {
  status: number;
  /** The body text exactly as Google sent it, with API keys redacted. */
  text: string;
}

/** Inputs for {@link classify}. */
export interface ClassifyInput {
  status: number;
  body: GoogleErrorBody | null;
  now: number;
  /** Cooldown when a 429 names no delay. */
  defaultCooldownMs: number;
}

/** One row of the classification table. */
export interface ClassificationRow {
  /** What the row recognises, in Google's words. */
  name: string;
  /** True when the row decides this answer. */
  matches(input: ClassifyInput): boolean;
  /** The verdict for a matching answer. */
  verdict(input: ClassifyInput): Verdict;
}

const message = (i: ClassifyInput) => i.body?.error.message ?? "";
const errorInfoReason = (i: ClassifyInput) => readErrorDetails(i.body).errorInfo?.reason ?? "";

function keyReason(body: GoogleErrorBody | null, fallback: string): string {
  const reason = readErrorDetails(body).errorInfo?.reason;
  const msg = body?.error.message || fallback;
  return reason ? `${reason}: ${msg}` : msg;
}

function classify429(input: ClassifyInput): Verdict {
  const { body, now } = input;
  const { zero, daily, minute } = quotaVerdict(readErrorDetails(body));
  if (zero) {
    return {
      kind: "no_access",
      reason: `no quota for this model (${zero.quotaId ?? zero.quotaMetric ?? "limit 0"})`,
    };
  }
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

/** 403 messages that are about the key (its project), not about the caller's request. */
const DISABLE_403 =
  /leaked|suspend|unregistered callers|API key|blocked|has been disabled|billing|denied access|consumer/i;
/**
 * 400 FAILED_PRECONDITION messages that say the key's project cannot be served from where the
 * gateway runs: "User location is not supported for the API use[ without a billing account linked]."
 * and "Gemini API free tier is not available in your country. Please enable billing on your project
 * in Google AI Studio." Another key (a paid project) can serve the same request.
 */
const NOT_FROM_HERE =
  /location is not supported|not available in your country|enable billing|billing account/i;

/** The classification table: the first matching row decides. One test per row in tests/pool_classify_test.ts. */
export const CLASSIFICATION: readonly ClassificationRow[] = [
  {
    name: "2xx/3xx: served",
    matches: (i) => i.status >= 200 && i.status < 400,
    verdict: () => ({ kind: "ok" }),
  },
  {
    name: "429 RESOURCE_EXHAUSTED: no access (limit 0), daily or per-minute quota",
    matches: (i) => i.status === 429,
    verdict: classify429,
  },
  {
    name: "400 API_KEY_INVALID (invalid or expired key)",
    matches: (i) => i.status === 400 && apiKeyInvalid(i.body),
    verdict: (i) => ({ kind: "disable", reason: keyReason(i.body, "API key not valid") }),
  },
  {
    name: "400 FAILED_PRECONDITION: location not supported / free tier not available, enable billing",
    matches: (i) => i.status === 400 && NOT_FROM_HERE.test(message(i)),
    verdict: (i) => ({
      kind: "no_access",
      reason: `${i.body?.error.status || "FAILED_PRECONDITION"}: ${message(i)}`,
    }),
  },
  {
    name: "400: the request's own error",
    matches: (i) => i.status === 400,
    verdict: () => ({ kind: "client_error" }),
  },
  {
    name: "401 UNAUTHENTICATED",
    matches: (i) => i.status === 401,
    verdict: (i) => ({ kind: "disable", reason: keyReason(i.body, "unauthenticated (401)") }),
  },
  {
    name: "402 prepaid credit depleted",
    matches: (i) => i.status === 402,
    verdict: (i) => ({ kind: "disable", reason: keyReason(i.body, "prepaid credit depleted (402)") }),
  },
  {
    // "You do not have permission to access the File ..." is about the caller's resource, not the key.
    name: "403 no permission to access a resource (File, CachedContent)",
    matches: (i) => i.status === 403 && /permission to access/i.test(message(i)) && !errorInfoReason(i),
    verdict: () => ({ kind: "client_error" }),
  },
  {
    name: "403 PERMISSION_DENIED about the key (leaked, suspended, blocked, no credential)",
    matches: (i) => i.status === 403 && (!!errorInfoReason(i) || DISABLE_403.test(message(i)) || !message(i)),
    verdict: (i) => ({ kind: "disable", reason: keyReason(i.body, "403") }),
  },
  {
    name: "403: the request's own error",
    matches: (i) => i.status === 403,
    verdict: () => ({ kind: "client_error" }),
  },
  {
    name: "503 UNAVAILABLE: the model is overloaded (Google's capacity)",
    matches: (i) => i.status === 503,
    verdict: (i) => ({
      kind: "overloaded",
      reason: message(i) || "upstream 503",
      retryAfterMs: retryDelayMs(i.body),
    }),
  },
  {
    name: "408, 5xx: transient",
    matches: (i) => i.status === 408 || i.status >= 500,
    verdict: (i) => ({ kind: "transient", reason: message(i) || `upstream ${i.status}` }),
  },
];

/**
 * Decides what an upstream HTTP status (and its Google error body) means: a Vertex AI answer of
 * {@link VERTEX_ROWS}, else the first matching row of {@link CLASSIFICATION}.
 */
export function classify(input: ClassifyInput): Verdict {
  if (input.status >= 400) {
    for (const row of VERTEX_ROWS) {
      const verdict = row.status === input.status ? row.verdict(input) : undefined;
      if (verdict) return verdict;
    }
  }
  for (const row of CLASSIFICATION) if (row.matches(input)) return row.verdict(input);
  return { kind: "client_error" };
}
