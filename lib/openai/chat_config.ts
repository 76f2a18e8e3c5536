/**
 * Declarative OpenAI -> Gemini `generationConfig` mapping, `reasoning_effort` -> `thinkingConfig`, and
 * the Google-specific `extra_body.google` options. OpenAI-only fields (penalties, logit_bias, user, ...) are
 * never forwarded: Gemini rejects unknown fields and most models 400 on penalties.
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import type { GeminiGenerateContentRequest, GeminiGenerationConfig } from "../gemini/types.ts";
import type { ChatRequest } from "./schemas.ts";

type Rule = {
  from: keyof ChatRequest;
  to: keyof GeminiGenerationConfig;
  map?: (v: unknown) => unknown;
};

/** Field -> target table for plain generation settings (first non-null source wins per target). */
export const GENERATION_RULES: Rule[] = [
  { from: "temperature", to: "temperature" },
  { from: "top_p", to: "topP" },
  { from: "top_k", to: "topK" },
  { from: "n", to: "candidateCount" },
  { from: "stop", to: "stopSequences", map: (v) => (typeof v === "string" ? [v] : v) },
  { from: "max_completion_tokens", to: "maxOutputTokens" },
  { from: "max_tokens", to: "maxOutputTokens" },
  { from: "seed", to: "seed" },
  { from: "logprobs", to: "responseLogprobs", map: (v) => (v === true ? true : undefined) },
  { from: "top_logprobs", to: "logprobs", map: (v) => (v === 0 ? undefined : v) },
];

/** `response_format.type` -> generation config additions. */
const RESPONSE_FORMATS: Record<string, (rf: Record<string, unknown>) => Partial<GeminiGenerationConfig>> = {
  text: () => ({}),
  json_object: () => ({ responseMimeType: "application/json" }),
  json_schema: (rf) => {
    const js = rf.json_schema as { schema?: unknown } | undefined;
    return { responseMimeType: "application/json", ...(js?.schema ? { responseJsonSchema: js.schema } : {}) };
  },
};

/** Thinking levels for Gemini 3 models per effort; `pro3` = gemini-3-pro (LOW/HIGH only). */
const LEVELS: Record<string, { pro3: string; other: string }> = {
  none: { pro3: "LOW", other: "MINIMAL" },
  minimal: { pro3: "LOW", other: "MINIMAL" },
  low: { pro3: "LOW", other: "LOW" },
  medium: { pro3: "HIGH", other: "MEDIUM" },
  high: { pro3: "HIGH", other: "HIGH" },
  xhigh: { pro3: "HIGH", other: "HIGH" },
  max: { pro3: "HIGH", other: "HIGH" },
};

/** Gemini 2.5 budgets per effort (Google's compat table), clamped per model below. */
const BUDGETS: Record<string, number> = {
  none: 0,
  minimal: 1024,
  low: 1024,
  medium: 8192,
  high: 24576,
  xhigh: 32768,
  max: 32768,
};

/** Budget ranges per 2.5 family (`min` is the smallest non-zero budget; `canDisable` allows 0). */
const BUDGET_RANGES: Array<{ test: RegExp; min: number; max: number; canDisable: boolean }> = [
  { test: /pro/, min: 128, max: 32768, canDisable: false },
  { test: /flash-lite/, min: 512, max: 24576, canDisable: true },
  { test: /./, min: 1, max: 24576, canDisable: true },
];

/** Maps `reasoning_effort` for `model`; undefined when the model has no thinking controls. */
export function thinkingFor(model: string, effort: string): GeminiGenerationConfig["thinkingConfig"] {
  const e = effort.toLowerCase();
  if (/^gemini-3/.test(model)) {
    const row = LEVELS[e];
    if (!row) throw badEffort(effort);
    return { thinkingLevel: /^gemini-3-pro/.test(model) ? row.pro3 : row.other };
  }
  if (/^gemini-2\.5/.test(model)) {
    const budget = BUDGETS[e];
    if (budget === undefined) throw badEffort(effort);
    const range = BUDGET_RANGES.find((r) => r.test.test(model))!;
    const b = budget === 0 && range.canDisable ? 0 : Math.min(range.max, Math.max(range.min, budget));
    return { thinkingBudget: b };
  }
  return undefined;
}

function badEffort(effort: string): GatewayError {
  return new GatewayError(
    400,
    `Invalid reasoning_effort '${effort}': use one of ${Object.keys(LEVELS).join(", ")}.`,
    { param: "reasoning_effort", code: "invalid_value" },
  );
}

/** snake_case -> camelCase for one key. */
function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Converts the keys of a flat object to camelCase (values untouched). */
export function camelKeys(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [camel(k), v]));
}

/** The Google extras (`google` at the root, or `extra_body.google`). */
function googleExtras(req: ChatRequest) {
  return { ...(req.extra_body?.google ?? {}), ...(req.google ?? {}) };
}

/** Result of {@link mapGenerationConfig}. */
export interface ConfigMapping {
  generationConfig?: GeminiGenerationConfig;
  /** Extra top-level request fields (safetySettings, cachedContent). */
  top: Partial<GeminiGenerateContentRequest>;
  /** True when thought summaries should be returned as `reasoning_content`. */
  includeThoughts: boolean;
}

/** Builds `generationConfig` and Google extras for a chat request against bare model id `model`. */
export function mapGenerationConfig(req: ChatRequest, model: string): ConfigMapping {
  const cfg: GeminiGenerationConfig = {};
  for (const rule of GENERATION_RULES) {
    const v = req[rule.from];
    if (v == null || cfg[rule.to] !== undefined) continue;
    const mapped = rule.map ? rule.map(v) : v;
    if (mapped !== undefined) cfg[rule.to] = mapped;
  }
  if (req.response_format) {
    Object.assign(cfg, RESPONSE_FORMATS[req.response_format.type](req.response_format));
  }

  const google = googleExtras(req);
  let includeThoughts = false;
  if (req.reasoning_effort) {
    const tc = thinkingFor(model, req.reasoning_effort);
    if (tc) {
      includeThoughts = req.reasoning_effort !== "none";
      cfg.thinkingConfig = includeThoughts ? { ...tc, includeThoughts: true } : tc;
    }
  }
  if (google.thinking_config) {
    // Explicit Google thinking settings win over reasoning_effort (Gemini 400s when both budget and level are set).
    const tc = camelKeys(google.thinking_config) as GeminiGenerationConfig["thinkingConfig"] & object;
    if (typeof tc.thinkingLevel === "string") tc.thinkingLevel = tc.thinkingLevel.toUpperCase();
    cfg.thinkingConfig = tc;
    includeThoughts = tc.includeThoughts === true;
  }
  const top: Partial<GeminiGenerateContentRequest> = {};
  if (google.safety_settings) top.safetySettings = google.safety_settings.map(camelKeys);
  if (google.cached_content) top.cachedContent = google.cached_content;
  return { generationConfig: Object.keys(cfg).length ? cfg : undefined, top, includeThoughts };
}
