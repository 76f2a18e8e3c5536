/**
 * OpenAI chat request -> Gemini `GenerateContentRequest`: messages to contents/systemInstruction, tools and
 * tool_choice, thought-signature restoration, plus the generation config from chat_config.ts.
 * The result ({@link MappedChatRequest}) is a plain object so other features can post-process `body`.
 *
 * @module
 */
import { extractMarkdownImages } from "../features/images.ts";
import { badRequest } from "../http/errors.ts";
import { mapGenerationConfig } from "./chat_config.ts";
import { contentText, mapContent, type PartMapOptions } from "./chat_parts.ts";
import type { GeminiContent, GeminiGenerateContentRequest, GeminiPart, GeminiTool } from "../gemini/types.ts";
import type { ChatMessage, ChatRequest } from "./schemas.ts";
import { decodeToolCallId } from "./tool_ids.ts";
import { bareModel } from "../gemini/model_id.ts";
import { modelFamily } from "../gemini/model_families.ts";

import { DUMMY_THOUGHT_SIGNATURE } from "../gemini/signature_token.ts";

export { DUMMY_THOUGHT_SIGNATURE };

/** Options for {@link mapChatRequest}. */
export interface ChatRequestOptions extends PartMapOptions {
  /**
   * The real model id the client's name resolves to (aliases and suffixes removed), which picks the
   * model family for thinking and thought-signature rules; default: the client's name.
   */
  family?: string;
}

/** A chat request translated for Gemini. */
export interface MappedChatRequest {
  /** Bare Gemini model id (no `models/` prefix). */
  model: string;
  /** The model name exactly as the client sent it (echoed in responses). */
  clientModel: string;
  stream: boolean;
  /** Return thought summaries as `reasoning_content`. */
  includeThoughts: boolean;
  /** Send a final usage chunk when streaming (`stream_options.include_usage`). */
  includeUsage: boolean;
  /** The Gemini request body (the prepare step applies the gateway's features to it). */
  body: GeminiGenerateContentRequest;
  /** The validated OpenAI request. */
  request: ChatRequest;
}

type ToolCall = NonNullable<Extract<ChatMessage, { role: "assistant" }>["tool_calls"]>[number];

