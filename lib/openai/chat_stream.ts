/**
 * Gemini stream items -> OpenAI `chat.completion.chunk` events. Each upstream event is translated and
 * passed on as soon as it arrives; only finish reasons and usage wait for the end. The translator
 * emits objects ({@link SseEvent}); the edge serializes them.
 *
 * @module
 */
import type { GatewayError } from "../http/errors.ts";
import type { SseEvent } from "../http/sse.ts";
import { type GeminiStreamItem, StreamCompletion } from "../gemini/stream.ts";
import { type PullStage, pullThrough } from "../util/pull_through.ts";
import {
  type ChatResponseOptions,
  completionId,
  mapFinishReason,
  mapLogprobs,
  mapUsage,
  partImage,
  partText,
  rememberPartSignatures,
  sourcesMarkdown,
  toToolCall,
  type UrlCitation,
} from "./chat_response.ts";
import { TOOL_CALL_FAILURES, toolCallFailure } from "../gemini/answer_check.ts";
import { type OpenAIErrorBody, toOpenAIError } from "./errors.ts";
import type {
  GeminiGenerateContentResponse,
  GeminiGroundingMetadata,
  GeminiPart,
  GeminiUsageMetadata,
} from "../gemini/types.ts";

/** Options for {@link ChatCompletionStream}. */
export interface ChatStreamOptions extends ChatResponseOptions {
  /** `stream_options.include_usage`: `usage: null` on chunks plus a final usage chunk. */
  includeUsage?: boolean;
}

/** One `chat.completion.chunk`. */
export type ChatCompletionChunk = Record<string, unknown> & { object: "chat.completion.chunk" };

interface CandidateState {
  toolIndex: number;
  finishReason?: string;
  finishMessage?: string;
  /** Visible text of the answer's parts so far (grounding segments are looked up in it). */
  content: string;
  /** Everything sent as `delta.content` so far (the message content the client assembles). */
  sent: string;
  /** Text and image parts that carried a signature (kept at the end, keyed by the final content). */
  signed: GeminiPart[];
  chunks: NonNullable<GeminiGroundingMetadata["groundingChunks"]>;
  supports: NonNullable<GeminiGroundingMetadata["groundingSupports"]>;
}

/** Stateful translator of Gemini stream events into OpenAI chunk objects. */
export class ChatStreamTranslator {
  readonly id = completionId();
  readonly created = Math.floor(Date.now() / 1000);
  /** True once an error frame was produced; nothing else is emitted after it. */
  failed = false;
  #states = new Map<number, CandidateState>();
  #usage?: GeminiUsageMetadata;
  #blocked = false;
  readonly #completion = new StreamCompletion();

  /** The text of every chunk up to its `choices` (the same for all of a stream's chunks). */
  readonly #head: string;

  constructor(readonly options: ChatStreamOptions) {
    this.#head =
      `{"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${this.created},` +
      `"model":${JSON.stringify(options.model)},"choices":`;
  }

