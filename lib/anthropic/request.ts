/**
 * Anthropic Messages request -> Gemini `GenerateContentRequest`: system text and blocks, messages
 * (text, images, PDFs and text documents, `tool_use`, `tool_result`, `thinking` signatures,
 * mid-conversation `system` messages), tools (client tools through the JSON Schema normaliser; web
 * search, code execution and web fetch server tools as Gemini's built-in tools), `tool_choice`,
 * sampling, stop sequences, thinking by model family and JSON output. Fields with no Gemini
 * counterpart (`cache_control`, `metadata`, `context_management`, betas) are dropped.
 *
 * Source: wire reference §G2, §G3, §G7, §G9.
 *
 * @module
 */
import { badRequest } from "../http/errors.ts";
import { toGeminiJsonSchema } from "../gemini/json_schema.ts";
import { addBuiltIns, withServerSideToolInvocations } from "../features/tools.ts";
import { modelFamily } from "../gemini/model_families.ts";
import { ContentsBuilder } from "../gemini/contents_builder.ts";
import { fromSignatureToken } from "../gemini/signature_token.ts";
import { FunctionNames } from "../gemini/function_names.ts";
import type {
  GeminiContent,
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
import {
  type AnthropicMessage,
  type AnthropicTool,
  type ContentBlock,
  type CountTokensRequest,
  isMappedBlock,
  type MappedBlock,
  type MessagesRequest,
} from "./schemas.ts";
import { thinkingConfigFor } from "./thinking.ts";

/** Options of {@link mapMessagesRequest}. */
export interface MessagesMapOptions {
  /** The real model id (aliases and suffixes resolved): its family picks thinking and signature rules. */
  model: string;
  /** How URL images and documents are downloaded. */
  media: PartMapOptions;
  /** Where the state of earlier tool calls is kept (their `toolu_<ref>` ids name it). */
  signatures?: Pick<ThoughtSignatures, "recall">;
}

/** One recall for every tool call the conversation names. */
function keptCalls(messages: AnthropicMessage[], o: MessagesMapOptions): Promise<KeptCalls> {
  const ids = messages.flatMap((m) =>
    typeof m.content === "string" ? [] : m.content.flatMap((b) => {
      const id = b.type === "tool_use" ? b.id : b.type === "tool_result" ? b.tool_use_id : undefined;
      return typeof id === "string" ? [id] : [];
    })
  );
  return recallCalls(ids, o.signatures);
}

type Block<T extends string> = Extract<MappedBlock, { type: T }>;

/** Server tools by the start of their dated `type`, and the Gemini tool each becomes. */
const SERVER_TOOLS: ReadonlyArray<{ prefix: string; tool: GeminiTool; name: string }> = [
  { prefix: "web_search", tool: { googleSearch: {} }, name: "Google Search" },
  { prefix: "code_execution", tool: { codeExecution: {} }, name: "code execution" },
  { prefix: "web_fetch", tool: { urlContext: {} }, name: "URL context" },
];

/** Media blocks (image, document) -> a Gemini part. */
async function mediaPart(
  block: Block<"image"> | Block<"document">,
  param: string,
  o: MessagesMapOptions,
): Promise<GeminiPart[]> {
  const src = block.source;
  switch (src.type) {
    case "base64":
      return [{ inlineData: { mimeType: src.media_type, data: src.data } }];
    case "url":
      return [
        await mapContentPart(
          { type: "image_url", image_url: { url: src.url } },
          `${param}.source.url`,
          o.media,
        ),
      ];
    case "text":
      return [{ text: documentText(block, src.data) }];
    case "content": {
      const inner = typeof src.content === "string"
        ? [{ type: "text" as const, text: src.content }]
        : src.content;
      const parts = await Promise.all(
        inner.map((b, i) =>
          b.type === "text" ? [{ text: b.text }] : mediaPart(b, `${param}.source.content[${i}]`, o)
        ),
      );
      return parts.flat();
    }
    case "file":
      throw badRequest(
        `${param}.source`,
        `'${param}.source' names a file of Anthropic's Files API (${src.file_id}), which this gateway cannot read: send the data as base64 or a URL.`,
      );
  }
  return [];
}

function documentText(block: Block<"image"> | Block<"document">, text: string): string {
  if (block.type !== "document") return text;
  const head = [block.title, block.context].filter(Boolean).join("\n");
  return head ? `${head}\n\n${text}` : text;
}

/** The text of any block that has some (search results, unknown blocks in tool results). */
function looseText(block: Record<string, unknown>): string {
  if (typeof block.text === "string") return block.text;
  const content = Array.isArray(block.content) ? block.content : [];
  const inner = content.map((
    c,
  ) => (c && typeof c === "object" ? looseText(c as Record<string, unknown>) : ""));
  const title = typeof block.title === "string" ? `${block.title}\n` : "";
  return title + inner.filter(Boolean).join("\n");
}

/** A `tool_result` -> `functionResponse` (+ image parts the model reads with it). */
async function toolResultParts(
  block: Block<"tool_result">,
  name: string,
  param: string,
  o: MessagesMapOptions & { kept: KeptCalls },
): Promise<GeminiPart[]> {
  const content = block.content ?? "";
  const blocks = typeof content === "string" ? [{ type: "text", text: content }] : content;
  const texts: string[] = [];
  const media: GeminiPart[] = [];
  for (const [i, b] of blocks.entries()) {
    if (b.type === "image" || b.type === "document") {
      const parts = await mediaPart(b as Block<"image">, `${param}.content[${i}]`, o);
      for (const p of parts) p.text !== undefined ? texts.push(p.text) : media.push(p);
    } else texts.push(looseText(b as Record<string, unknown>));
  }
  const geminiId = o.kept(block.tool_use_id)?.geminiId;
  const output = texts.join("\n");
  const inline = modelFamily(o.model).thoughtSignatures === "required";
  const response: GeminiPart = {
    functionResponse: {
      ...(geminiId ? { id: geminiId } : {}),
      name,
      response: block.is_error ? { error: output } : { output },
      ...(inline && media.length ? { parts: media.filter((m) => m.inlineData || m.fileData) } : {}),
    },
  };
  return inline ? [response] : [response, ...media];
}

/**
 * The state of {@link mapConversation} between messages. Anthropic treats consecutive messages of one
 * role as one turn, so a user turn's text and media are gathered until another role comes (its tool
 * results go straight into the one Content that answers the calls), and a system message met while
 * calls wait for their results is held until the results are in: Gemini wants a call turn followed
 * by its responses, nothing between.
 */
class Conversation {
  readonly builder: ContentsBuilder;
  /** Gemini function names of the calls by `tool_use` id. */
  readonly names = new Map<string, string>();
  /** `tool_use` ids of the last assistant turn without a result yet. */
  readonly waiting = new Set<string>();
  /** Text and media of the current user turn. */
  userParts: GeminiPart[] = [];
  /** System texts held until the waiting calls have their results. */
  held: string[] = [];
  #last?: "user" | "assistant";

  constructor(model: string) {
    this.builder = new ContentsBuilder(model);
  }

  /**
   * Called before each user or assistant message: an assistant turn ends the gathered user turn, and a
   * new one places the system text held for calls that never got their results.
   */
  next(role: "user" | "assistant"): void {
    if (role === "assistant" && this.#last !== "assistant") {
      this.#flushUser();
      this.waiting.clear();
      this.#release();
    }
    this.#last = role;
  }

  /** A system message in the middle: marked user text, after the results of waiting calls. */
  system(text: string): void {
    if (this.waiting.size) return void this.held.push(text);
    this.#flushUser();
    this.builder.user([{ text: `<system>\n${text}\n</system>` }]);
  }

  /** A tool result arrived; held system text follows once every call has one. */
  answered(id: string): void {
    this.waiting.delete(id);
    if (!this.waiting.size) this.#release();
  }

  /** The contents, every gathered part placed. */
  finish(): GeminiContent[] {
    this.#flushUser();
    this.#release();
    return this.builder.finish();
  }

  #flushUser(): void {
    if (!this.userParts.length) return;
    this.builder.user(this.userParts);
    this.userParts = [];
  }

  #release(): void {
    if (!this.held.length) return;
    this.#flushUser();
    for (const text of this.held.splice(0)) this.builder.user([{ text: `<system>\n${text}\n</system>` }]);
  }
}

