/**
 * Reading a Gemini answer stream (`:streamGenerateContent?alt=sse`, events `data: {...}\r\n\r\n`) as
 * objects, for the edges that translate it. Every way such a stream can go wrong becomes one
 * `{type: "error"}` item (and nothing after it): an error event Google writes into the stream
 * (`data: {"error": {...}}`), an event that is not JSON, a body that is not SSE at all (a bare JSON
 * error, an HTML page, JSON without framing, nothing), a bare JSON error written after some events (no
 * `data:` framing), and a connection that breaks off. This is the one place Gemini streams are read.
 *
 * Source: https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import { createSseParser, type SseEvent } from "../http/sse.ts";
import { type GoogleErrorBody, parseGoogleError } from "./rpc_status.ts";
import { redactKeys } from "../secrets/redact.ts";
import type { GeminiGenerateContentResponse } from "./types.ts";
import { composeStages, type PullSource, type PullStage, pullThrough } from "../util/pull_through.ts";

/** One item of a Gemini answer stream. */
export type GeminiStreamItem =
  | { type: "response"; response: GeminiGenerateContentResponse }
  | { type: "error"; error: GatewayError };

/** Text kept from the start of a stream to recognise a body that is not SSE. */
const RAW_LIMIT = 64 * 1024;
/**
 * Longest event (in characters) held to parse it: a Gemini event with a few generated images is a few
 * MB; a longer one (or a body with no event boundary at all) ends the stream with a 502 instead of
 * growing the gateway's memory without bound.
 */
export const MAX_EVENT_CHARS = 64 * 1024 * 1024;

/** The index just after the last event boundary (a blank line: `\n\n` or `\n\r\n`) in `text`, or -1. */
function boundaryEnd(text: string): number {
  const lf = text.lastIndexOf("\n\n");
  const crlf = text.lastIndexOf("\n\r\n");
  return Math.max(lf < 0 ? -1 : lf + 2, crlf < 0 ? -1 : crlf + 3);
}

/**
 * Characters after the last event boundary in `carry + text` (`carry`: the last two characters before
 * `text`), given `before` until `text`. Joins only the few characters where a boundary can span two
 * chunks, never the whole chunk.
 */
function charsSinceBoundary(carry: string, text: string, before: number): number {
  const end = boundaryEnd(text);
  if (end >= 0) return text.length - end;
  const spanning = boundaryEnd(carry + text.slice(0, 2));
  return spanning >= 0 ? text.length - (spanning - carry.length) : before + text.length;
}

/**
 * The error for Google's error object in a stream it answered with 200, with Google's body as it came
 * (the native edge passes it on verbatim). Its 499 CANCELLED there is Google giving up on the answer
 * (Firebase's recorded `streaming-failure-error-mid-stream`), not the client leaving (a client that
 * left reads nothing more), so it is a 502: a server-side failure in every dialect (Anthropic's
 * `api_error`, which Claude Code retries; OpenAI's `server_error`), never the client's fault.
 */
function streamError(upstream: GoogleErrorBody): GatewayError {
  const code = upstream.error.code || 500;
  return new GatewayError(code === 499 ? 502 : code, upstream.error.message, { upstream });
}

/** The item for one `data:` payload of a Gemini stream. */
export function geminiStreamItem(data: string): GeminiStreamItem {
  let value: GeminiGenerateContentResponse & { error?: unknown };
  try {
    value = JSON.parse(data);
  } catch (err) {
    return {
      type: "error",
      error: new GatewayError(502, "Upstream sent an unreadable stream event.", { cause: err }),
    };
  }
  if (value?.error) return { type: "error", error: streamError(parseGoogleError(data)!) };
  return { type: "response", response: value };
}

/**
 * The reading of one Gemini SSE body, chunk by chunk, without streams of its own: each chunk's text
 * is parsed at once and its items queued in {@link GeminiStreamParser.items}. After an error item
 * ({@link GeminiStreamParser.failed}) nothing more is queued.
 */
