/**
 * Gemini SSE (`alt=sse`, CRLF or LF framing) -> OpenAI `chat.completion.chunk` SSE. Each upstream event is
 * translated and flushed as soon as it arrives; only finish reasons and usage wait for the end.
 *
 * @module
 */
import { createParser } from "eventsource-parser";
import { GatewayError } from "../http/errors.ts";
import { parseGoogleError } from "../gemini/rpc_status.ts";
import {
  type ChatResponseOptions,
  completionId,
  mapFinishReason,
  mapLogprobs,
  mapUsage,
  partText,
  sourcesMarkdown,
  toToolCall,
  type UrlCitation,
} from "./chat_response.ts";
import { toOpenAIError } from "./errors.ts";
import type {
  GeminiGenerateContentResponse,
  GeminiGroundingMetadata,
  GeminiUsageMetadata,
} from "../gemini/types.ts";

/** Options for {@link translateChatStream}. */
export interface ChatStreamOptions extends ChatResponseOptions {
  /** `stream_options.include_usage`: `usage: null` on chunks plus a final usage chunk. */
  includeUsage?: boolean;
}

interface CandidateState {
  toolIndex: number;
  finishReason?: string;
  content: string;
  chunks: NonNullable<GeminiGroundingMetadata["groundingChunks"]>;
  supports: NonNullable<GeminiGroundingMetadata["groundingSupports"]>;
}

/** Stateful translator of Gemini stream events into OpenAI SSE frames (strings). */
export class ChatStreamTranslator {
  readonly id = completionId();
  readonly created = Math.floor(Date.now() / 1000);
  /** True once an error frame was produced; nothing else is emitted after it. */
  failed = false;
  #states = new Map<number, CandidateState>();
  #usage?: GeminiUsageMetadata;
  #blocked = false;
  #events = 0;

  constructor(readonly options: ChatStreamOptions) {}

  #frame(choices: unknown[], extra: Record<string, unknown> = {}): string {
    const chunk = {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.options.model,
      choices,
      ...(this.options.includeUsage ? { usage: null } : {}),
      ...extra,
    };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }

  #delta(
    index: number,
    delta: Record<string, unknown>,
    finish: string | null = null,
    logprobs: unknown = null,
  ): string {
    return this.#frame([{ index, delta, logprobs, finish_reason: finish }]);
  }

  #state(index: number, out: string[]): CandidateState {
    let s = this.#states.get(index);
    if (!s) {
      s = { toolIndex: 0, content: "", chunks: [], supports: [] };
      this.#states.set(index, s);
      out.push(this.#delta(index, { role: "assistant", content: "" }));
    }
    return s;
  }

  /** An error frame (OpenAI envelope) for any error; marks the stream failed. */
  fail(err: unknown): string {
    this.failed = true;
    return `data: ${JSON.stringify(toOpenAIError(err).body)}\n\n`;
  }

  /** Translates one upstream `data:` payload. */
  onData(data: string): string[] {
    if (this.failed || !data.trim()) return [];
    this.#events++;
    let res: GeminiGenerateContentResponse & { error?: unknown };
    try {
      res = JSON.parse(data);
    } catch (err) {
      return [this.fail(new GatewayError(502, "Upstream sent an unreadable stream event.", { cause: err }))];
    }
    if (res.error) {
      const upstream = parseGoogleError(data)!;
      return [this.fail(new GatewayError(upstream.error.code || 500, upstream.error.message, { upstream }))];
    }
    const out: string[] = [];
    if (res.usageMetadata) this.#usage = res.usageMetadata;
    if (res.promptFeedback?.blockReason) this.#blocked = true;
    for (const [i, cand] of (res.candidates ?? []).entries()) {
      const index = cand.index ?? i;
      const s = this.#state(index, out);
      let logprobs = mapLogprobs(cand.logprobsResult);
      for (const part of cand.content?.parts ?? []) {
        if (part.functionCall) {
          out.push(this.#delta(index, { tool_calls: [{ index: s.toolIndex++, ...toToolCall(part) }] }));
        } else if (part.thought) {
          if (this.options.includeThoughts && part.text) {
            out.push(this.#delta(index, { reasoning_content: part.text }));
          }
        } else {
          const text = partText(part);
          s.content += text;
          const sig = part.thoughtSignature
            ? { extra_content: { google: { thought_signature: part.thoughtSignature } } }
            : {};
          if (text || part.thoughtSignature) {
            out.push(this.#delta(index, { content: text, ...sig }, null, logprobs));
            logprobs = null;
          }
        }
      }
      if (cand.finishReason) s.finishReason = cand.finishReason;
      s.chunks.push(...(cand.groundingMetadata?.groundingChunks ?? []));
      s.supports.push(...(cand.groundingMetadata?.groundingSupports ?? []));
    }
    return out;
  }

  /** True when at least one `data:` event was seen. */
  get sawEvents(): boolean {
    return this.#events > 0;
  }

  /** Final frames: sources/annotations, finish reasons, optional usage chunk, `[DONE]`. */
  finish(): string[] {
    if (this.failed) return [];
    const out: string[] = [];
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
      out.push(this.#delta(index, {}, mapFinishReason(s.finishReason, s.toolIndex > 0)));
    }
    if (this.options.includeUsage) out.push(this.#frame([], { usage: mapUsage(this.#usage) }));
    out.push("data: [DONE]\n\n");
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

const RAW_LIMIT = 64 * 1024;

/**
 * Translates an upstream Gemini SSE body into an OpenAI SSE body. Reading is pull-driven (no buffering),
 * cancelling the result cancels the upstream, and a failing upstream ends with an OpenAI error event.
 */
export function translateChatStream(
  upstream: ReadableStream<Uint8Array>,
  options: ChatStreamOptions,
): ReadableStream<Uint8Array> {
  const t = new ChatStreamTranslator(options);
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const pending: string[] = [];
  const parser = createParser({ onEvent: (ev) => pending.push(...t.onData(ev.data)) });
  let raw = "";
  let done = false;
  const end = () => {
    parser.feed("\n\n");
    // A bare JSON error object (no `data:` framing) written into the stream.
    const bare = !t.sawEvents && raw.trim() ? parseGoogleError(raw.trim()) : null;
    if (bare) {
      pending.push(t.fail(new GatewayError(bare.error.code || 500, bare.error.message, { upstream: bare })));
    }
    pending.push(...t.finish());
    done = true;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        if (pending.length) {
          controller.enqueue(encoder.encode(pending.splice(0).join("")));
          if (t.failed && !done) (done = true, await reader.cancel().catch(() => {}));
          if (done) controller.close();
          return;
        }
        if (done) return controller.close();
        try {
          const r = await reader.read();
          if (r.done) {
            end();
            continue;
          }
          const text = decoder.decode(r.value, { stream: true });
          if (raw.length < RAW_LIMIT) raw += text;
          parser.feed(text);
        } catch (err) {
          pending.push(
            t.fail(
              new GatewayError(502, "The upstream stream broke off before it finished.", { cause: err }),
            ),
          );
          done = true;
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