  #frame(choices: unknown[], usage?: ReturnType<typeof mapUsage>): ChatCompletionChunk {
    const chunk: ChatCompletionChunk = {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.options.model,
      choices,
    };
    if (this.options.includeUsage) chunk.usage = usage ?? null;
    return chunk;
  }

  /**
   * The JSON text of a chunk made here: the same text as `JSON.stringify(chunk)`, with the part every
   * chunk shares written once per stream.
   */
  json(chunk: ChatCompletionChunk): string {
    const usage = this.options.includeUsage ? `,"usage":${JSON.stringify(chunk.usage)}` : "";
    return `${this.#head}${JSON.stringify(chunk.choices)}${usage}}`;
  }

  #delta(
    index: number,
    delta: Record<string, unknown>,
    finish: string | null = null,
    logprobs: unknown = null,
  ): ChatCompletionChunk {
    return this.#frame([{ index, delta, logprobs, finish_reason: finish }]);
  }

  #state(index: number, out: ChatCompletionChunk[]): CandidateState {
    let s = this.#states.get(index);
    if (!s) {
      s = { toolIndex: 0, content: "", sent: "", signed: [], chunks: [], supports: [] };
      this.#states.set(index, s);
      out.push(this.#delta(index, { role: "assistant", content: "" }));
    }
    return s;
  }

  /** A chunk with an empty delta (a keep-alive that OpenAI clients parse as data). */
  emptyChunk(): ChatCompletionChunk {
    return this.#delta(0, {});
  }

  /** The error body (OpenAI envelope) for a failed stream; marks the stream failed. */
  fail(err: GatewayError): OpenAIErrorBody {
    this.failed = true;
    return toOpenAIError(err).body;
  }

  /** Translates one upstream response event. */
  onResponse(res: GeminiGenerateContentResponse): ChatCompletionChunk[] {
    if (this.failed) return [];
    const out: ChatCompletionChunk[] = [];
    this.#completion.observe(res);
    if (res.usageMetadata) this.#usage = res.usageMetadata;
    if (res.promptFeedback?.blockReason) this.#blocked = true;
    const candidates = res.candidates ?? [];
    for (let i = 0; i < candidates.length; i++) {
      const cand = candidates[i];
      const index = cand.index ?? i;
      const s = this.#state(index, out);
      let logprobs = mapLogprobs(cand.logprobsResult);
      for (const part of cand.content?.parts ?? []) {
        if (part.functionCall) {
          const call = toToolCall(part, this.options);
          out.push(this.#delta(index, { tool_calls: [{ index: s.toolIndex++, ...call }] }));
          continue;
        }
        if (part.thoughtSignature) s.signed.push(part);
        if (part.thought) {
          if (this.options.includeThoughts && part.text) {
            out.push(this.#delta(index, { reasoning_content: part.text }));
          }
        } else {
          const text = partText(part, s.sent);
          s.content += text;
          s.sent += text;
          if (text || part.thoughtSignature) {
            const delta: Record<string, unknown> = { content: text };
            const image = partImage(part);
            if (image) delta.images = [image];
            if (part.thoughtSignature && !part.inlineData) {
              delta.extra_content = { google: { thought_signature: part.thoughtSignature } };
            }
            out.push(this.#delta(index, delta, null, logprobs));
            logprobs = null;
          }
        }
      }
      if (cand.finishReason) s.finishReason = cand.finishReason;
      if (cand.finishMessage) s.finishMessage = cand.finishMessage;
      const grounding = cand.groundingMetadata;
      if (grounding?.groundingChunks) s.chunks.push(...grounding.groundingChunks);
      if (grounding?.groundingSupports) s.supports.push(...grounding.groundingSupports);
    }
    return out;
  }

  /**
   * The error for an answer that did not end well, if it did not: a failed tool call
   * ({@link toolCallFailure}), or a stream that ended before Gemini said it was done
   * ({@link StreamCompletion}).
   */
  endFailure(): GatewayError | undefined {
    for (const s of this.#states.values()) {
      if (s.finishReason && s.finishReason in TOOL_CALL_FAILURES) {
        return toolCallFailure(s.finishReason, s.finishMessage);
      }
    }
    return this.#completion.complete ? undefined : StreamCompletion.cutOff();
  }

  /** Final chunks: sources/annotations, finish reasons, optional usage chunk (`[DONE]` is the edge's). */
  finish(): ChatCompletionChunk[] {
    if (this.failed) return [];
    const out: ChatCompletionChunk[] = [];
    if (!this.#states.size) {
      out.push(this.#delta(0, { role: "assistant", content: "" }));
      out.push(this.#delta(0, {}, this.#blocked ? "content_filter" : "stop"));
    }
    for (const [index, s] of [...this.#states].sort((a, b) => a[0] - b[0])) {
      const gm = { groundingChunks: s.chunks, groundingSupports: s.supports };
      const annotations = streamAnnotations(gm, s.content);
      if (annotations.length) out.push(this.#delta(index, { annotations }));
      const sources = this.options.searchLinks ? sourcesMarkdown(gm) : "";
      if (sources) out.push(this.#delta(index, { content: sources }));
      s.sent += sources;
      rememberPartSignatures(s.signed, s.sent, this.options.signatures);
      out.push(this.#delta(index, {}, mapFinishReason(s.finishReason, s.toolIndex > 0)));
    }
    if (this.options.includeUsage) out.push(this.#frame([], mapUsage(this.#usage)));
    return out;
  }
}

/** Annotations for a streamed answer: segments are located by their text in the accumulated content. */
function streamAnnotations(gm: GeminiGroundingMetadata, content: string): UrlCitation[] {
  return (gm.groundingSupports ?? []).flatMap((sup) => {
    const text = sup.segment?.text ?? "";
    const start = Math.max(0, text ? content.indexOf(text) : 0);
    return (sup.groundingChunkIndices ?? []).flatMap((i) => {
      const web = gm.groundingChunks?.[i]?.web;
      return web?.uri
        ? [{
          type: "url_citation" as const,
          url_citation: {
            url: web.uri,
            title: web.title ?? web.uri,
            start_index: start,
            end_index: start + text.length,
          },
        }]
        : [];
    });
  });
}

/**
 * The translation as one pulled stage ({@link pullThrough}): chunk objects, then `[DONE]`; an error
 * item, an answer that ended in a failed tool call, and a stream that ended without Gemini's finish
 * reason become one OpenAI error event and nothing follows it (no `[DONE]`).
 */
export function chatCompletionStage(t: ChatStreamTranslator): PullStage<GeminiStreamItem, SseEvent> {
  return {
    transform(item, emit) {
      if (t.failed) return;
      if (item.type === "error") return emit({ data: t.fail(item.error) });
      if (item.type === "response") {
        for (const chunk of t.onResponse(item.response)) emit({ data: t.json(chunk) });
      }
    },
    flush(emit) {
      if (t.failed) return;
      const failure = t.endFailure();
      if (failure) return emit({ data: t.fail(failure) });
      for (const chunk of t.finish()) emit({ data: t.json(chunk) });
      emit({ data: "[DONE]" });
    },
  };
}

/**
 * Gemini stream items to OpenAI SSE events ({@link chatCompletionStage}) as a transform stream, for
 * `pipeThrough`; the streaming edge pulls the stage directly (one JavaScript stage per event).
 */
export class ChatCompletionStream implements ReadableWritablePair<SseEvent, GeminiStreamItem> {
  /** The translator (its `id`, `created` and `options` name the chunks). */
  readonly translator: ChatStreamTranslator;
  readonly readable: ReadableStream<SseEvent>;
  readonly writable: WritableStream<GeminiStreamItem>;

  constructor(options: ChatStreamOptions) {
    this.translator = new ChatStreamTranslator(options);
    const { readable, writable } = new TransformStream<GeminiStreamItem, GeminiStreamItem>();
    this.writable = writable;
    this.readable = pullThrough(readable, chatCompletionStage(this.translator));
  }
}
