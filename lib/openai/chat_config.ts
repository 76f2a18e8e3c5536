/**
 * Declarative OpenAI -> Gemini `generationConfig` mapping, `reasoning_effort` -> `thinkingConfig` (by
 * model family, see ../gemini/thinking.ts), and the Google-specific `extra_body.google` options.
 * OpenAI-only fields (penalties, logit_bias, user, ...) are never forwarded: Gemini rejects unknown
 * fields and most models 400 on penalties.
 *
 * @module
 */
import { camelKeys } from "../features/wire_case.ts";
import { thinkingForEffort } from "../gemini/thinking.ts";
import { toGeminiJsonSchema } from "../gemini/json_schema.ts";
import type {
  GeminiGenerateContentRequest,
  GeminiGenerationConfig,
  GeminiSafetySetting,
} from "../gemini/types.ts";
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
    // Local $refs inlined: Gemini refuses a $ref next to other keywords.
    return {
      responseMimeType: "application/json",
      ...(js?.schema ? { responseJsonSchema: toGeminiJsonSchema(js.schema) } : {}),
    };
  },
};

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
    const tc = thinkingForEffort(model, req.reasoning_effort);
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
  // Passed on as the client wrote them (camelCased); Google validates category and threshold.
  if (google.safety_settings) {
    top.safetySettings = google.safety_settings.map(camelKeys) as GeminiSafetySetting[];
  }
  if (google.cached_content) top.cachedContent = google.cached_content;
  return { generationConfig: Object.keys(cfg).length ? cfg : undefined, top, includeThoughts };
}