/** Maps the conversation to `contents` (plus system text met in the middle of it). */
async function mapConversation(
  messages: AnthropicMessage[],
  o: MessagesMapOptions & { functions: FunctionNames },
): Promise<{ contents: GeminiGenerateContentRequest["contents"]; system: string[] }> {
  const kept = await keptCalls(messages, o);
  const turns = new Conversation(o.model);
  const system: string[] = [];
  for (const [i, msg] of messages.entries()) {
    const param = `messages[${i}]`;
    const blocks: ContentBlock[] = typeof msg.content === "string"
      ? [{ type: "text", text: msg.content }]
      : msg.content;
    if (msg.role === "system") {
      const text = blocks.map((b) => looseText(b as Record<string, unknown>)).join("\n");
      if (!text) continue;
      // Leading system messages join the system prompt; later ones stay in place as marked user text.
      if (i === 0 || messages.slice(0, i).every((m) => m.role === "system")) system.push(text);
      else turns.system(text);
      continue;
    }
    turns.next(msg.role);
    if (msg.role === "assistant") {
      for (const b of blocks) assistantBlock(b, { turns, kept, functions: o.functions });
      continue;
    }
    for (const [j, b] of blocks.entries()) {
      const at = `${param}.content[${j}]`;
      if (!isMappedBlock(b)) {
        const text = looseText(b);
        if (text) turns.userParts.push({ text });
      } else if (b.type === "tool_result") {
        const name = turns.names.get(b.tool_use_id);
        if (!name) {
          throw badRequest(
            `${at}.tool_use_id`,
            `'${at}.tool_use_id' (${b.tool_use_id}) does not match any earlier assistant tool_use id.`,
          );
        }
        turns.builder.toolResult(...await toolResultParts(b, name, at, { ...o, kept }));
        turns.answered(b.tool_use_id);
      } else if (b.type === "text") {
        if (b.text) turns.userParts.push({ text: b.text });
      } else if (b.type === "image" || b.type === "document") {
        turns.userParts.push(...await mediaPart(b, at, o));
      }
    }
  }
  const contents = turns.finish();
  if (!contents.length) {
    throw badRequest(
      "messages",
      "'messages' must contain at least one user or assistant message with content.",
    );
  }
  return { contents, system };
}

