/**
 * Gemini answers -> Anthropic Messages, streamed and whole, from one translator: each Gemini stream
 * item becomes Anthropic's events in Anthropic's order (`message_start`, `content_block_start` /
 * `_delta` / `_stop` per block, `message_delta`, `message_stop`; `error` when the upstream fails
 * mid-stream), and the same translator accumulates the whole `Message` for a non-streaming answer.
 *
 * Blocks: thought parts -> `thinking` (`thinking_delta`), text -> `text` (`text_delta`), each
 * `functionCall` -> `tool_use` (one `input_json_delta` with the whole JSON), grounding -> a
 * `server_tool_use` + `web_search_tool_result` pair (only the first call with
 * `disable_parallel_tool_use`; function names back from Gemini's aliases). An answer that ended in a
 * failed tool call (`MALFORMED_FUNCTION_CALL`, ...) is an error, never a finished message. Gemini's thought signature of a part travels
 * in the `signature` of the thinking block next to the block made from that part (before it when the
 * part opens a block, else after it); a signed part with no thinking text around gets a thinking
 * block with empty text, the shape of Anthropic's own `display: "omitted"` blocks. A call's signature
 * is also kept server-side under its `toolu_` id (`../gemini/thought_signatures.ts`).
 *
 * Source: `@anthropic-ai/sdk` `RawMessageStreamEvent`, `Message`, `Usage`; wire reference §G4, §G5,
 * §G8, §G9.
 *
 * @module
 */
import { translatorStage } from "../http/translator_stage.ts";
import { AnswerTally } from "../gemini/answer_tally.ts";
import { type PullStage, pullThrough } from "../util/pull_through.ts";
import type { GatewayError } from "../http/errors.ts";
import { toolCallFailureFor } from "../gemini/answer_check.ts";
import type { FunctionNames } from "../gemini/function_names.ts";
import type { SseEvent } from "../http/sse.ts";
import type { GeminiStreamItem } from "../gemini/stream.ts";
import { toSignatureToken } from "../gemini/signature_token.ts";
import type { GeminiGenerateContentResponse, GeminiPart, GeminiUsageMetadata } from "../gemini/types.ts";
import { partText } from "../openai/chat_response.ts";
import { randomAlnum, toolCallId } from "../gemini/tool_call_ids.ts";
import type { SignedCall } from "../gemini/thought_signatures.ts";
import { toAnthropicError } from "./errors.ts";

/** One content block of an answer. */
export type AnthropicBlock =
  | { type: "text"; text: string; citations: null }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { type: "server_tool_use"; id: string; name: "web_search"; input: { query: string } }
  | {
    type: "web_search_tool_result";
    tool_use_id: string;
    content: Array<
      { type: "web_search_result"; url: string; title: string; encrypted_content: string; page_age: null }
    >;
  };

/** Anthropic's `usage`. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: null;
  server_tool_use: { web_search_requests: number } | null;
  service_tier: "standard";
}

/** Gemini finish reasons that mean the answer was refused. */
const REFUSALS = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