function parseArgs(call: ToolCall, param: string): Record<string, unknown> {
  const raw = call.function.arguments?.trim() || "{}";
  try {
    const v = JSON.parse(raw);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {
    // fall through
  }
  throw badRequest(
    `${param}.function.arguments`,
    `'${param}.function.arguments' must be a JSON object string, got: ${raw.slice(0, 80)}`,
  );
}

/** Wraps a tool result as Gemini's functionResponse.response object: `{result: <parsed JSON or text>}`. */
export function toolResponseObject(text: string): Record<string, unknown> {
  try {
    return { result: JSON.parse(text) };
  } catch {
    return { result: text };
  }
}

async function assistantContent(
  msg: Extract<ChatMessage, { role: "assistant" }>,
  param: string,
  o: { gemini3: boolean; opts: PartMapOptions },
): Promise<GeminiContent | null> {
  // Images the gateway rendered as markdown data URLs go back as inline data (multi-turn image editing).
  const mapped = await mapContent(msg.content, `${param}.content`, o.opts);
  const parts = mapped.flatMap((p): GeminiPart[] =>
    p.text?.includes("data:image/") ? extractMarkdownImages(p.text) : [p]
  );
  const textSig = msg.extra_content?.google?.thought_signature;
  const firstText = parts.find((p) => p.text !== undefined);
  if (textSig && firstText) firstText.thoughtSignature = textSig;
  const calls = msg.tool_calls ?? [];
  let signed = false;
  calls.forEach((call, i) => {
    const state = decodeToolCallId(call.id);
    const signature = call.extra_content?.google?.thought_signature ?? state.signature;
    const part: GeminiPart = {
      functionCall: {
        ...(state.geminiId ? { id: state.geminiId } : {}),
        name: call.function.name,
        args: parseArgs(call, `${param}.tool_calls[${i}]`),
      },
    };
    if (signature) (part.thoughtSignature = signature, signed = true);
    parts.push(part);
  });
  if (calls.length && !signed && o.gemini3) {
    const first = parts.find((p) => p.functionCall)!;
    first.thoughtSignature = DUMMY_THOUGHT_SIGNATURE;
  }
  return parts.length ? { role: "model", parts } : null;
}

/** Maps messages to `contents` + `systemInstruction`. */
export async function mapMessages(
  messages: ChatMessage[],
  o: { model: string; opts: PartMapOptions },
): Promise<Pick<GeminiGenerateContentRequest, "contents" | "systemInstruction">> {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const callNames = new Map<string, string>();
  const gemini3 = modelFamily(o.model).thoughtSignatures === "required";
  let toolTurn: GeminiContent | null = null;

  for (const [i, msg] of messages.entries()) {
    const param = `messages[${i}]`;
    if (msg.role === "tool" || msg.role === "function") {
      const callId = msg.role === "tool" ? msg.tool_call_id : undefined;
      const name = msg.role === "function" ? msg.name : callNames.get(callId!);
      if (!name) {
        throw badRequest(
          `${param}.tool_call_id`,
          `'${param}.tool_call_id' (${callId}) does not match any earlier assistant tool_calls[].id.`,
        );
      }
      const geminiId = callId ? decodeToolCallId(callId).geminiId : undefined;
      const part: GeminiPart = {
        functionResponse: {
          ...(geminiId ? { id: geminiId } : {}),
          name,
          response: toolResponseObject(contentText(msg.content)),
        },
      };
      if (!toolTurn) contents.push(toolTurn = { role: "user", parts: [] });
      toolTurn.parts!.push(part);
      continue;
    }
    toolTurn = null;
    if (msg.role === "system" || msg.role === "developer") {
      const text = contentText(msg.content);
      if (text) system.push({ text });
    } else if (msg.role === "user") {
      const parts = await mapContent(msg.content, `${param}.content`, o.opts);
      if (parts.length) contents.push({ role: "user", parts });
    } else {
      for (const call of msg.tool_calls ?? []) callNames.set(call.id, call.function.name);
      const c = await assistantContent(msg, param, { gemini3, opts: o.opts });
      if (c) contents.push(c);
    }
  }
  if (!contents.length) {
    throw badRequest(
      "messages",
      "'messages' must contain at least one user, assistant or tool message with content.",
    );
  }
  return { contents, ...(system.length ? { systemInstruction: { role: "user", parts: system } } : {}) };
}

/** Maps function tools (other tool types are left for hooks) and `tool_choice`. */
export function mapTools(req: ChatRequest): Pick<GeminiGenerateContentRequest, "tools" | "toolConfig"> {
  const decls = (req.tools ?? []).flatMap((t) => {
    if (t.type !== "function" || !("function" in t)) return [];
    const f = t.function as {
      name: string;
      description?: string | null;
      parameters?: Record<string, unknown> | null;
    };
    return [{
      name: f.name,
      ...(f.description ? { description: f.description } : {}),
      ...(f.parameters ? { parametersJsonSchema: stripStrict(f.parameters) } : {}),
    }];
  });
  const out: Pick<GeminiGenerateContentRequest, "tools" | "toolConfig"> = {};
  if (decls.length) out.tools = [{ functionDeclarations: decls } satisfies GeminiTool];
  const tc = req.tool_choice;
  if (!tc || !decls.length) return out;
  if (typeof tc === "string") {
    out.toolConfig = { functionCallingConfig: { mode: { auto: "AUTO", none: "NONE", required: "ANY" }[tc] } };
  } else if (tc.type === "function") {
    out.toolConfig = { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [tc.function.name] } };
  } else {
    const names = tc.allowed_tools.tools.flatMap((t) => (t.function ? [t.function.name] : []));
    out.toolConfig = {
      functionCallingConfig: tc.allowed_tools.mode === "required"
        ? { mode: "ANY", ...(names.length ? { allowedFunctionNames: names } : {}) }
        : { mode: "AUTO" },
    };
  }
  return out;
}

function stripStrict(schema: Record<string, unknown>): Record<string, unknown> {
  const { strict: _strict, ...rest } = schema;
  return rest;
}

/** Translates a validated OpenAI chat request into a Gemini request. */
export async function mapChatRequest(
  req: ChatRequest,
  opts: ChatRequestOptions = {},
): Promise<MappedChatRequest> {
  const model = bareModel(req.model);
  const family = opts.family ?? model;
  const { contents, systemInstruction } = await mapMessages(req.messages, { model: family, opts });
  const cfg = mapGenerationConfig(req, family);
  const body: GeminiGenerateContentRequest = {
    contents,
    ...(systemInstruction ? { systemInstruction } : {}),
    ...mapTools(req),
    ...cfg.top,
    ...(cfg.generationConfig ? { generationConfig: cfg.generationConfig } : {}),
  };
  return {
    model,
    clientModel: req.model,
    stream: req.stream === true,
    includeThoughts: cfg.includeThoughts,
    includeUsage: req.stream_options?.include_usage === true,
    body,
    request: req,
  };
}
