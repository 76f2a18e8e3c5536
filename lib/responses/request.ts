/**
 * OpenAI Responses request -> Gemini `GenerateContentRequest`: `instructions` and system/developer
 * messages, user and assistant messages (text, images, files), `function_call` /
 * `function_call_output` and `custom_tool_call` / `_output` items, `reasoning` items (their
 * `encrypted_content` carries Gemini's thought signature), tools (functions through the JSON Schema
 * normaliser; `custom` tools as a function with one string parameter; the functions of a `namespace`
 * as `<namespace>.<name>`; names Gemini refuses, e.g. over 64 characters, under an alias from
 * `../gemini/function_names.ts`; `web_search` as Google Search; other built-ins refused with a 400
 * naming them), `tool_choice`, `text.format`, `reasoning` by model family and the sampling fields.
 *
 * Source: wire reference §H2-§H4, §H8, §H9.
 *
 * @module
 */
import { badRequest } from "../http/errors.ts";
import { toGeminiJsonSchema } from "../gemini/json_schema.ts";
import { addBuiltIns, withServerSideToolInvocations } from "../features/tools.ts";
import { modelFamily } from "../gemini/model_families.ts";
import { thinkingForEffort } from "../gemini/thinking.ts";
import { ContentsBuilder } from "../gemini/contents_builder.ts";
import { fromSignatureToken } from "../gemini/signature_token.ts";
import { FunctionNames } from "../gemini/function_names.ts";
import type {
  GeminiFunctionDeclaration,
  GeminiGenerateContentRequest,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiTool,
  GeminiToolConfig,
} from "../gemini/types.ts";
import { mapContentPart, type PartMapOptions } from "../openai/chat_parts.ts";
import type { ThoughtSignatures } from "../gemini/thought_signatures.ts";
import { type KeptCalls, recallCalls } from "../gemini/kept_calls.ts";
import type { InputPart, MappedItem, ResponsesRequest } from "./schemas.ts";

/** Options of {@link mapResponsesRequest}. */
export interface ResponsesMapOptions {
  /** The real model id (aliases and suffixes resolved): its family picks thinking and signature rules. */
  model: string;
  /** How URL images and files are downloaded. */
  media: PartMapOptions;
  /** Where the state of earlier tool calls is kept (their `call_<ref>` ids name it). */
  signatures?: Pick<ThoughtSignatures, "recall">;
}

/** One recall for every tool call the conversation names. */
function keptCalls(items: readonly MappedItem[], o: ResponsesMapOptions): Promise<KeptCalls> {
  const ids = items.flatMap((i) => ("call_id" in i && typeof i.call_id === "string" ? [i.call_id] : []));
  return recallCalls(ids, o.signatures);
}

/** How Gemini function names map back to the client's tools. */
export interface ToolNames {
  /** Gemini's function names and the client's (`<namespace>.<name>` for a namespace's functions). */
  functions: FunctionNames;
  /** Names of `custom` tools (their calls are `custom_tool_call` items). */
  custom: ReadonlySet<string>;
  /** Client name (`<namespace>.<name>`) -> the namespace and the function's own name. */
  namespaced: ReadonlyMap<string, { namespace: string; name: string }>;
}

/** The parameter schema of a `custom` (free-text) tool as a Gemini function. */
const CUSTOM_PARAMETERS = {
  type: "object",
  properties: { input: { type: "string", description: "The tool's whole input, as free text." } },
  required: ["input"],
};

const WEB_SEARCH = /^web_search/;

/** One content part -> Gemini parts (none for parts without content). */
async function partToGemini(part: InputPart, param: string, o: ResponsesMapOptions): Promise<GeminiPart[]> {
  switch (part.type) {
    case "input_text":
    case "output_text":
    case "text":
      return part.text ? [{ text: part.text }] : [];
    case "refusal":
      return part.refusal ? [{ text: part.refusal }] : [];
    case "input_image":
      if (part.image_url) {
        return [
          await mapContentPart({ type: "image_url", image_url: { url: part.image_url } }, param, o.media),
        ];
      }
      return [await mapContentPart({ type: "file", file: { file_id: part.file_id } }, param, o.media)];
    case "input_file":
      if (part.file_url && !part.file_data) {
        return [
          await mapContentPart({ type: "image_url", image_url: { url: part.file_url } }, param, o.media),
        ];
      }
      return [
        await mapContentPart(
          {
            type: "file",
            file: { file_data: part.file_data, file_id: part.file_id, filename: part.filename },
          },
          param,
          o.media,
        ),
      ];
  }
  return [];
}

async function partsOf(content: string | InputPart[], param: string, o: ResponsesMapOptions) {
  if (typeof content === "string") return content ? [{ text: content }] : [];
  const parts = await Promise.all(content.map((p, i) => partToGemini(p, `${param}[${i}]`, o)));
  return parts.flat();
}