/** Gemini usage -> Anthropic usage (input excludes cache reads; output includes thinking). */
export function anthropicUsage(u: GeminiUsageMetadata | undefined, searches = 0): AnthropicUsage {
  const cached = u?.cachedContentTokenCount ?? 0;
  return {
    input_tokens: Math.max(0, (u?.promptTokenCount ?? 0) - cached) + (u?.toolUsePromptTokenCount ?? 0),
    output_tokens: (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    cache_creation: null,
    server_tool_use: searches ? { web_search_requests: searches } : null,
    service_tier: "standard",
  };
}

const ev = (type: string, data: Record<string, unknown> = {}): SseEvent => ({
  event: type,
  data: { type, ...data },
});

/** Options of {@link MessageTranslator}. */
export interface MessageTranslatorOptions {
  /** The model name the client asked for (echoed back). */
  model: string;
  /** Keeps a call's signature and Gemini id server-side; the reference names its `toolu_` id. */
  rememberCall: (call: SignedCall) => string;
  /** The request's function names (Gemini's aliases back to the client's names). */
  functions?: FunctionNames;
  /** `tool_choice.disable_parallel_tool_use`: only the first call of an answer is kept. */
  singleCall?: boolean;
}

/** Stateful translator of one Gemini answer into Anthropic events and the whole message. */
export class MessageTranslator {
  /** The message id (`msg_…`). */
  readonly id = `msg_${randomAlnum(24)}`;
  /** True once an error event was produced; nothing follows it. */
  failed = false;
  readonly #blocks: AnthropicBlock[] = [];
  #open = false;
  #started = false;
  /** What the chunks so far say about the whole answer. */
  #answer = new AnswerTally();
  #calls = 0;

  /** The model name the client asked for (echoed back). */
  readonly model: string;
  readonly #o: MessageTranslatorOptions;

  constructor(options: MessageTranslatorOptions) {
    this.model = options.model;
    this.#o = options;
  }

  #message(content: AnthropicBlock[]) {
    return {
      id: this.id,
      type: "message" as const,
      role: "assistant" as const,
      model: this.model,
      content,
      stop_reason: null as string | null,
      stop_sequence: null,
      stop_details: null as Record<string, unknown> | null,
      container: null,
      usage: anthropicUsage(this.#answer.usage),
    };
  }

  #start(out: SseEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push(ev("message_start", { message: this.#message([]) }), ev("ping"));
  }

  #close(out: SseEvent[]): void {
    if (!this.#open) return;
    this.#open = false;
    out.push(ev("content_block_stop", { index: this.#blocks.length - 1 }));
  }

  #openBlock(block: AnthropicBlock, out: SseEvent[]): void {
    this.#close(out);
    const start = block.type === "text"
      ? { type: "text", text: "" }
      : block.type === "thinking"
      ? { ...block, thinking: "" }
      : block.type === "tool_use" || block.type === "server_tool_use"
      ? { ...block, input: {} }
      : block;
    this.#blocks.push(block);
    this.#open = true;
    out.push(ev("content_block_start", { index: this.#blocks.length - 1, content_block: start }));
  }

  #delta(delta: Record<string, unknown>, out: SseEvent[]): void {
    out.push(ev("content_block_delta", { index: this.#blocks.length - 1, delta }));
  }

  #current(): AnthropicBlock | undefined {
    return this.#open ? this.#blocks.at(-1) : undefined;
  }

  /** A thinking block carrying `signature`: the open one (closed by it) or a new one with empty text. */
  #signature(signature: string, out: SseEvent[]): void {
    const token = toSignatureToken(signature);
    const cur = this.#current();
    if (cur?.type !== "thinking" || cur.signature) {
      this.#openBlock({ type: "thinking", thinking: "", signature: "" }, out);
    }
    (this.#blocks.at(-1) as { signature: string }).signature = token;
    this.#delta({ type: "signature_delta", signature: token }, out);
    this.#close(out);
  }

  #part(part: GeminiPart, out: SseEvent[]): void {
    const sig = part.thoughtSignature;
    if (part.thought) {
      if (part.text) {
        const cur = this.#current();
        if (cur?.type !== "thinking") this.#openBlock({ type: "thinking", thinking: "", signature: "" }, out);
        (this.#blocks.at(-1) as { thinking: string }).thinking += part.text;
        this.#delta({ type: "thinking_delta", thinking: part.text }, out);
      }
      if (sig) this.#signature(sig, out);
      return;
    }
    if (part.functionCall) {
      if (this.#o.singleCall && this.#calls > 0) return;
      if (sig) this.#signature(sig, out);
      const fc = part.functionCall;
      const input = fc.args ?? {};
      this.#calls++;
      this.#openBlock({
        type: "tool_use",
        id: toolCallId(this.#o.rememberCall({ geminiId: fc.id, signature: sig }), "toolu"),
        name: this.#o.functions?.toClient(fc.name) ?? fc.name,
        input,
      }, out);
      this.#delta({ type: "input_json_delta", partial_json: JSON.stringify(input) }, out);
      this.#close(out);
      return;
    }
    const text = partText(part);
    const continuing = this.#current()?.type === "text";
    if (sig && text && !continuing) this.#signature(sig, out);
    if (text) {
      if (!continuing) this.#openBlock({ type: "text", text: "", citations: null }, out);
      (this.#blocks.at(-1) as { text: string }).text += text;
      this.#delta({ type: "text_delta", text }, out);
    }
    if (sig && (continuing || !text)) this.#signature(sig, out);
  }

  /** Translates one Gemini response (a stream chunk, or a whole answer). */
  onResponse(res: GeminiGenerateContentResponse): SseEvent[] {
    if (this.failed) return [];
    const out: SseEvent[] = [];
    const cand = this.#answer.take(res);
    this.#start(out);
    for (const part of cand?.content?.parts ?? []) this.#part(part, out);
    return out;
  }

  #searchBlocks(out: SseEvent[]): number {
    const chunks = this.#answer.grounding.flatMap((g) => g.groundingChunks ?? []).filter((c) => c.web?.uri);
    if (!chunks.length) return 0;
    const queries = this.#answer.grounding.flatMap((g) => g.webSearchQueries ?? []);
    const id = `srvtoolu_${randomAlnum(24)}`;
    const input = { query: queries[0] ?? "" };
    this.#openBlock({ type: "server_tool_use", id, name: "web_search", input }, out);
    this.#delta({ type: "input_json_delta", partial_json: JSON.stringify(input) }, out);
    this.#openBlock({
      type: "web_search_tool_result",
      tool_use_id: id,
      content: chunks.map((c) => ({
        type: "web_search_result",
        url: c.web!.uri!,
        title: c.web!.title ?? c.web!.uri!,
        encrypted_content: "",
        page_age: null,
      })),
    }, out);
    this.#close(out);
    return Math.max(1, queries.length);
  }

  #stop(): { stop_reason: string; stop_details: Record<string, unknown> | null } {
    if (this.#calls) return { stop_reason: "tool_use", stop_details: null };
    const reason = this.#answer.finishReason ?? "";
    if (this.#answer.blocked || REFUSALS.has(reason)) {
      const explanation = this.#answer.finishMessage ?? `Gemini stopped: ${reason || "prompt blocked"}.`;
      return { stop_reason: "refusal", stop_details: { type: "refusal", category: null, explanation } };
    }
    return { stop_reason: reason === "MAX_TOKENS" ? "max_tokens" : "end_turn", stop_details: null };
  }

  /** The error for an answer that ended in a failed tool call (`toolCallFailure` in `../gemini/answer_check.ts`), if it did. */
  toolCallFailure(): GatewayError | undefined {
    return toolCallFailureFor(this.#answer.finishReason, this.#answer.finishMessage);
  }

  /** The closing events (`message_delta`, `message_stop`); also completes {@link MessageTranslator.message}. */
  finish(): SseEvent[] {
    if (this.failed) return [];
    const out: SseEvent[] = [];
    this.#start(out);
    this.#close(out);
    const searches = this.#searchBlocks(out);
    const stop = this.#stop();
    this.#final = { ...stop, usage: anthropicUsage(this.#answer.usage, searches) };
    out.push(
      ev("message_delta", {
        delta: { stop_reason: stop.stop_reason, stop_sequence: null, stop_details: stop.stop_details },
        usage: this.#final.usage,
      }),
      ev("message_stop"),
    );
    return out;
  }

  #final?: { stop_reason: string; stop_details: Record<string, unknown> | null; usage: AnthropicUsage };

  /** The whole `Message` (call after {@link MessageTranslator.finish}). */
  message() {
    return { ...this.#message(this.#blocks), ...this.#final };
  }

  /** The `error` event for a failure after the stream started; nothing is sent after it. */
  fail(err: GatewayError): SseEvent[] {
    this.failed = true;
    return [ev("error", { error: toAnthropicError(err).body.error })];
  }
}

/**
 * The translation as one pulled stage ({@link pullThrough}): Gemini stream items to Anthropic's SSE
 * events; an error item, and an answer that ended in a failed tool call, become one `error` event and
 * the stream ends there (no `message_stop`).
 */
export function anthropicEventStage(translator: MessageTranslator): PullStage<GeminiStreamItem, SseEvent> {
  return translatorStage(translator);
}

/** {@link anthropicEventStage} as a transform stream, for `pipeThrough`. */
export class AnthropicEventStream implements ReadableWritablePair<SseEvent, GeminiStreamItem> {
  readonly readable: ReadableStream<SseEvent>;
  readonly writable: WritableStream<GeminiStreamItem>;

  constructor(translator: MessageTranslator) {
    const { readable, writable } = new TransformStream<GeminiStreamItem, GeminiStreamItem>();
    this.writable = writable;
    this.readable = pullThrough(readable, anthropicEventStage(translator));
  }
}