class GeminiStreamParser {
  /** Items parsed and not yet taken. */
  readonly items: GeminiStreamItem[] = [];
  /** True once an error item was queued (the stream ends with it). */
  failed = false;
  /** True once the body's end was read. */
  ended = false;
  readonly #decoder = new TextDecoder();
  #events = 0;
  #raw = "";
  /** Characters since the last event boundary, and the end of the previous chunk (a boundary may span two). */
  #open = 0;
  #carry = "";
  /** Lines after the first event that are not SSE (a bare error written mid-stream). */
  #stray = "";
  readonly #parser = createSseParser({
    onEvent: (e: SseEvent & { data: string }) => {
      if (this.failed || !e.data.trim()) return;
      this.#events++;
      this.#push(geminiStreamItem(e.data));
    },
    onStray: (line) => {
      if (this.#events && this.#stray.length < RAW_LIMIT) this.#stray += line + "\n";
    },
  });

  #push(item: GeminiStreamItem): void {
    if (this.failed) return;
    this.items.push(item);
    if (item.type === "error") this.failed = true;
  }

  /** Reads one chunk of the body. */
  feed(chunk: Uint8Array): void {
    const text = this.#decoder.decode(chunk, { stream: true });
    if (!this.#events && this.#raw.length < RAW_LIMIT) this.#raw += text;
    this.#parser.feed(text);
    this.#open = charsSinceBoundary(this.#carry, text, this.#open);
    this.#carry = text.length >= 2 ? text.slice(-2) : (this.#carry + text).slice(-2);
    if (this.#open > MAX_EVENT_CHARS) {
      this.#push({
        type: "error",
        error: new GatewayError(
          502,
          `The upstream sent a stream event larger than ${MAX_EVENT_CHARS} characters; the gateway stopped reading it.`,
        ),
      });
    }
  }

  /** Reads the end of the body. */
  end(): void {
    this.ended = true;
    const rest = this.#decoder.decode();
    if (rest) this.#parser.feed(rest);
    this.#parser.feed("\n\n");
    // A bare JSON error object (no `data:` framing) written where a stream was expected, or after events.
    const text = (this.#events ? this.#stray : this.#raw).trim();
    const bare = text ? parseGoogleError(text) : null;
    if (bare) this.#push({ type: "error", error: streamError(bare) });
    else if (!this.#events) {
      // Google always sends at least one event: an empty body, an HTML page or JSON without SSE
      // framing is not an answer, and must not reach the client as an empty success.
      const start = redactKeys(this.#raw.trim().slice(0, 120));
      this.#push({
        type: "error",
        error: new GatewayError(
          502,
          start
            ? `Upstream sent a body that is not a Gemini event stream: ${start}`
            : "Upstream sent an empty stream.",
        ),
      });
    }
  }

  /** Reads a body that broke off (its read failed). */
  broken(err: unknown): void {
    this.ended = true;
    this.#push({
      type: "error",
      error: new GatewayError(502, "The upstream stream broke off before it finished.", { cause: err }),
    });
  }
}

/** What {@link pullGeminiStream} reads a body with: the body's own reader, or one the body offers. */
export type ChunkReader = PullSource<Uint8Array>;

/**
 * The key under which a body may offer a reader of its bytes that skips its own stream: a wrapper
 * whose bytes come from another stream (`holdUntilContent` in `./answer_check.ts`, once its hold is
 * over) saves the stream between them on every chunk. Calling it locks the body.
 */
export const DIRECT_READER: unique symbol = Symbol("directReader");

/** The reader {@link pullGeminiStream} reads `body` with. */
function readerOf(body: ReadableStream<Uint8Array> & { [DIRECT_READER]?: () => ChunkReader }): ChunkReader {
  return body[DIRECT_READER]?.() ?? body.getReader();
}

/**
 * A Gemini SSE body read as {@link GeminiStreamItem}s and handed to `stage` in the same pull (one
 * stream for the reading and what the stage makes of the items: a translator, its keep-alive and the
 * SSE encoder composed with `composeStages`). Pull-driven: each read of the result reads the body until
 * the stage emits something (nothing is read ahead); cancelling the result cancels the body. Every way
 * the body can go wrong is one error item ({@link readGeminiStream}); after it the body is cancelled and
 * the stage flushed.
 *
 * @throws (through the result) whatever the stage throws; the body is then cancelled.
 */
export function pullGeminiStream<O>(
  body: ReadableStream<Uint8Array>,
  stage: PullStage<GeminiStreamItem, O>,
): ReadableStream<O> {
  return pullThrough(readerOf(body), composeStages(geminiItemStage(), stage));
}

