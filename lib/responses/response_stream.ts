/**
 * Gemini answers -> OpenAI Responses, streamed and whole, from one translator: each Gemini stream
 * item becomes Responses events with increasing `sequence_number`s (`response.created`,
 * `response.in_progress`, `response.output_item.added` / `.done` around every item with its part,
 * text, argument and summary events, then `response.completed`, `response.incomplete` or
 * `response.failed`), and the translator accumulates the whole `Response` object for a
 * non-streaming answer, for `response.completed` and for the store.
 *
 * Items: thought parts -> `reasoning` (summary text), text -> `message` with one `output_text` (and
 * `url_citation` annotations from grounding), each `functionCall` -> `function_call` (or
 * `custom_tool_call` for a custom tool), grounding -> a `web_search_call`. Gemini's thought signature
 * of a part travels in the `encrypted_content` of the reasoning item next to the item made from that
 * part (before it when the part opens an item, else after it); the gateway also keeps a call's
 * signature server-side under its `call_id` (`../gemini/thought_signatures.ts`). An answer that ended
 * in a failed tool call (`MALFORMED_FUNCTION_CALL`, ...) fails (`response.failed`, `server_error`).
 *
 * Source: `openai` `ResponseStreamEvent`, `Response`, `ResponseOutputItem`, `ResponseUsage`;
 * wire reference §H5, §H6, §H9.
 *
 * @module
 */
import { translatorStage } from "../http/translator_stage.ts";
import { AnswerTally } from "../gemini/answer_tally.ts";
import { type PullStage, pullThrough } from "../util/pull_through.ts";
import type { GatewayError } from "../http/errors.ts";
import { toolCallFailureFor } from "../gemini/answer_check.ts";
import type { SseEvent } from "../http/sse.ts";
import type { GeminiStreamItem } from "../gemini/stream.ts";
import { toSignatureToken } from "../gemini/signature_token.ts";
import type { GeminiGenerateContentResponse, GeminiPart, GeminiUsageMetadata } from "../gemini/types.ts";
import { partText } from "../openai/chat_response.ts";
import { toOpenAIError } from "../openai/errors.ts";
import { toolCallId } from "../gemini/tool_call_ids.ts";
import type { SignedCall } from "../gemini/thought_signatures.ts";
import { itemId } from "./ids.ts";
import type { ToolNames } from "./request.ts";

/** One output item (as the Responses API returns it; also stored and sent back by clients). */
export type OutputItem = Record<string, unknown> & { id: string; type: string };

/** The `Response` object. */
export type ResponseObject = Record<string, unknown> & {
  id: string;
  status: string;
  output: OutputItem[];
};

/** What the translator echoes from the request and needs to name things. */
export interface ResponseTranslatorOptions {
  /** The response id (`resp_…`). */
  id: string;
  /** The model name the client asked for. */
  model: string;
  /** Request fields echoed in the Response object (instructions, tools, metadata, ...). */
  echo: Record<string, unknown>;
  /** How Gemini function names map back to custom and namespaced tools. */
  names: ToolNames;
  /** `parallel_tool_calls: false`: only the first call of an answer is kept. */
  singleCall?: boolean;
  /** Keeps a call's signature and Gemini id server-side; the reference names its `call_id`. */
  rememberCall: (call: SignedCall) => string;
}

const REFUSALS = /SAFETY|RECITATION|BLOCKLIST|PROHIBITED|SPII/;

/** Gemini usage -> Responses usage (input includes cached, output includes reasoning). */
export function responsesUsage(u: GeminiUsageMetadata | undefined) {
  const input = (u?.promptTokenCount ?? 0) + (u?.toolUsePromptTokenCount ?? 0);
  const reasoning = u?.thoughtsTokenCount ?? 0;
  const output = (u?.candidatesTokenCount ?? 0) + reasoning;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u?.cachedContentTokenCount ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: u?.totalTokenCount ?? input + output,
  };
}

