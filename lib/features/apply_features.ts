/**
 * The one entry point both the native and the OpenAI route call on a Gemini request body: resolves
 * aliases and suffixes to the real model and applies search, image output, thinking, default safety
 * settings, code execution and URL context.
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
import { type ParsedModel, parseModelName } from "../gemini/model_names.ts";
import { modelFamily } from "../gemini/model_families.ts";
import { resolveThinkingConfig } from "../gemini/thinking.ts";
import { type FeatureSettings, matchesModelList } from "./settings.ts";
import { applyTools, SEARCH_FUNCTION_NAMES } from "./tools.ts";
import { camelizeRequestKeys } from "./wire_case.ts";

/** Input of {@link applyRequestFeatures}. */
export interface ApplyFeaturesInput {
  /** Model name as the client sent it (suffixes, aliases and a `models/` prefix allowed). */
  model: string;
  /** Gemini GenerateContentRequest body (never mutated). */
  body: Record<string, unknown>;
  settings: FeatureSettings;
  /** Real model ids from the upstream model list. */
  knownModels: ReadonlySet<string>;
  /**
   * `countTokens` bodies only accept `contents` or `generateContentRequest`: features then go inside
   * `generateContentRequest` (whose `model` is set to the real model), a bare `contents` body is left
   * as is. Default `generateContent` (also right for streamGenerateContent).
   */
  kind?: "generateContent" | "countTokens";
}

/** Output of {@link applyRequestFeatures}. */
export interface ApplyFeaturesResult {
  /** Real model id to call upstream. */
  model: string;
  /** New request body. */
  body: Record<string, unknown>;
  /** What the gateway changed or ignored, for logs / debug headers. */
  notes?: string[];
  /** True when Google Search grounding was added (the OpenAI route may append source links). */
  search?: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Resolves the model and returns a new Gemini request body with the gateway's features applied. */
export function applyRequestFeatures(input: ApplyFeaturesInput): ApplyFeaturesResult {
  const parsed = parseModelName({
    name: input.model,
    knownModels: input.knownModels,
    settings: input.settings,
  });
  if (input.kind !== "countTokens") return applyToBody(parsed, input.body, input.settings);
  const inner = input.body.generateContentRequest;
  if (!isObj(inner)) {
    return {
      model: parsed.model,
      body: { ...input.body },
      ...(parsed.notes.length ? { notes: parsed.notes } : {}),
    };
  }
  const r = applyToBody(parsed, inner, input.settings);
  return { ...r, body: { ...input.body, generateContentRequest: { ...r.body, model: `models/${r.model}` } } };
}

function applyToBody(
  parsed: ParsedModel,
  input: Record<string, unknown>,
  settings: FeatureSettings,
): ApplyFeaturesResult {
  const model = parsed.model;
  const notes = [...parsed.notes];
  const body: Record<string, unknown> = { ...camelizeRequestKeys(input) };
  const gen: Record<string, unknown> = isObj(body.generationConfig) ? { ...body.generationConfig } : {};

  if (parsed.image || modelFamily(model).imageOutput) {
    const mods = gen.responseModalities;
    if (!Array.isArray(mods)) gen.responseModalities = ["TEXT", "IMAGE"];
    else if (parsed.image && !mods.some((m) => String(m).toUpperCase() === "IMAGE")) {
      gen.responseModalities = [...mods, "IMAGE"];
    }
  }

  const client = isObj(gen.thinkingConfig) ? gen.thinkingConfig : undefined;
  const thinking = resolveThinkingConfig({
    model,
    client,
    mode: parsed.thinking,
    defaults: settings.thinkingDefaults,
  });
  notes.push(...thinking.notes);
  if (thinking.config !== undefined && thinking.config !== client) gen.thinkingConfig = thinking.config;

  if (Object.keys(gen).length || "generationConfig" in body) body.generationConfig = gen;

  if (body.safetySettings == null && settings.defaultSafetySettings) {
    body.safetySettings = settings.defaultSafetySettings.map((s) => ({ ...s }));
  }

  const tools = applyTools({
    tools: body.tools,
    toolConfig: body.toolConfig,
    search: parsed.search,
    codeExecution: matchesModelList(model, settings.codeExecutionModels),
    urlContext: matchesModelList(model, settings.urlContextModels),
  });
  notes.push(...tools.notes);
  if (tools.tools !== undefined) body.tools = tools.tools;
  if (tools.toolConfig !== undefined) body.toolConfig = tools.toolConfig;
  const search = (tools.tools ?? []).some((t) => "googleSearch" in t);

  return { model, body, search, ...(notes.length ? { notes } : {}) };
}

/**
 * True when the body of a generate (or countTokens) request holds something the features rewrite
 * whatever the model: a client function named `googleSearch` / `google_search` (camel or snake case,
 * also inside a countTokens `generateContentRequest`). Use it with {@link requestNeedsFeatures}.
 */
export function bodyNeedsFeatures(body: unknown): boolean {
  if (!isObj(body)) return false;
  const inner = body.generateContentRequest ?? body.generate_content_request;
  if (isObj(inner) && bodyNeedsFeatures(inner)) return true;
  if (!Array.isArray(body.tools)) return false;
  return body.tools.some((t) => {
    if (!isObj(t)) return false;
    const decls = t.functionDeclarations ?? t.function_declarations;
    return Array.isArray(decls) && decls.some((d) => isObj(d) && SEARCH_FUNCTION_NAMES.has(String(d.name)));
  });
}

/**
 * Cheap pre-check for pass-through routes: true when {@link applyRequestFeatures} could change a request
 * for this model name without looking at the body (alias, suffix, image model, thinking repair/defaults,
 * safety default, per-model tools). A client function named `googleSearch` is only visible in the body:
 * callers that skip parsing miss that conversion.
 */
export function requestNeedsFeatures(
  input: { model: string; settings: FeatureSettings; knownModels: ReadonlySet<string> },
): boolean {
  const { settings } = input;
  const name = input.model.replace(/^models\//, "");
  if (settings.defaultSafetySettings) return true;
  const parsed = parseModelName({ name, knownModels: input.knownModels, settings });
  const family = modelFamily(parsed.model);
  if (parsed.model !== name || family.imageOutput) return true;
  if (family.thinking.kind === "level") return true; // budget 0 / unsupported level repairs
  if (family.thinking.kind === "budget" && !family.thinking.canDisable) return true; // budget 0 repair
  if (Object.keys(settings.thinkingDefaults).some((p) => parsed.model.startsWith(p))) return true;
  return matchesModelList(parsed.model, settings.codeExecutionModels) ||
    matchesModelList(parsed.model, settings.urlContextModels);
}
