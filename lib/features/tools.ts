/**
 * Built-in Gemini tools: Google Search grounding (from the `-search` suffix or a client function named
 * `googleSearch`), code execution and URL context (per-model settings).
 *
 * Built-in tools the gateway adds next to function declarations: the model family decides
 * (`toolCombination` in `lib/gemini/model_families.ts`). Gemini 3 and later take both with
 * `toolConfig.includeServerSideToolInvocations: true`, which the gateway then sets (Google answers 400
 * "Please enable tool_config.include_server_side_tool_invocations to use Built-in tools with Function
 * calling." without it; https://ai.google.dev/gemini-api/docs/tool-combination). Tools a client sent
 * itself are never changed.
 *
 * @module
 */
import { modelFamily } from "../gemini/model_families.ts";

/** Client function names that are turned into the real Google Search tool. */
export const SEARCH_FUNCTION_NAMES: ReadonlySet<string> = new Set(["googleSearch", "google_search"]);

/** Input of {@link applyTools}. */
export interface ToolsInput {
  /** The request's `tools` (not mutated). */
  tools?: unknown;
  /** The request's `toolConfig` (not mutated). */
  toolConfig?: unknown;
  /** The real model id: its family decides whether built-in tools may sit next to function declarations. */
  model: string;
  /** Add `{googleSearch:{}}`. */
  search: boolean;
  /** Add `{codeExecution:{}}` (next to function declarations only where the family takes both). */
  codeExecution: boolean;
  /** Add `{urlContext:{}}` (next to function declarations only where the family takes both). */
  urlContext: boolean;
}

/** Output of {@link applyTools}; `undefined` fields mean "leave absent". */
export interface ToolsOutput {
  /** The tools: the client's (none dropped; a single Tool becomes a one-item list) plus the added ones. */
  tools?: unknown[];
  toolConfig?: unknown;
  notes: string[];
  /** True when a tool was added or a client function converted. */
  changed: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const hasDeclarations = (t: Record<string, unknown>) =>
  Array.isArray(t.functionDeclarations) && t.functionDeclarations.length > 0;

/** Built-in tools added by setting: key in the Tool object and the input flag that asks for it. */
const BUILT_INS: ReadonlyArray<{ key: string; flag: "codeExecution" | "urlContext" }> = [
  { key: "codeExecution", flag: "codeExecution" },
  { key: "urlContext", flag: "urlContext" },
];

/**
 * The client's `tools` as a list: a single Tool object (which Google's JSON mapping of a repeated field
 * takes as a one-item list) becomes `[tool]`; items are kept as they are, even ones Google will refuse.
 */
export function toolList(tools: unknown): unknown[] {
  if (Array.isArray(tools)) return tools;
  return tools === undefined || tools === null ? [] : [tools];
}

/** Returns new `tools` / `toolConfig` with the requested built-in tools; the inputs are never mutated. */
export function applyTools(input: ToolsInput): ToolsOutput {
  const notes: string[] = [];
  const original = toolList(input.tools);
  let wantSearch = input.search;
  let converted = false;
  const tools: unknown[] = [];
  for (const tool of original) {
    if (!isObj(tool) || !Array.isArray(tool.functionDeclarations)) {
      tools.push(tool);
      continue;
    }
    const kept = tool.functionDeclarations.filter((d) =>
      !(isObj(d) && SEARCH_FUNCTION_NAMES.has(String(d.name)))
    );
    if (kept.length === tool.functionDeclarations.length) {
      tools.push(tool);
      continue;
    }
    wantSearch = converted = true;
    notes.push("The client function googleSearch was replaced by Google Search grounding.");
    const { functionDeclarations: _drop, ...rest } = tool;
    if (kept.length) tools.push({ ...rest, functionDeclarations: kept });
    else if (Object.keys(rest).length) tools.push(rest);
  }
  const has = (key: string) => tools.some((t) => isObj(t) && key in t);
  let added = false;
  if (wantSearch && !has("googleSearch") && !has("googleSearchRetrieval")) {
    tools.push({ googleSearch: {} });
    added = true;
  }
  const withFunctions = tools.some((t) => isObj(t) && hasDeclarations(t));
  const combine = modelFamily(input.model).toolCombination;
  for (const b of BUILT_INS) {
    if (!input[b.flag] || has(b.key)) continue;
    if (withFunctions && !combine) {
      notes.push(`${b.key} was not added: Gemini refuses it together with function declarations.`);
    } else {
      tools.push({ [b.key]: {} });
      added = true;
    }
  }
  let toolConfig = converted ? fixToolConfig(input.toolConfig, withFunctions) : input.toolConfig;
  if (added && withFunctions && combine) {
    toolConfig = { ...(isObj(toolConfig) ? toolConfig : {}), includeServerSideToolInvocations: true };
  }
  return {
    tools: tools.length || original.length || Array.isArray(input.tools) ? tools : undefined,
    toolConfig,
    notes,
    changed: added || converted,
  };
}

/** After a search-function conversion: removes search names from `allowedFunctionNames`; drops function calling config without functions. */
function fixToolConfig(toolConfig: unknown, withFunctions: boolean): unknown {
  if (!isObj(toolConfig)) return toolConfig;
  const fcc = toolConfig.functionCallingConfig;
  if (!isObj(fcc)) return toolConfig;
  const { functionCallingConfig: _fcc, ...rest } = toolConfig;
  if (!withFunctions) return rest;
  if (!Array.isArray(fcc.allowedFunctionNames)) return toolConfig;
  const names = fcc.allowedFunctionNames.filter((n) => !SEARCH_FUNCTION_NAMES.has(String(n)));
  if (names.length === fcc.allowedFunctionNames.length) return toolConfig;
  const { allowedFunctionNames: _names, ...fccRest } = fcc;
  return {
    ...rest,
    functionCallingConfig: names.length ? { ...fccRest, allowedFunctionNames: names } : fccRest,
  };
}
