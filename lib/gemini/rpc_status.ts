/**
 * Google's error envelope (`google.rpc.Status` as JSON), its parser, and the one reader of its typed
 * `details` (ErrorInfo, QuotaFailure, RetryInfo, BadRequest, Help, LocalizedMessage) that the pool's
 * classification, every dialect's error mapping and the admin UI use. Every Gemini API error comes back
 * as `{"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED", "details": [...]}}`.
 *
 * Vertex AI (express-mode keys) answers in the same envelope; its quota errors carry no QuotaFailure
 * detail, only a sentence, read by {@link vertexQuotaMetric} and {@link vertexSharedCapacity}.
 *
 * Sources: https://ai.google.dev/gemini-api/docs/troubleshooting,
 * https://cloud.google.com/apis/design/errors#error_model and the detail messages in
 * https://github.com/googleapis/googleapis/blob/master/google/rpc/error_details.proto; real bodies in
 * wire reference part D.
 *
 * @module
 */

/** A `google.rpc.Status` error body as Google sends it. */
export interface GoogleErrorBody {
  error: {
    code: number;
    message: string;
    status: string;
    details?: Array<Record<string, unknown>>;
  };
}

/** Parses a body as a Google error envelope; returns null when it is not one. */
export function parseGoogleError(text: string): GoogleErrorBody | null {
  try {
    const v = JSON.parse(text);
    // Some endpoints wrap the envelope in an array.
    const obj = Array.isArray(v) ? v[0] : v;
    if (obj && typeof obj === "object" && obj.error && typeof obj.error === "object") {
      const e = obj.error;
      return {
        error: {
          code: Number(e.code) || 0,
          message: String(e.message ?? ""),
          status: String(e.status ?? ""),
          details: Array.isArray(e.details) ? e.details : undefined,
        },
      };
    }
  } catch {
    // not JSON
  }
  return null;
}

/** `google.rpc.ErrorInfo`: a machine-readable reason (`API_KEY_INVALID`, `API_KEY_SERVICE_BLOCKED`, ...). */
export interface ErrorInfo {
  reason: string;
  /** e.g. `googleapis.com`. */
  domain: string;
  /** e.g. `{service: "generativelanguage.googleapis.com", consumer: "projects/123"}`. */
  metadata: Record<string, string>;
}

/** One `google.rpc.QuotaFailure.violations[]` entry. Gemini fills the `quota*` fields. */
export interface QuotaViolation {
  subject?: string;
  description?: string;
  /** e.g. `generativelanguage.googleapis.com/generate_content_free_tier_requests`. */
  quotaMetric?: string;
  /** e.g. `GenerateRequestsPerMinutePerProjectPerModel-FreeTier`. */
  quotaId?: string;
  /** e.g. `{location: "global", model: "gemini-2.5-pro"}`. */
  quotaDimensions?: Record<string, string>;
  /** The limit as Google writes it: a decimal string; `"0"` means no entitlement at all. */
  quotaValue?: string;
  futureQuotaValue?: string;
}

/** One `google.rpc.BadRequest.fieldViolations[]` entry. */
export interface FieldViolation {
  /** Dotted path of the offending field; absent when the whole request is wrong. */
  field?: string;
  description: string;
  reason?: string;
}

/** One `google.rpc.Help.links[]` entry. */
export interface HelpLink {
  description: string;
  url: string;
}

/** Everything the `details` of a Google error say, read once. Absent details give empty lists. */
export interface ErrorDetails {
  errorInfo?: ErrorInfo;
  quotaViolations: QuotaViolation[];
  /** `RetryInfo.retryDelay` in ms (rounded up), when a RetryInfo detail is present and readable. */
  retryDelayMs?: number;
  fieldViolations: FieldViolation[];
  helpLinks: HelpLink[];
  /** `LocalizedMessage.message`, when present. */
  localizedMessage?: { locale: string; message: string };
  /**
   * The "Quota exceeded for metric: …, limit: N, model: …" lines of a 429's message, when it has any.
   * Google writes the limit only there for models a project has no free tier for: the violations
   * then carry no `quotaValue` (wire notes, "No access without quotaValue").
   */
  messageQuotas?: MessageQuota[];
}

/** One "Quota exceeded for metric: <metric>, limit: <n>, model: <model>" line of a 429 message. */
export interface MessageQuota {
  /** e.g. `generativelanguage.googleapis.com/generate_content_free_tier_requests`. */
  quotaMetric: string;
  /** The limit as a number; 0 means the project has no entitlement for the model. */
  limit: number;
  /** Bare model id, when the line names one. */
  model?: string;
}

const QUOTA_LINE = /Quota exceeded for metric:\s*([^\s,]+),\s*limit:\s*(\d+)(?:,\s*model:\s*([^\s,]+))?/g;