/** Stateful translator of one Gemini answer into Responses events and the whole Response. */
export class ResponseTranslator {
  /** True once the response failed; nothing follows the failure event. */
  failed = false;
  readonly #o: ResponseTranslatorOptions;
  readonly #createdAt = Math.floor(Date.now() / 1000);
  readonly #output: OutputItem[] = [];
  #open?: OutputItem;
  #seq = 0;
  /** What the chunks so far say about the whole answer. */
  #answer = new AnswerTally();
  #calls = 0;
  #final?: ResponseObject;

  constructor(options: ResponseTranslatorOptions) {
    this.#o = options;
  }

  #event(type: string, data: Record<string, unknown>): SseEvent {
    return { event: type, data: { type, sequence_number: this.#seq++, ...data } };
  }

  #snapshot(status: string, extra: Record<string, unknown> = {}): ResponseObject {
    return {
      id: this.#o.id,
      object: "response",
      created_at: this.#createdAt,
      status,
      error: null,
      incomplete_details: null,
      model: this.#o.model,
      output: status === "in_progress" ? [] : this.#output,
      ...this.#o.echo,
      usage: status === "in_progress" ? null : responsesUsage(this.#answer.usage),
      ...extra,
    };
  }

  /** The first events: `response.created`, `response.in_progress`. */
  start(): SseEvent[] {
    const response = this.#snapshot("in_progress");
    return [this.#event("response.created", { response }), this.#event("response.in_progress", { response })];
  }

  #add(item: OutputItem, out: SseEvent[], added: OutputItem = item): number {
    this.#close(out);
    this.#output.push(item);
    this.#open = item;
    out.push(
      this.#event("response.output_item.added", { output_index: this.#output.length - 1, item: added }),
    );
    return this.#output.length - 1;
  }

  #index(item: OutputItem): number {
    return this.#output.indexOf(item);
  }