/** A tool output -> `functionResponse` (+ media parts the model reads with it). */
async function outputParts(
  item: Extract<MappedItem, { type: "function_call_output" | "custom_tool_call_output" }>,
  name: string,
  param: string,
  o: ResponsesMapOptions & { kept: KeptCalls },
): Promise<GeminiPart[]> {
  const parts = await partsOf(item.output, `${param}.output`, o);
  const output = parts.filter((p) => p.text !== undefined).map((p) => p.text).join("\n");
  const media = parts.filter((p) => p.text === undefined);
  const geminiId = o.kept(item.call_id)?.geminiId;
  const inline = modelFamily(o.model).thoughtSignatures === "required";
  const response: GeminiPart = {
    functionResponse: {
      ...(geminiId ? { id: geminiId } : {}),
      name,
      response: { output },
      ...(inline && media.length ? { parts: media } : {}),
    },
  };
  return inline ? [response] : [response, ...media];
}

/** A model-side call item -> a `functionCall` part (its signature from the call id, when it has one). */
function callPart(
  item: Extract<MappedItem, { type: "function_call" | "custom_tool_call" }>,
  o: { param: string; kept: KeptCalls; functions: FunctionNames },
) {
  const param = o.param;
  const state = o.kept(item.call_id) ?? {};
  let args: Record<string, unknown>;
  let name = item.name;
  if (item.type === "custom_tool_call") args = { input: item.input };
  else {
    if (item.namespace) name = `${item.namespace}.${item.name}`;
    try {
      args = JSON.parse(item.arguments.trim() || "{}");
    } catch {
      args = {};
    }
    if (!args || typeof args !== "object" || Array.isArray(args)) {
      throw badRequest(`${param}.arguments`, `'${param}.arguments' must be a JSON object string.`);
    }
  }
  const part: GeminiPart = {
    functionCall: {
      ...(state.geminiId ? { id: state.geminiId } : {}),
      name: o.functions.toGemini(name),
      args,
    },
  };
  if (state.signature) part.thoughtSignature = state.signature;
  return part;
}

/**
 * Maps the conversation items (history first) to `contents`, plus the system text found in them;
 * function names go through `functions`.
 */
export async function mapItems(
  items: readonly MappedItem[],
  o: ResponsesMapOptions & { functions: FunctionNames },
): Promise<{ contents: GeminiGenerateContentRequest["contents"]; system: string[] }> {
  const kept = await keptCalls(items, o);
  const builder = new ContentsBuilder(o.model);
  const names = new Map<string, string>();
  const system: string[] = [];
  for (const [i, item] of items.entries()) {
    const param = `input[${i}]`;
    switch (item.type) {
      case "message": {
        const parts = await partsOf(item.content, `${param}.content`, o);
        if (item.role === "system" || item.role === "developer") {
          system.push(...parts.flatMap((p) => (p.text ? [p.text] : [])));
        } else if (item.role === "assistant") { for (const p of parts) builder.model(p); }
        else builder.user(parts);
        break;
      }
      case "reasoning": {
        const signature = fromSignatureToken(item.encrypted_content);
        if (signature) builder.signature(signature);
        break;
      }
      case "function_call":
      case "custom_tool_call": {
        const part = callPart(item, { param, kept, functions: o.functions });
        names.set(item.call_id, part.functionCall!.name);
        builder.model(part);
        break;
      }
      case "function_call_output":
      case "custom_tool_call_output": {
        const name = names.get(item.call_id);
        if (!name) {
          throw badRequest(
            `${param}.call_id`,
            `No tool call found for output with call_id ${item.call_id} ('${param}.call_id'): send the function_call item before its output, or use previous_response_id.`,
          );
        }
        builder.toolResult(...await outputParts(item, name, param, { ...o, kept }));
        break;
      }
    }
  }
  const contents = builder.finish();
  if (!contents.length) {
    throw badRequest("input", "'input' must contain at least one message or item with content.");
  }
  return { contents, system };
}

function declaration(
  tool: { name?: string | null; description?: string | null; parameters?: unknown },
  name: string,
) {
  const decl: GeminiFunctionDeclaration = { name };
  if (tool.description) decl.description = tool.description;
  if (tool.parameters) {
    const { strict: _strict, ...schema } = tool.parameters as Record<string, unknown>;
    decl.parametersJsonSchema = toGeminiJsonSchema(schema);
  }
  return decl;
}

/**
 * Maps `tools` and `tool_choice` for `model` (its family decides whether `web_search` may sit next to
 * functions: `addBuiltIns`; function names through `functions`); built-in tools without a Gemini twin are
 * refused with a 400 naming them.
 */