function assistantBlock(
  b: ContentBlock,
  o: { turns: Conversation; kept: KeptCalls; functions: FunctionNames },
): void {
  if (!isMappedBlock(b)) return;
  const builder = o.turns.builder;
  if (b.type === "thinking") {
    const signature = fromSignatureToken(b.signature);
    if (signature) builder.signature(signature);
  } else if (b.type === "text") {
    if (b.text) builder.model({ text: b.text });
  } else if (b.type === "tool_use") {
    const name = o.functions.toGemini(b.name);
    o.turns.names.set(b.id, name);
    o.turns.waiting.add(b.id);
    const state = o.kept(b.id) ?? {};
    const part: GeminiPart = {
      functionCall: { ...(state.geminiId ? { id: state.geminiId } : {}), name, args: b.input ?? {} },
    };
    if (state.signature) part.thoughtSignature = state.signature;
    builder.model(part);
  }
}

/**
 * Maps `tools` and `tool_choice` for `model` (its family decides whether server tools may sit next to
 * client tools: `addBuiltIns`; function names through `functions`). Server tools without a Gemini twin
 * are refused with a 400 naming them.
 */
export function mapTools(
  req: Pick<CountTokensRequest, "tools" | "tool_choice">,
  model: string,
  functions: FunctionNames = new FunctionNames(),
): { tools?: GeminiTool[]; toolConfig?: GeminiToolConfig; notes: string[] } {
  const notes: string[] = [];
  const declarations: GeminiFunctionDeclaration[] = [];
  const builtIns: GeminiTool[] = [];
  for (const [i, tool] of (req.tools ?? []).entries()) {
    if (!tool.type || tool.type === "custom" || tool.input_schema) {
      declarations.push(functionDeclaration(tool, functions));
      continue;
    }
    const server = SERVER_TOOLS.find((s) => tool.type!.startsWith(s.prefix));
    if (!server) {
      throw badRequest(
        `tools[${i}].type`,
        `Tool '${tool.name}' of type '${tool.type}' (tools[${i}]) has no Gemini equivalent and is not supported by this gateway; declare it as a client tool with an input_schema instead.`,
      );
    }
    builtIns.push(server.tool);
  }
  const { tools, serverSideToolInvocations } = addBuiltIns<GeminiTool>({
    model,
    tools: declarations.length ? [{ functionDeclarations: declarations }] : [],
    builtIns,
    notes,
  });
  const out: { tools?: GeminiTool[]; toolConfig?: GeminiToolConfig; notes: string[] } = { notes };
  if (tools.length) out.tools = tools;
  const tc = req.tool_choice;
  if (tc && declarations.length) {
    out.toolConfig = {
      functionCallingConfig: tc.type === "tool"
        ? { mode: "ANY", allowedFunctionNames: [functions.toGemini(tc.name as string)] }
        : { mode: { auto: "AUTO", any: "ANY", none: "NONE" }[tc.type] },
    };
  }
  if (serverSideToolInvocations) out.toolConfig = withServerSideToolInvocations(out.toolConfig);
  return out;
}

