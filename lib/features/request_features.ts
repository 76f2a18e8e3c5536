/**
 * The gateway's request features (image output, thinking, default safety settings, built-in tools),
 * each declared with where it applies, and the one function every edge's request goes through:
 * {@link applyRequestFeatures}. The cheap pre-check that lets the native edge forward a body byte for
 * byte ({@link featuresNeedBody}) is derived from the same declarations, so the two cannot drift.
 *
 * snake_case field names (`generation_config`, `google_search`, accepted by Google's REST API) are
 * normalised to camelCase on the levels the features touch, so nothing is added twice.
 *
 * Precedence (documented decision): an explicit model suffix wins over the client's body
 * (`-nothinking` overrides a client thinkingConfig budget/level); otherwise the client's body wins over
 * gateway defaults (thinkingDefaults, defaultSafetySettings, image modalities). Client fields are never
 * dropped, except a client function named `googleSearch`, which becomes the real tool, and thinking
 * values the model would refuse, which are repaired (each change is reported in `notes`).
 *
 * @module
 */
import type { ParsedModel } from "../gemini/model_names.ts";
import { modelFamily } from "../gemini/model_families.ts";
import { matchesModelList } from "../gemini/model_id.ts";
import { resolveThinkingConfig, thinkingDefaultFor } from "../gemini/thinking.ts";
import type { FeatureSettings } from "./settings.ts";
import { applyTools, SEARCH_FUNCTION_NAMES, toolList } from "./tools.ts";
import { camelizeRequestKeys } from "./wire_case.ts";
import { METHOD_BODIES, renameModel } from "../gemini/method_bodies.ts";

/** The Gemini methods whose body carries GenerateContentRequests (`lib/gemini/method_bodies.ts` says where). */
export type GenerateMethod =
  | "generateContent"
  | "streamGenerateContent"
  | "countTokens"
  | "batchGenerateContent";

/** True for a method whose body carries GenerateContentRequests. */
export function isGenerateMethod(method: string): method is GenerateMethod {
  return METHOD_BODIES[method]?.generate === true;
}

/** What a feature sees of the request besides its body. */
export interface FeatureContext {
  /** The client's model name resolved: real model plus what its suffixes ask for. */
  parsed: ParsedModel;
  settings: FeatureSettings;
}

