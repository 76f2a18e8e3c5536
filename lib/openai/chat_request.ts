/**
 * OpenAI chat request -> Gemini `GenerateContentRequest`: messages to contents/systemInstruction, tools and
 * tool_choice (function names Gemini refuses, e.g. starting with a digit, under an alias from
 * `../gemini/function_names.ts`), thought-signature restoration, plus the generation config from
 * chat_config.ts.
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
import { toolCallRef } from "../gemini/tool_call_ids.ts";
import { bareModel } from "../gemini/model_id.ts";
import { modelFamily } from "../gemini/model_families.ts";
import { geminiMimeType } from "../gemini/mime.ts";
import { toGeminiJsonSchema } from "../gemini/json_schema.ts";
import { FunctionNames } from "../gemini/function_names.ts";
import { SKIP_THOUGHT_SIGNATURE, type ThoughtSignatures } from "../gemini/thought_signatures.ts";

/**
 * The result sent for a tool call the history has no tool message for (agents that trim history do
 * this): Gemini refuses a turn whose function responses do not match its function calls one to one.
 */
export const UNANSWERED_CALL_RESULT = {
  error: "No result: the conversation history has no tool message for this call.",
};

/** Options for {@link mapChatRequest}. */
export interface ChatRequestOptions extends PartMapOptions {
  /**
   * The real model id the client's name resolves to (aliases and suffixes removed), which picks the
   * model family for thinking and thought-signature rules; default: the client's name.
   */
  family?: string;
  /** Where the signatures of earlier answers are found again (tool-call ids, texts, images). */
  signatures?: Pick<ThoughtSignatures, "recall">;
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
  /** The request's function names (Gemini's aliases back to the client's names, for the answer). */
  functions: FunctionNames;
  /** The validated OpenAI request. */
  request: ChatRequest;
}

type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;
type ToolCall = NonNullable<AssistantMessage["tool_calls"]>[number];

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

/** The model turn of an assistant message, and where its signatures go once they are recalled. */
interface AssistantTurn {
  content: GeminiContent;
  /** The message text as the client sent it back (the key of its text signature). */
  text: string;
  /** The signature the client kept in `extra_content`, if any. */
  textSignature?: string;
  calls: Array<{ part: GeminiPart; ref?: string; signature?: string }>;
}

/** Maps an assistant message to a model turn (signatures are applied later, in one go). */
async function assistantTurn(
  msg: AssistantMessage,
  o: { param: string; opts: PartMapOptions; functions: FunctionNames },
): Promise<AssistantTurn> {
  const { param, opts } = o;
  // Images the gateway rendered as markdown data URLs go back as inline data (multi-turn image editing).
  const mapped = await mapContent(msg.content, `${param}.content`, opts);
  const parts = mapped.flatMap((p): GeminiPart[] =>
    p.text?.includes("data:image/") ? extractMarkdownImages(p.text) : [p]
  );
  // Images returned in the `images` field (OpenRouter's convention) that the content does not repeat.
  const seen = new Set(parts.flatMap((p) => (p.inlineData ? [p.inlineData.data] : [])));
  for (const image of msg.images ?? []) {
    const inline = /^data:([^;,]+);base64,(.*)$/s.exec(image.image_url.url);
    if (inline && !seen.has(inline[2])) {
      parts.push({ inlineData: { mimeType: inline[1], data: inline[2] } });
      seen.add(inline[2]);
    }
  }
  const calls = (msg.tool_calls ?? []).map((call, i) => {
    const part: GeminiPart = {
      functionCall: {
        name: o.functions.toGemini(call.function.name),
        args: parseArgs(call, `${param}.tool_calls[${i}]`),
      },
    };
    parts.push(part);
    return {
      part,
      ref: toolCallRef(call.id),
      signature: call.extra_content?.google?.thought_signature ?? undefined,
    };
  });
  return {
    content: { role: "model", parts },
    text: contentText(msg.content),
    textSignature: msg.extra_content?.google?.thought_signature ?? undefined,
    calls,
  };
}

/** The function calls of one assistant message and the tool results given for them so far. */
interface PendingCalls {
  calls: Array<{ id: string; name: string }>;
  results: Map<string, GeminiPart>;
  /** Results of legacy `function` messages, and of calls from an older message. */
  others: GeminiPart[];
}

/**
 * The user turn answering `pending`: one result per call in call order, a placeholder where none came
 * (its call id noted in `callIds`).
 */
