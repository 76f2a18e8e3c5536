/**
 * Built-in Gemini tools: Google Search grounding (from the `-search` suffix or a client function named
 * `googleSearch`), code execution and URL context (per-model settings).
 *
 * One rule for built-in tools next to function declarations, shared by every dialect ({@link addBuiltIns};
 * the Anthropic and Responses edges use it for their server tools, {@link applyTools} for the gateway's
 * own): the model family decides (`toolCombination` in `lib/gemini/model_families.ts`). Gemini 3 and later
 * take both with `toolConfig.includeServerSideToolInvocations: true`, which the gateway sets (Google answers
 * 400 "Please enable tool_config.include_server_side_tool_invocations to use Built-in tools with Function
 * calling." without it; https://ai.google.dev/gemini-api/docs/tool-combination); Gemini 2.x
 * refuses the mix, so there the built-in tool is not added (noted) and the functions stay. Tools a
 * native client sent itself are never changed.
 *
 * Known limit (documented decision): with the flag, Gemini answers with `toolCall` / `toolResponse`
 * parts that OpenAI's and Anthropic's histories have no slot for, so the next turn goes without them;
 * a thought signature Gemini put on such a part is lost with it, and Google's 400 about it gets the one
 * retry with its skip value (`lib/gemini/answer_check.ts`).
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
  /** Add `{codeExecution:{}}`. */
  codeExecution: boolean;
  /** Add `{urlContext:{}}`. */
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

/** A Gemini `Tool` object (`{functionDeclarations: [...]}`, `{googleSearch: {}}`, ...). */
export type ToolObject = Record<string, unknown>;

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const hasDeclarations = (t: Record<string, unknown>) =>
  Array.isArray(t.functionDeclarations) && t.functionDeclarations.length > 0;

const isSearchFunction = (d: unknown) => isObj(d) && SEARCH_FUNCTION_NAMES.has(String(d.name));

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

/** Input of {@link addBuiltIns}. */
export interface BuiltInsInput<T = unknown> {
  /** The real model id (its family's `toolCombination` decides). */
  model: string;
  /** The request's tools so far (function declarations among them; items that are no object are kept); not mutated. */
  tools: readonly T[];
  /** Built-in tools to add, each `{<key>: {...}}`; one whose key is already there is skipped. */
  builtIns: readonly (T & object)[];
  /** Where a built-in tool that was not added is noted. */
  notes: string[];
}

/** Output of {@link addBuiltIns}. */
export interface BuiltInsOutput<T = unknown> {
  tools: T[];
  /** True when a built-in tool was added. */
  added: boolean;
  /**
   * True when a built-in tool now sits next to function declarations: the request needs
   * `toolConfig.includeServerSideToolInvocations: true` ({@link withServerSideToolInvocations}).
   */
  serverSideToolInvocations: boolean;
}

/**
 * Adds built-in tools to a request's tools by the one rule for built-in tools next to function
 * declarations (see the module docs): without functions each is added; next to functions only when the
 * model family takes the combination (with the flag this returns), else it is left out and noted.
 */
export function addBuiltIns<T>(o: BuiltInsInput<T>): BuiltInsOutput<T> {
  const tools: T[] = [...o.tools];
  const withFunctions = tools.some((t) => isObj(t) && hasDeclarations(t));
  const family = modelFamily(o.model);
  let added = false;
  for (const builtIn of o.builtIns) {
    const key = Object.keys(builtIn)[0];
    if (!key || tools.some((t) => isObj(t) && key in t)) continue;
    if (withFunctions && !family.toolCombination) {
      o.notes.push(
        `${key} was not added: ${family.family} refuses built-in tools next to function declarations ` +
          "(Gemini 3 and later take both).",
      );
      continue;
    }
    tools.push(builtIn);
    added = true;
  }
  return { tools, added, serverSideToolInvocations: added && withFunctions };
}

/** `toolConfig` with `includeServerSideToolInvocations: true` (a new object; other fields kept). */
export function withServerSideToolInvocations<T extends object>(
  toolConfig: T | undefined,
): T & { includeServerSideToolInvocations: true } {
  return { ...(toolConfig ?? {}) as T, includeServerSideToolInvocations: true };
}

/**
 * Returns new `tools` / `toolConfig` with the requested built-in tools (by {@link addBuiltIns}'s rule);
 * a client function named `googleSearch` becomes the real tool where the family takes it next to the
 * other functions (else the client's function stays, noted). The inputs are never mutated.
 */
export function applyTools(input: ToolsInput): ToolsOutput {
  const notes: string[] = [];
  const original = toolList(input.tools);
  const declarations = original.flatMap((t) =>
    isObj(t) && Array.isArray(t.functionDeclarations) ? t.functionDeclarations : []
  );
  const convert = declarations.some(isSearchFunction) &&
    (declarations.every(isSearchFunction) || modelFamily(input.model).toolCombination);
  if (declarations.some(isSearchFunction) && !convert) {
    notes.push(
      "The client function googleSearch was kept as a function: this model refuses Google Search next to " +
        "other functions.",
    );
  }
  const tools: unknown[] = [];
  for (const tool of original) {
    if (!convert || !isObj(tool) || !Array.isArray(tool.functionDeclarations)) {
      tools.push(tool);
      continue;
    }
    const kept = tool.functionDeclarations.filter((d) => !isSearchFunction(d));
    if (kept.length === tool.functionDeclarations.length) {
      tools.push(tool);
      continue;
    }
    const { functionDeclarations: _drop, ...rest } = tool;
    if (kept.length) tools.push({ ...rest, functionDeclarations: kept });
    else if (Object.keys(rest).length) tools.push(rest);
  }
  if (convert) notes.push("The client function googleSearch was replaced by Google Search grounding.");
  const wantSearch = input.search || convert;
  const builtIns: ToolObject[] = [
    // A client's own googleSearchRetrieval (Gemini 1.5's search tool) counts as search already.
    ...(wantSearch && !tools.some((t) => isObj(t) && "googleSearchRetrieval" in t)
      ? [{ googleSearch: {} }]
      : []),
    ...BUILT_INS.filter((b) => input[b.flag]).map((b) => ({ [b.key]: {} })),
  ];
  const out = addBuiltIns({ model: input.model, tools, builtIns, notes });
  const withFunctions = out.tools.some((t) => isObj(t) && hasDeclarations(t));
  let toolConfig = convert ? fixToolConfig(input.toolConfig, withFunctions) : input.toolConfig;
  if (out.serverSideToolInvocations) {
    toolConfig = withServerSideToolInvocations(isObj(toolConfig) ? toolConfig : undefined);
  }
  return {
    tools: out.tools.length || original.length || Array.isArray(input.tools) ? out.tools : undefined,
    toolConfig,
    notes,
    changed: out.added || convert,
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