/** One request feature and where it applies. */
export interface RequestFeature {
  name: string;
  /** True when the feature changes a request for this model whatever its body holds. */
  byModel(ctx: FeatureContext): boolean;
  /** Strings whose presence in the raw body means the feature must look at it (e.g. a client `googleSearch` function). */
  bodyMarkers?: readonly string[];
  /**
   * Changes a camelCased copy of a GenerateContentRequest (nested objects must be copied before
   * changing); returns true when it changed something.
   */
  apply(body: Record<string, unknown>, ctx: FeatureContext, notes: string[]): boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const generationConfig = (body: Record<string, unknown>): Record<string, unknown> =>
  body.generationConfig = isObj(body.generationConfig) ? { ...body.generationConfig } : {};

/** Image output: `-image` suffix or an image model adds `responseModalities: ["TEXT","IMAGE"]`. */
const imageOutput: RequestFeature = {
  name: "imageOutput",
  byModel: ({ parsed }) => parsed.image || modelFamily(parsed.model).imageOutput,
  apply(body, { parsed }) {
    if (!parsed.image && !modelFamily(parsed.model).imageOutput) return false;
    const mods = isObj(body.generationConfig) ? body.generationConfig.responseModalities : undefined;
    if (!Array.isArray(mods)) generationConfig(body).responseModalities = ["TEXT", "IMAGE"];
    else if (parsed.image && !mods.some((m) => String(m).toUpperCase() === "IMAGE")) {
      generationConfig(body).responseModalities = [...mods, "IMAGE"];
    } else return false;
    return true;
  },
};

/** Thinking: suffixes, per-prefix defaults, and repair of values the model family would refuse. */
const thinking: RequestFeature = {
  name: "thinking",
  byModel: ({ parsed, settings }) =>
    parsed.thinking !== undefined ||
    thinkingDefaultFor(parsed.model, settings.thinkingDefaults) !== undefined,
  bodyMarkers: ["thinkingBudget", "thinking_budget", "thinkingLevel", "thinking_level"],
  apply(body, { parsed, settings }, notes) {
    const gen = isObj(body.generationConfig) ? body.generationConfig : undefined;
    const client = isObj(gen?.thinkingConfig) ? gen.thinkingConfig : undefined;
    const r = resolveThinkingConfig({
      model: parsed.model,
      client,
      mode: parsed.thinking,
      defaults: settings.thinkingDefaults,
    });
    notes.push(...r.notes);
    if (r.config === undefined || r.config === client) return false;
    generationConfig(body).thinkingConfig = r.config;
    return true;
  },
};

/** `defaultSafetySettings`, added only when the client sent none. */
const safetyDefaults: RequestFeature = {
  name: "safetyDefaults",
  byModel: ({ settings }) => settings.defaultSafetySettings !== null,
  apply(body, { settings }) {
    if (body.safetySettings != null || !settings.defaultSafetySettings) return false;
    body.safetySettings = settings.defaultSafetySettings.map((s) => ({ ...s }));
    return true;
  },
};

/** Built-in tools: `-search`, a client function named `googleSearch`, code execution and URL context lists. */
const builtInTools: RequestFeature = {
  name: "builtInTools",
  byModel: ({ parsed, settings }) =>
    parsed.search || matchesModelList(parsed.model, settings.codeExecutionModels) ||
    matchesModelList(parsed.model, settings.urlContextModels),
  bodyMarkers: [...SEARCH_FUNCTION_NAMES],
  apply(body, { parsed, settings }, notes) {
    const tools = applyTools({
      tools: body.tools,
      toolConfig: body.toolConfig,
      model: parsed.model,
      search: parsed.search,
      codeExecution: matchesModelList(parsed.model, settings.codeExecutionModels),
      urlContext: matchesModelList(parsed.model, settings.urlContextModels),
    });
    notes.push(...tools.notes);
    if (!tools.changed) return false;
    if (tools.tools !== undefined) body.tools = tools.tools;
    if (tools.toolConfig !== undefined) body.toolConfig = tools.toolConfig;
    return true;
  },
};

/** Every request feature, in the order they apply. */
export const REQUEST_FEATURES: readonly RequestFeature[] = [
  imageOutput,
  thinking,
  safetyDefaults,
  builtInTools,
];

/** The raw-body markers of every feature, as bytes. */
const MARKERS: ReadonlyArray<{ feature: RequestFeature; bytes: Uint8Array[] }> = REQUEST_FEATURES
  .filter((f) => f.bodyMarkers?.length)
  .map((feature) => ({ feature, bytes: feature.bodyMarkers!.map((m) => new TextEncoder().encode(m)) }));

/** Index of `needle` in `hay`, or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  for (let i = hay.indexOf(first); i >= 0 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** Whether some feature applies by the model alone, memoized per resolved model (and so per settings). */
function byModel(ctx: FeatureContext): boolean {
  let memo = BY_MODEL.get(ctx.parsed);
  if (!memo || memo.settings !== ctx.settings) {
    memo = { settings: ctx.settings, value: REQUEST_FEATURES.some((f) => f.byModel(ctx)) };
    BY_MODEL.set(ctx.parsed, memo);
  }
  return memo.value;
}

const BY_MODEL = new WeakMap<ParsedModel, { settings: FeatureSettings; value: boolean }>();

/**
 * The cheap pre-check: true when some feature may change a GenerateContentRequest for this model
 * (by the model alone, or because the raw body holds one of its markers). When false, the body can
 * be forwarded byte for byte without a JSON parse.
 */
export function featuresNeedBody(ctx: FeatureContext, bytes: Uint8Array | null): boolean {
  if (byModel(ctx)) return true;
  if (!bytes?.length) return false;
  return MARKERS.some((m) => m.bytes.some((b) => indexOfBytes(bytes, b) >= 0));
}

/** Input of {@link applyRequestFeatures}. */
export interface ApplyFeaturesInput extends FeatureContext {
  /** The method's request body (never mutated). */
  body: Record<string, unknown>;
  /** Default `generateContent` (also right for streamGenerateContent). */
  method?: GenerateMethod;
}

/** Output of {@link applyRequestFeatures}. */
export interface ApplyFeaturesResult {
  /** New request body. */
  body: Record<string, unknown>;
  /** What the gateway changed or ignored, for logs / debug headers. */
  notes: string[];
  /** True when Google Search grounding is on (the OpenAI route may append source links). */
  search: boolean;
  /** True when a feature changed the request (the snake_case renaming alone does not count). */
  changed: boolean;
}

/**
 * Applies every feature to each GenerateContentRequest of a method's body: the body itself, the
 * `generateContentRequest` of `countTokens` (whose `model` is set to the real model; a bare `contents`
 * body is left as is), or each inline request of a `batchGenerateContent` (whose `model`, where one is
 * named, becomes the real model). Where the method's body holds them: `lib/gemini/method_bodies.ts`.
 */
export function applyRequestFeatures(input: ApplyFeaturesInput): ApplyFeaturesResult {
  const shape = METHOD_BODIES[input.method ?? "generateContent"];
  const notes = [...input.parsed.notes];
  const rename = shape.model ? renameModel(`models/${input.parsed.model}`, shape.model) : undefined;
  let search = false;
  let changed = false;
  const next = shape.requests(input.body, (request) => {
    const camel = camelizeRequestKeys(request);
    const body: Record<string, unknown> = { ...camel };
    let edited = false;
    for (const feature of REQUEST_FEATURES) edited = feature.apply(body, input, notes) || edited;
    search ||= toolList(body.tools).some((t) => isObj(t) && "googleSearch" in t);
    const renamed = rename?.(body);
    changed ||= edited || renamed !== undefined;
    // Only a feature or the model name makes a request worth replacing (snake_case alone does not).
    return edited || renamed || camel !== request ? renamed ?? body : undefined;
  });
  return { body: next ?? { ...input.body }, notes, search, changed };
}