function resultTurn(pending: PendingCalls, callIds: Map<GeminiPart, string>): GeminiContent | null {
  const parts = [
    ...pending.calls.map((c) => {
      const found = pending.results.get(c.id);
      if (found) return found;
      const part = { functionResponse: { name: c.name, response: { ...UNANSWERED_CALL_RESULT } } };
      callIds.set(part, c.id);
      return part;
    }),
    ...pending.others,
  ];
  return parts.length ? { role: "user", parts } : null;
}

/**
 * Maps messages to `contents` + `systemInstruction`, with thought signatures restored; function names
 * go through `functions` (default: a new one).
 */
export async function mapMessages(
  messages: ChatMessage[],
  o: {
    model: string;
    opts: PartMapOptions;
    signatures?: ChatRequestOptions["signatures"];
    functions?: FunctionNames;
  },
): Promise<Pick<GeminiGenerateContentRequest, "contents" | "systemInstruction">> {
  const functions = o.functions ?? new FunctionNames();
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const callNames = new Map<string, string>();
  const turns: AssistantTurn[] = [];
  /** The tool-call id each function response answers (for Gemini's own call id). */
  const callIds = new Map<GeminiPart, string>();
  let pending: PendingCalls | null = null;
  const settle = () => {
    const turn = pending && resultTurn(pending, callIds);
    if (turn) contents.push(turn);
    pending = null;
  };

  for (const [i, msg] of messages.entries()) {
    const param = `messages[${i}]`;
    if (msg.role === "tool" || msg.role === "function") {
      const callId = msg.role === "tool" ? msg.tool_call_id : undefined;
      const name = msg.role === "function" ? functions.toGemini(msg.name) : callNames.get(callId!);
      if (!name) {
        throw badRequest(
          `${param}.tool_call_id`,
          `'${param}.tool_call_id' (${callId}) does not match any earlier assistant tool_calls[].id.`,
        );
      }
      const part: GeminiPart = {
        functionResponse: { name, response: toolResponseObject(contentText(msg.content)) },
      };
      pending ??= { calls: [], results: new Map(), others: [] };
      const id = callId ?? pending.calls.find((c) => c.name === name && !pending!.results.has(c.id))?.id;
      if (id) callIds.set(part, id);
      if (id && pending.calls.some((c) => c.id === id)) {
        // A second result for the same call is dropped: Gemini wants one response per call.
        if (!pending.results.has(id)) pending.results.set(id, part);
      } else pending.others.push(part);
      continue;
    }
    settle();
    if (msg.role === "system" || msg.role === "developer") {
      const text = contentText(msg.content);
      if (text) system.push({ text });
    } else if (msg.role === "user") {
      const parts = await mapContent(msg.content, `${param}.content`, o.opts);
      if (parts.length) contents.push({ role: "user", parts });
    } else {
      for (const call of msg.tool_calls ?? []) callNames.set(call.id, functions.toGemini(call.function.name));
      const turn = await assistantTurn(msg, { param, opts: o.opts, functions });
      if (turn.content.parts!.length) (contents.push(turn.content), turns.push(turn));
      if (msg.tool_calls?.length) {
        pending = {
          calls: msg.tool_calls.map((c) => ({ id: c.id, name: callNames.get(c.id)! })),
          results: new Map(),
          others: [],
        };
      }
    }
  }
  settle();
  // Only a system (or developer) message: OpenAI answers it, Gemini wants a user turn. Send it as one.
  if (!contents.length && system.length) return { contents: [{ role: "user", parts: system }] };
  if (!contents.length) {
    throw badRequest(
      "messages",
      "'messages' must contain at least one user, assistant or tool message with content.",
    );
  }
  await restoreSignatures(turns, callIds, { model: o.model, signatures: o.signatures });
  for (const c of contents) {
    for (const p of c.parts ?? []) {
      if (p.inlineData) p.inlineData.mimeType = geminiMimeType(p.inlineData.mimeType, p.inlineData.data);
    }
  }
  return { contents, ...(system.length ? { systemInstruction: { role: "user", parts: system } } : {}) };
}

/**
 * Puts the thought signatures of earlier answers back on their parts (one recall for the request):
 * a call's from `extra_content` or the store (with Gemini's own call id), the text's from
 * `extra_content` or the store (keyed by the message text), each image's from the store (keyed by its
 * data). Gemini 3 gets Google's skip value on the first call of a turn none of whose calls is signed,
 * and image models on each image without a signature.
 */