export function mapTools(
  req: Pick<ResponsesRequest, "tools" | "tool_choice">,
  model: string,
  functions: FunctionNames = new FunctionNames(),
): { tools?: GeminiTool[]; toolConfig?: GeminiToolConfig; names: ToolNames; notes: string[] } {
  const declarations: GeminiFunctionDeclaration[] = [];
  const declare = (tool: Parameters<typeof declaration>[0], name: string) =>
    declarations.push(declaration(tool, functions.toGemini(name)));
  const custom = new Set<string>();
  const namespaced = new Map<string, { namespace: string; name: string }>();
  const notes: string[] = [];
  let search = false;
  for (const [i, tool] of (req.tools ?? []).entries()) {
    const named = (what: string) => {
      if (!tool.name) {
        throw badRequest(`tools[${i}].name`, `A ${what} tool needs a name ('tools[${i}].name').`);
      }
      return tool.name;
    };
    if (tool.type === "function") declare(tool, named("function"));
    else if (tool.type === "custom") {
      const name = named("custom");
      custom.add(name);
      declare({ ...tool, parameters: CUSTOM_PARAMETERS }, name);
    } else if (tool.type === "namespace") {
      const ns = named("namespace");
      for (const inner of (tool.tools ?? []).filter((t) => t.type === "function" && t.name)) {
        namespaced.set(`${ns}.${inner.name}`, { namespace: ns, name: inner.name! });
        declare(inner, `${ns}.${inner.name}`);
      }
    } else if (WEB_SEARCH.test(tool.type)) search = true;
    else {
      throw badRequest(
        `tools[${i}].type`,
        `Tool type '${tool.type}' (tools[${i}]) is not supported by this gateway: Gemini has no equivalent. Use function tools, or web_search for Google Search.`,
      );
    }
  }
  const out: { tools?: GeminiTool[]; toolConfig?: GeminiToolConfig; names: ToolNames; notes: string[] } = {
    names: { functions, custom, namespaced },
    notes,
  };
  const { tools, serverSideToolInvocations } = addBuiltIns<GeminiTool>({
    model,
    tools: declarations.length ? [{ functionDeclarations: declarations }] : [],
    builtIns: search ? [{ googleSearch: {} }] : [],
    notes,
  });
  if (tools.length) out.tools = tools;
  const config = declarations.length
    ? functionCalling(req.tool_choice, { namespaced, functions })
    : undefined;
  if (config) out.toolConfig = { functionCallingConfig: config };
  if (serverSideToolInvocations) out.toolConfig = withServerSideToolInvocations(out.toolConfig);
  return out;
}

type Calling = NonNullable<GeminiToolConfig["functionCallingConfig"]>;

function functionCalling(
  tc: ResponsesRequest["tool_choice"],
  o: { namespaced: ReadonlyMap<string, { namespace: string; name: string }>; functions: FunctionNames },
): Calling | undefined {
  if (!tc) return undefined;
  if (typeof tc === "string") return { mode: { none: "NONE", auto: "AUTO", required: "ANY" }[tc] };
  const geminiName = (name: string) =>
    o.functions.toGemini([...o.namespaced].find(([, v]) => v.name === name)?.[0] ?? name);
  if ((tc.type === "function" || tc.type === "custom") && tc.name) {
    return { mode: "ANY", allowedFunctionNames: [geminiName(tc.name)] };
  }
  if (tc.type === "allowed_tools") {
    const names = (tc.tools ?? []).flatMap((t) => (t.name ? [geminiName(t.name)] : []));
    return tc.mode === "required"
      ? { mode: "ANY", ...(names.length ? { allowedFunctionNames: names } : {}) }
      : {
        mode: "AUTO",
      };
  }
  return { mode: "AUTO" };
}

/** `generationConfig`: sampling, length, JSON output and thinking by model family. */
function generationConfig(req: ResponsesRequest, model: string): GeminiGenerationConfig {
  const cfg: GeminiGenerationConfig = {};
  if (req.max_output_tokens) cfg.maxOutputTokens = req.max_output_tokens;
  if (req.temperature != null) cfg.temperature = req.temperature;
  if (req.top_p != null) cfg.topP = req.top_p;
  const format = req.text?.format;
  if (format?.type === "json_object") cfg.responseMimeType = "application/json";
  if (format?.type === "json_schema") {
    cfg.responseMimeType = "application/json";
    cfg.responseJsonSchema = toGeminiJsonSchema(format.schema);
  }
  const effort = req.reasoning?.effort ?? undefined;
  const summary = !!req.reasoning?.summary && effort !== "none";
  const thinking = effort ? thinkingForEffort(model, effort) : undefined;
  if (modelFamily(model).thinking.kind !== "none" && (thinking || summary)) {
    cfg.thinkingConfig = { ...thinking, ...(summary ? { includeThoughts: true } : {}) };
  }
  return cfg;
}

/**
 * Translates a validated Responses request into a Gemini request body. `items` is the whole
 * conversation: the stored history of `previous_response_id` first, then this request's input, with
 * item references resolved.
 */
export async function mapResponsesRequest(
  req: ResponsesRequest,
  items: readonly MappedItem[],
  o: ResponsesMapOptions,
): Promise<{ body: GeminiGenerateContentRequest; names: ToolNames; notes: string[] }> {
  const functions = new FunctionNames();
  const { names, notes, ...tools } = mapTools(req, o.model, functions);
  const { contents, system } = await mapItems(items, { ...o, functions });
  const sys = [req.instructions ?? "", ...system].filter(Boolean).map((text) => ({ text }));
  const cfg = generationConfig(req, o.model);
  const body: GeminiGenerateContentRequest = {
    contents,
    ...(sys.length ? { systemInstruction: { role: "user", parts: sys } } : {}),
    ...tools,
    ...(Object.keys(cfg).length ? { generationConfig: cfg } : {}),
  };
  return { body, names, notes };
}