/**
 * Bytes of a Gemini SSE body to {@link GeminiStreamItem}s ({@link GeminiStreamParser}): a failed read
 * is the "broke off" error item, and the stage stops after an error item or the body's end.
 */
function geminiItemStage(): PullStage<Uint8Array, GeminiStreamItem> {
  const parser = new GeminiStreamParser();
  const drain = (emit: (item: GeminiStreamItem) => void) => {
    const { items } = parser;
    for (let i = 0; i < items.length; i++) emit(items[i]);
    items.length = 0;
  };
  return {
    transform(chunk, emit) {
      parser.feed(chunk);
      drain(emit);
    },
    flush(emit) {
      if (!parser.ended && !parser.failed) parser.end();
      drain(emit);
    },
    readFailed(err, emit) {
      parser.broken(err);
      drain(emit);
    },
    stopped: () => parser.failed || parser.ended,
  };
}

/** Passes each item on as it is. */
const ITEMS: PullStage<GeminiStreamItem, GeminiStreamItem> = { transform: (item, emit) => emit(item) };

/**
 * Reads a Gemini SSE body as {@link GeminiStreamItem}s. Pull-driven (nothing is read ahead of the
 * reader); cancelling the result cancels the upstream body; after an error item the stream ends and
 * the upstream body is cancelled.
 */
export function readGeminiStream(body: ReadableStream<Uint8Array>): ReadableStream<GeminiStreamItem> {
  return pullGeminiStream(body, ITEMS);
}

/**
 * Whether a Gemini answer stream said it is done: Gemini ends every answer with a `finishReason` on each
 * candidate (STOP, MAX_TOKENS, SAFETY, ...), or blocks the prompt (`promptFeedback.blockReason`, no
 * candidates). A stream whose body ends without either was cut off upstream (every recorded stream in
 * `tests/corpus/` ends with one), so it must not reach the client as a complete answer.
 *
 * Source: https://ai.google.dev/api/generate-content#v1beta.Candidate (finishReason: "If empty, the
 * model has not stopped generating tokens").
 */
export class StreamCompletion {
  #blocked = false;
  /** Whether each candidate seen (by index) has a finish reason yet. */
  #finished = new Map<number, boolean>();

  /** Reads one event of the stream. */
  observe(res: GeminiGenerateContentResponse): void {
    if (res.promptFeedback?.blockReason) this.#blocked = true;
    const candidates = res.candidates ?? [];
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i];
      const index = c.index ?? i;
      if (c.finishReason) this.#finished.set(index, true);
      else if (!this.#finished.has(index)) this.#finished.set(index, false);
    }
  }

  /** True when the prompt was blocked, or every candidate seen has a finish reason (and there was one). */
  get complete(): boolean {
    return this.#blocked || (this.#finished.size > 0 && [...this.#finished.values()].every(Boolean));
  }

  /** The error a client gets for a stream that ended before Gemini said it was done (502). */
  static cutOff(): GatewayError {
    return new GatewayError(
      502,
      "The upstream stream ended before Gemini finished the answer (no finishReason): what arrived may be cut " +
        "off. Send the request again.",
    );
  }
}

/**
 * Google's error at the end of a stream's tail (a `data:` event or a bare JSON object, the last thing
 * in the body), or null. The pipeline reads it to log a stream that failed after its 200.
 */
export function trailingStreamError(tail: string): GoogleErrorBody | null {
  const starts = [...tail.matchAll(/\{\s*"error"\s*:/g)].map((m) => m.index);
  for (let i = starts.length - 1; i >= 0; i--) {
    const found = parseGoogleError(tail.slice(starts[i]).trim());
    if (found) return found;
  }
  return null;
}

/**
 * A `TransformStream` from stream items back to Google's events (for the native edge when it
 * re-encodes a stream, e.g. after the smoother): a response as `data: {...}`, an error as Google's
 * error event `data: {"error": {...}}`.
 */
export class GeminiEventStream extends TransformStream<GeminiStreamItem, SseEvent> {
  constructor() {
    super({
      transform(item, controller) {
        controller.enqueue({ data: item.type === "response" ? item.response : item.error.toGoogle() });
      },
    });
  }
}