async function restoreSignatures(
  turns: AssistantTurn[],
  callIds: Map<GeminiPart, string>,
  o: { model: string; signatures?: ChatRequestOptions["signatures"] },
): Promise<void> {
  const family = modelFamily(o.model);
  const refs = turns.flatMap((t) => t.calls.flatMap((c) => (c.ref ? [c.ref] : [])));
  for (const id of callIds.values()) {
    const ref = toolCallRef(id);
    if (ref) refs.push(ref);
  }
  const texts = turns.flatMap((t) => (t.text && !t.textSignature ? [t.text] : []));
  const images = turns.flatMap((t) =>
    (t.content.parts ?? []).flatMap((p) => (p.inlineData ? [p.inlineData.data] : []))
  );
  const recalled = o.signatures && (refs.length || texts.length || images.length)
    ? await o.signatures.recall({ calls: refs, contents: [...texts, ...images] })
    : undefined;
  for (const turn of turns) {
    const parts = turn.content.parts!;
    const textSig = turn.textSignature ?? (turn.text ? recalled?.content(turn.text) : undefined);
    const firstText = parts.find((p) => p.text !== undefined);
    if (textSig && firstText) firstText.thoughtSignature = textSig;
    for (const p of parts) {
      if (!p.inlineData) continue;
      const sig = recalled?.content(p.inlineData.data) ??
        (family.signsImages ? SKIP_THOUGHT_SIGNATURE : undefined);
      if (sig) p.thoughtSignature = sig;
    }
    for (const call of turn.calls) {
      const kept = call.ref ? recalled?.call(call.ref) : undefined;
      if (kept?.geminiId) call.part.functionCall!.id = kept.geminiId;
      const sig = call.signature ?? kept?.signature;
      if (sig) call.part.thoughtSignature = sig;
    }
    if (
      turn.calls.length && family.thoughtSignatures === "required" &&
      !turn.calls.some((c) => c.part.thoughtSignature)
    ) {
      turn.calls[0].part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
    }
  }
  for (const [part, id] of callIds) {
    const ref = toolCallRef(id);
    const geminiId = ref ? recalled?.call(ref)?.geminiId : undefined;
    if (geminiId) part.functionResponse!.id = geminiId;
  }
}

/** Maps function tools (other tool types are left for hooks) and `tool_choice`; names go through `functions`. */
export function mapTools(
  req: ChatRequest,
  functions: FunctionNames = new FunctionNames(),
): Pick<GeminiGenerateContentRequest, "tools" | "toolConfig"> {
  const decls = (req.tools ?? []).flatMap((t) => {
    if (t.type !== "function" || !("function" in t)) return [];
    const f = t.function as {
      name: string;
      description?: string | null;
      parameters?: Record<string, unknown> | null;
    };
    return [{
      name: functions.toGemini(f.name),
      ...(f.description ? { description: f.description } : {}),
      // Local $refs inlined ($defs dropped): Gemini refuses a $ref next to other keywords.
      ...(f.parameters ? { parametersJsonSchema: toGeminiJsonSchema(stripStrict(f.parameters)) } : {}),
    }];
  });
  const out: Pick<GeminiGenerateContentRequest, "tools" | "toolConfig"> = {};
  if (decls.length) out.tools = [{ functionDeclarations: decls } satisfies GeminiTool];
  const tc = req.tool_choice;
  if (!tc || !decls.length) return out;
  if (typeof tc === "string") {
    out.toolConfig = { functionCallingConfig: { mode: { auto: "AUTO", none: "NONE", required: "ANY" }[tc] } };
  } else if (tc.type === "function") {
    out.toolConfig = {
      functionCallingConfig: { mode: "ANY", allowedFunctionNames: [functions.toGemini(tc.function.name)] },
    };
  } else {
    const names = tc.allowed_tools.tools.flatMap((
      t,
    ) => (t.function ? [functions.toGemini(t.function.name)] : []));
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
  const functions = new FunctionNames();
  const tools = mapTools(req, functions);
  const { contents, systemInstruction } = await mapMessages(req.messages, {
    model: family,
    opts,
    signatures: opts.signatures,
    functions,
  });
  const cfg = mapGenerationConfig(req, family);
  const body: GeminiGenerateContentRequest = {
    contents,
    ...(systemInstruction ? { systemInstruction } : {}),
    ...tools,
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
    functions,
    request: req,
  };
}