/** The quota lines of a Google error message (see {@link ErrorDetails.messageQuotas}). */
export function messageQuotas(message: string): MessageQuota[] {
  const out: MessageQuota[] = [];
  for (const m of message.matchAll(QUOTA_LINE)) {
    out.push(dropUndefined({ quotaMetric: m[1], limit: Number(m[2]), model: m[3] }));
  }
  return out;
}

const RPC_TYPE = "type.googleapis.com/google.rpc.";

type Detail = Record<string, unknown>;

const isObj = (v: unknown): v is Detail => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => typeof v === "string" ? v : undefined;
const strOrNum = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isObj(v)) return undefined;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

function objects(v: unknown): Detail[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

/** The `details` array of a Google error body, whatever its static type (unknown JSON allowed). */
function detailsOf(body: unknown): Detail[] {
  const error = isObj(body) ? body.error : undefined;
  return isObj(error) ? objects(error.details) : [];
}

/** Short type name of a detail: `"google.rpc.QuotaFailure"` → `"QuotaFailure"`. */
function typeOf(d: Detail): string {
  const t = String(d["@type"] ?? "");
  return t.startsWith(RPC_TYPE) ? t.slice(RPC_TYPE.length) : t.slice(t.lastIndexOf(".") + 1);
}

/**
 * Reads the typed `details` of a Google error body (a {@link GoogleErrorBody}, or any parsed JSON:
 * non-envelopes give empty details). Unknown detail types and malformed entries are skipped; never
 * throws.
 */
export function readErrorDetails(body: unknown): ErrorDetails {
  const out: ErrorDetails = { quotaViolations: [], fieldViolations: [], helpLinks: [] };
  for (const d of detailsOf(body)) {
    switch (typeOf(d)) {
      case "ErrorInfo":
        out.errorInfo ??= {
          reason: str(d.reason) ?? "",
          domain: str(d.domain) ?? "",
          metadata: stringMap(d.metadata) ?? {},
        };
        break;
      case "QuotaFailure":
        for (const v of objects(d.violations)) {
          out.quotaViolations.push(dropUndefined({
            subject: str(v.subject),
            description: str(v.description),
            quotaMetric: str(v.quotaMetric),
            quotaId: str(v.quotaId),
            quotaDimensions: stringMap(v.quotaDimensions),
            quotaValue: strOrNum(v.quotaValue),
            futureQuotaValue: strOrNum(v.futureQuotaValue),
          }));
        }
        break;
      case "RetryInfo":
        out.retryDelayMs ??= parseDuration(d.retryDelay);
        break;
      case "BadRequest":
        for (const v of objects(d.fieldViolations)) {
          out.fieldViolations.push(dropUndefined({
            field: str(v.field),
            description: str(v.description) ?? "invalid value",
            reason: str(v.reason),
          }));
        }
        break;
      case "Help":
        for (const l of objects(d.links)) {
          const url = str(l.url);
          if (url) out.helpLinks.push({ description: str(l.description) ?? "", url });
        }
        break;
      case "LocalizedMessage":
        if (str(d.message)) {
          out.localizedMessage ??= { locale: str(d.locale) ?? "", message: str(d.message)! };
        }
        break;
    }
  }
  if (out.retryDelayMs === undefined) delete out.retryDelayMs;
  const error = isObj(body) ? body.error : undefined;
  const quotas = isObj(error) && typeof error.message === "string" ? messageQuotas(error.message) : [];
  if (quotas.length) out.messageQuotas = quotas;
  return out;
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * Parses a protobuf Duration in its JSON form (`"37s"`, `"1.5s"`, `"0.250s"`) to whole milliseconds,
 * rounded up. Returns undefined for anything else.
 *
 * Source: https://protobuf.dev/reference/protobuf/google.protobuf/#duration
 */
export function parseDuration(text: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(String(text ?? "").trim());
  return m ? Math.ceil(Number(m[1]) * 1000) : undefined;
}

/**
 * How long Google asks the caller to wait, in ms: `RetryInfo.retryDelay`, else the
 * "Please retry in 12.5s." sentence of a 429 message; undefined when neither is there.
 */
export function retryDelayMs(body: GoogleErrorBody | null | undefined): number | undefined {
  const fromInfo = readErrorDetails(body).retryDelayMs;
  if (fromInfo !== undefined) return fromInfo;
  const m = /retry in (\d+(?:\.\d+)?)\s*s/i.exec(body?.error.message ?? "");
  return m ? Math.ceil(Number(m[1]) * 1000) : undefined;
}

/** The window a quota violation counts in, from its `quotaId` (`...PerDay...`, `...PerMinute...`). */
export function quotaWindow(v: QuotaViolation): "day" | "minute" | undefined {
  const id = v.quotaId ?? "";
  if (/PerDay/i.test(id)) return "day";
  if (/PerMinute/i.test(id)) return "minute";
  return undefined;
}

/** True when a violation counts requests (`GenerateRequestsPer...`), not tokens. */
export function countsRequests(v: QuotaViolation): boolean {
  return /Requests/i.test(v.quotaId ?? "");
}

/** The quota violations that decide what a 429 means. */
export interface QuotaVerdict {
  /** A violation with `quotaValue` 0: the project has no entitlement for the model at all. */
  zero?: QuotaViolation;
  /** A per-day violation: waiting `retryDelay` does not help until the next Pacific midnight. */
  daily?: QuotaViolation;
  /** A per-minute violation. */
  minute?: QuotaViolation;
  /** True for `zero` or `daily`: retrying soon is pointless. */
  hard: boolean;
}

/**
 * Sorts a 429's QuotaFailure violations into no-entitlement, per-day and per-minute ones. A violation
 * has no entitlement when its `quotaValue` is 0, or when it has no `quotaValue` and the message gives
 * its metric `limit: 0` (what Google sends today for models without a free tier); a 429 without
 * violations whose message says `limit: 0` is one too.
 */
export function quotaVerdict(details: ErrorDetails): QuotaVerdict {
  const v = details.quotaViolations;
  const zeroMetrics = new Set(
    (details.messageQuotas ?? []).filter((q) => q.limit === 0).map((q) => q.quotaMetric),
  );
  const zero = v.find((x) => x.quotaValue === "0") ??
    v.find((x) => x.quotaValue === undefined && zeroMetrics.has(x.quotaMetric ?? "")) ??
    (v.length === 0 && zeroMetrics.size ? { quotaMetric: [...zeroMetrics][0], quotaValue: "0" } : undefined);
  const daily = v.find((x) => quotaWindow(x) === "day");
  const minute = v.find((x) => quotaWindow(x) === "minute");
  return { zero, daily, minute, hard: zero !== undefined || daily !== undefined };
}

/**
 * True when Google says the API key itself is bad: ErrorInfo reason `API_KEY_INVALID` (sent with HTTP
 * 400 for invalid and expired keys), or a body without details saying "API key not valid" / "API key
 * expired".
 */
export function apiKeyInvalid(body: GoogleErrorBody | null | undefined): boolean {
  return readErrorDetails(body).errorInfo?.reason === "API_KEY_INVALID" ||
    /API key (not valid|expired)/i.test(body?.error.message ?? "");
}

/**
 * The quota metric a Vertex AI 429 names in its sentence ("Quota exceeded for
 * aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base
 * model: gemini-pro. Please submit a quota increase request."), e.g.
 * `generate_content_requests_per_minute_per_project_per_base_model`; undefined for other bodies.
 *
 * Source: https://cloud.google.com/vertex-ai/generative-ai/docs/quotas (quota names), sentences seen in
 * GoogleCloudPlatform/Open_Data_QnA#61 and langchain-ai/langchain-google#283.
 */
export function vertexQuotaMetric(body: GoogleErrorBody | null | undefined): string | undefined {
  return /Quota exceeded for aiplatform\.googleapis\.com\/([A-Za-z0-9_]+)/.exec(body?.error.message ?? "")
    ?.[1];
}

/**
 * True for Vertex AI's 429 of its dynamic shared quota ("Resource exhausted. Please try again later.
 * Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more
 * details."): Google's shared capacity was busy, not the project's own quota.
 *
 * Source: https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 (google-gemini/gemini-cli#14831).
 */
export function vertexSharedCapacity(body: GoogleErrorBody | null | undefined): boolean {
  return /Resource exhausted\. Please try again later|vertex-ai\/generative-ai\/docs\/error-code-429/i.test(
    body?.error.message ?? "",
  );
}

/**
 * The model id of Vertex AI's 404 "Publisher Model
 * `projects/740989871600/locations/us-central1/publishers/google/models/gemini-x` was not found or your
 * project does not have access to it." (also "... not found."); undefined for other bodies.
 *
 * Source: genkit-ai/genkit#4688, google/adk-python#833.
 */
export function publisherModelNotFound(body: GoogleErrorBody | null | undefined): string | undefined {
  return /Publisher Model `[^`]*\/models\/([^`@/]+)(?:@[^`]*)?` (?:was )?not found/.exec(
    body?.error.message ?? "",
  )
    ?.[1];
}

/**
 * The RPC method of an ErrorInfo that names one (`google.cloud.aiplatform.v1.PredictionService.Predict`
 * -> `Predict`), e.g. on Vertex AI's 401 CREDENTIALS_MISSING "API keys are not supported by this API".
 */
export function errorInfoMethod(details: ErrorDetails): string | undefined {
  const method = details.errorInfo?.metadata.method;
  return method ? method.slice(method.lastIndexOf(".") + 1) : undefined;
}