function functionDeclaration(tool: AnthropicTool, functions: FunctionNames): GeminiFunctionDeclaration {
  return {
    name: functions.toGemini(tool.name),
    ...(tool.description ? { description: tool.description } : {}),
    ...(tool.input_schema ? { parametersJsonSchema: toGeminiJsonSchema(tool.input_schema) } : {}),
  };
}

/** `system` as Gemini's `systemInstruction` parts. */
function systemParts(system: CountTokensRequest["system"], extra: string[]): GeminiPart[] {
  const texts = typeof system === "string" ? [system] : (system ?? []).map((b) => b.text);
  return [...texts, ...extra].filter(Boolean).map((text) => ({ text }));
}

/** Generation settings of a create request (count_tokens has none). */
function generationConfig(req: CountTokensRequest | MessagesRequest, model: string): GeminiGenerationConfig {
  const cfg: GeminiGenerationConfig = {};
  const r = req as Partial<MessagesRequest>;
  if (r.max_tokens) cfg.maxOutputTokens = r.max_tokens;
  if (r.temperature != null) cfg.temperature = r.temperature;
  if (r.top_p != null) cfg.topP = r.top_p;
  if (r.top_k != null) cfg.topK = r.top_k;
  if (r.stop_sequences?.length) cfg.stopSequences = r.stop_sequences;
  const thinking = thinkingConfigFor(req, model);
  if (thinking) cfg.thinkingConfig = thinking;
  const format = req.output_config?.format;
  if (format) {
    cfg.responseMimeType = "application/json";
    cfg.responseJsonSchema = toGeminiJsonSchema(format.schema);
  }
  return cfg;
}

/**
 * Translates a validated Messages (or count_tokens) request into a Gemini request body; `functions`
 * maps the function names of Gemini's answer back to the client's.
 */
export async function mapMessagesRequest(
  req: MessagesRequest | CountTokensRequest,
  o: MessagesMapOptions,
): Promise<{ body: GeminiGenerateContentRequest; functions: FunctionNames; notes: string[] }> {
  const functions = new FunctionNames();
  const { notes, ...tools } = mapTools(req, o.model, functions);
  const { contents, system } = await mapConversation(req.messages, { ...o, functions });
  const sys = systemParts(req.system, system);
  const cfg = generationConfig(req, o.model);
  const body: GeminiGenerateContentRequest = {
    contents,
    ...(sys.length ? { systemInstruction: { role: "user", parts: sys } } : {}),
    ...tools,
    ...(Object.keys(cfg).length ? { generationConfig: cfg } : {}),
  };
  return { body, functions, notes };
}