  /** Closes the open item with its done events. */
  #close(out: SseEvent[]): void {
    const item = this.#open;
    if (!item) return;
    this.#open = undefined;
    const at = { item_id: item.id, output_index: this.#index(item) };
    if (item.type === "reasoning") {
      const summary = item.summary as Array<{ type: string; text: string }>;
      if (summary.length) {
        const part = summary[0];
        out.push(
          this.#event("response.reasoning_summary_text.done", { ...at, summary_index: 0, text: part.text }),
          this.#event("response.reasoning_summary_part.done", { ...at, summary_index: 0, part }),
        );
      }
    } else if (item.type === "message") {
      const part = (item.content as Array<{ text: string; annotations: unknown[] }>)[0];
      part.annotations.forEach((annotation, annotation_index) =>
        out.push(
          this.#event("response.output_text.annotation.added", {
            ...at,
            content_index: 0,
            annotation_index,
            annotation,
          }),
        )
      );
      out.push(
        this.#event("response.output_text.done", { ...at, content_index: 0, text: part.text, logprobs: [] }),
        this.#event("response.content_part.done", { ...at, content_index: 0, part }),
      );
      item.status = "completed";
    }
    out.push(this.#event("response.output_item.done", { output_index: at.output_index, item }));
  }

  #reasoning(out: SseEvent[]): OutputItem {
    if (this.#open?.type === "reasoning" && !this.#open.encrypted_content) return this.#open;
    const item: OutputItem = { id: this.#id("rs"), type: "reasoning", summary: [] };
    this.#add(item, out, { ...item, summary: [] });
    return item;
  }

  #id(kind: string): string {
    return itemId({ responseId: this.#o.id, kind, n: this.#output.length });
  }

  /** A reasoning item carrying `signature` in `encrypted_content`: the open one (closed by it) or a new one. */
  #signature(signature: string, out: SseEvent[]): void {
    const item = this.#reasoning(out);
    item.encrypted_content = toSignatureToken(signature);
    this.#close(out);
  }

  #thought(text: string, out: SseEvent[]): void {
    const item = this.#reasoning(out);
    const at = { item_id: item.id, output_index: this.#index(item), summary_index: 0 };
    const summary = item.summary as Array<{ type: string; text: string }>;
    if (!summary.length) {
      summary.push({ type: "summary_text", text: "" });
      out.push(this.#event("response.reasoning_summary_part.added", {
        ...at,
        part: { type: "summary_text", text: "" },
      }));
    }
    summary[0].text += text;
    out.push(this.#event("response.reasoning_summary_text.delta", { ...at, delta: text }));
  }

  #call(part: GeminiPart, out: SseEvent[]): void {
    const fc = part.functionCall!;
    if (this.#o.singleCall && this.#calls > 0) return;
    this.#calls++;
    const call_id = toolCallId(this.#o.rememberCall({ geminiId: fc.id, signature: part.thoughtSignature }));
    const name = this.#o.names.functions.toClient(fc.name);
    if (this.#o.names.custom.has(name)) {
      const input = typeof fc.args?.input === "string" ? fc.args.input : JSON.stringify(fc.args ?? {});
      const item: OutputItem = {
        id: this.#id("ctc"),
        type: "custom_tool_call",
        status: "completed",
        call_id,
        name,
        input,
      };
      const output_index = this.#add(item, out, { ...item, input: "", status: "in_progress" });
      const at = { item_id: item.id, output_index };
      out.push(
        this.#event("response.custom_tool_call_input.delta", { ...at, delta: input }),
        this.#event("response.custom_tool_call_input.done", { ...at, input }),
      );
    } else {
      const ns = this.#o.names.namespaced.get(name);
      const args = JSON.stringify(fc.args ?? {});
      const item: OutputItem = {
        id: this.#id("fc"),
        type: "function_call",
        status: "completed",
        call_id,
        name: ns?.name ?? name,
        ...(ns ? { namespace: ns.namespace } : {}),
        arguments: args,
      };
      const output_index = this.#add(item, out, { ...item, arguments: "", status: "in_progress" });
      const at = { item_id: item.id, output_index };
      out.push(
        this.#event("response.function_call_arguments.delta", { ...at, delta: args }),
        this.#event("response.function_call_arguments.done", { ...at, name: item.name, arguments: args }),
      );
    }
    this.#close(out);
  }

  #text(text: string, out: SseEvent[]): void {
    let item = this.#open?.type === "message" ? this.#open : undefined;
    if (!item) {
      item = { id: this.#id("msg"), type: "message", role: "assistant", status: "in_progress", content: [] };
      const output_index = this.#add(item, out, { ...item, content: [] });
      const part = { type: "output_text", text: "", annotations: [], logprobs: [] };
      (item.content as unknown[]).push(part);
      out.push(this.#event("response.content_part.added", {
        item_id: item.id,
        output_index,
        content_index: 0,
        part: { ...part, annotations: [] },
      }));
    }
    (item.content as Array<{ text: string }>)[0].text += text;
    out.push(this.#event("response.output_text.delta", {
      item_id: item.id,
      output_index: this.#index(item),
      content_index: 0,
      delta: text,
      logprobs: [],
    }));
  }

  #part(part: GeminiPart, out: SseEvent[]): void {
    const sig = part.thoughtSignature;
    if (part.thought) {
      if (part.text) this.#thought(part.text, out);
      if (sig) this.#signature(sig, out);
      return;
    }
    if (part.functionCall) {
      if (sig) this.#signature(sig, out);
      return this.#call(part, out);
    }
    const text = partText(part);
    const continuing = this.#open?.type === "message";
    if (sig && text && !continuing) this.#signature(sig, out);
    if (text) this.#text(text, out);
    if (sig && (continuing || !text)) this.#signature(sig, out);
  }

  /** Translates one Gemini response (a stream chunk, or a whole answer). */
  onResponse(res: GeminiGenerateContentResponse): SseEvent[] {
    if (this.failed) return [];
    const out: SseEvent[] = [];
    const cand = this.#answer.take(res);
    for (const part of cand?.content?.parts ?? []) this.#part(part, out);
    return out;
  }

  /** Grounding: `url_citation`s on the message text, and a `web_search_call` item. */
  #ground(out: SseEvent[]): void {
    const chunks = this.#answer.grounding.flatMap((g) => g.groundingChunks ?? []);
    if (!chunks.some((c) => c.web?.uri)) return;
    const message = [...this.#output].reverse().find((i) => i.type === "message");
    if (message) {
      const part = (message.content as Array<{ text: string; annotations: unknown[] }>)[0];
      for (const g of this.#answer.grounding) {
        for (const s of g.groundingSupports ?? []) {
          const cited = s.segment?.text ?? "";
          const start = Math.max(0, cited ? part.text.indexOf(cited) : 0);
          for (const idx of s.groundingChunkIndices ?? []) {
            const web = g.groundingChunks?.[idx]?.web;
            if (!web?.uri) continue;
            part.annotations.push({
              type: "url_citation",
              url: web.uri,
              title: web.title ?? web.uri,
              start_index: start,
              end_index: start + cited.length,
            });
          }
        }
      }
    }
    this.#close(out);
    const queries = this.#answer.grounding.flatMap((g) => g.webSearchQueries ?? []);
    const item: OutputItem = {
      id: this.#id("ws"),
      type: "web_search_call",
      status: "completed",
      action: { type: "search", query: queries[0] ?? "", queries },
    };
    this.#add(item, out);
    this.#close(out);
  }

  #status(): { status: string; incomplete_details: null | { reason: string } } {
    if (this.#calls) return { status: "completed", incomplete_details: null };
    if (this.#answer.blocked || REFUSALS.test(this.#answer.finishReason ?? "")) {
      return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
    }
    if (this.#answer.finishReason === "MAX_TOKENS") {
      return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
    }
    return { status: "completed", incomplete_details: null };
  }

  /** The error for an answer that ended in a failed tool call (`toolCallFailure` in `../gemini/answer_check.ts`), if it did. */
  toolCallFailure(): GatewayError | undefined {
    return toolCallFailureFor(this.#answer.finishReason, this.#answer.finishMessage);
  }

  /** The closing events (`response.completed` or `response.incomplete`); completes {@link response}. */
  finish(): SseEvent[] {
    if (this.failed) return [];
    const out: SseEvent[] = [];
    const message = this.#open?.type === "message";
    if (message) this.#ground(out);
    else {
      this.#close(out);
      this.#ground(out);
    }
    this.#close(out);
    const { status, incomplete_details } = this.#status();
    this.#final = this.#snapshot(status, {
      incomplete_details,
      ...(status === "completed" ? { completed_at: Math.floor(Date.now() / 1000) } : {}),
    });
    out.push(this.#event(status === "completed" ? "response.completed" : "response.incomplete", {
      response: this.#final,
    }));
    return out;
  }

  /** The whole Response (after {@link finish} or {@link fail}). */
  response(): ResponseObject {
    return this.#final ?? this.#snapshot("in_progress");
  }

  /** `response.failed` for a failure after the stream started; nothing follows it. */
  fail(err: GatewayError): SseEvent[] {
    this.failed = true;
    const { status, body } = toOpenAIError(err);
    const code = status === 429
      ? (body.error.type === "insufficient_quota" ? "insufficient_quota" : "rate_limit_exceeded")
      : status < 500
      ? "invalid_prompt"
      : "server_error";
    this.#final = this.#snapshot("failed", { error: { code, message: body.error.message } });
    return [this.#event("response.failed", { response: this.#final })];
  }
}

/**
 * The translation as one pulled stage ({@link pullThrough}): Gemini stream items to Responses SSE
 * events (the first two are sent at once); an upstream error, and an answer that ended in a failed tool
 * call, become `response.failed`. `onDone` gets the finished Response.
 */
export function responseEventStage(
  translator: ResponseTranslator,
  onDone?: (response: ResponseObject) => void,
): PullStage<GeminiStreamItem, SseEvent> {
  return translatorStage(translator, {
    start: () => translator.start(),
    onDone: onDone && (() => onDone(translator.response())),
  });
}

/** {@link responseEventStage} as a transform stream, for `pipeThrough`. */
export class ResponseEventStream implements ReadableWritablePair<SseEvent, GeminiStreamItem> {
  readonly readable: ReadableStream<SseEvent>;
  readonly writable: WritableStream<GeminiStreamItem>;

  constructor(translator: ResponseTranslator, onDone?: (response: ResponseObject) => void) {
    const { readable, writable } = new TransformStream<GeminiStreamItem, GeminiStreamItem>();
    this.writable = writable;
    this.readable = pullThrough(readable, responseEventStage(translator, onDone));
  }
}
