/**
 * Server-sent events as objects: one encoder (event objects -> bytes) and one parser (bytes -> event
 * objects, with `eventsource-parser`). Translators emit {@link SseEvent}s; only an edge serializes them.
 * The encoder follows the shape of Deno std's `ServerSentEventStream` (written here because JSR cannot
 * be reached).
 *
 * Source: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 *
 * @module
 */
import { createParser, type EventSourceParser } from "eventsource-parser";
import { type PullStage, pullThrough } from "../util/pull_through.ts";

/** One server-sent event, or a comment line. */
export interface SseEvent {
  /** The `event:` field (a named event, e.g. Anthropic's `message_start`). */
  event?: string;
  /** The `data:` payload: a string is written as is, anything else as JSON. */
  data?: unknown;
  /** The `id:` field. */
  id?: string;
  /** The `retry:` field, in ms. */
  retry?: number;
  /** A comment line (`: text`), which clients ignore; used for keep-alives. */
  comment?: string;
}

/** Options of {@link SseEncoderStream}. */
export interface SseEncoderOptions {
  /**
   * Line ending: `"\n"` (default; what OpenAI and Anthropic send) or `"\r\n"` (Google's framing,
   * `data: {...}\r\n\r\n`).
   */
  lineEnding?: "\n" | "\r\n";
}

const NEWLINE = /\r\n|\r|\n/;

/** Serializes one event (a multi-line `data` becomes several `data:` lines, as the spec requires). */
export function encodeSseEvent(e: SseEvent, eol: "\n" | "\r\n" = "\n"): string {
  let out = "";
  if (e.comment !== undefined) out += `: ${e.comment}${eol}`;
  if (e.event !== undefined) out += `event: ${e.event}${eol}`;
  if (e.id !== undefined) out += `id: ${e.id}${eol}`;
  if (e.retry !== undefined) out += `retry: ${e.retry}${eol}`;
  if (e.data !== undefined) {
    // JSON text has no raw line breaks (they are escaped): only a string payload can need several lines.
    if (typeof e.data !== "string") out += `data: ${JSON.stringify(e.data)}${eol}`;
    else if (e.data.includes("\n") || e.data.includes("\r")) {
      for (const line of e.data.split(NEWLINE)) out += `data: ${line}${eol}`;
    } else out += `data: ${e.data}${eol}`;
  }
  return out + eol;
}

/** One encoder for every stream (`encode` and `encodeInto` keep no state). */
const ENCODER = new TextEncoder();
/** Size of the buffers events are encoded into, in bytes. */
const SLAB_BYTES = 4096;

/**
 * Encodes texts into views of one buffer (a new one when it is full) instead of a buffer per text:
 * allocating an `ArrayBuffer` costs more than encoding a small event. Views never overlap and a region is
 * never written twice, so each chunk handed out stays as it was. A text that may not fit in half a
 * buffer gets its own. The chunks of a buffer share it: a consumer may read, copy or write them (Deno's
 * server writes them without copying), but one that transfers a chunk's buffer (`postMessage` with
 * transfer, a byte stream's `enqueue`) must copy it first, as for any chunk it does not own; the encoder
 * then starts a new buffer.
 */
export class SlabEncoder {
  #slab = new Uint8Array(0);
  #used = 0;

  /** The UTF-8 bytes of `text`. */
  encode(text: string): Uint8Array {
    const most = text.length * 3; // UTF-8 bytes per UTF-16 code unit, at most
    if (most > SLAB_BYTES / 2) return ENCODER.encode(text);
    if (most > this.#slab.length - this.#used) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
    }
    const start = this.#used;
    this.#used += ENCODER.encodeInto(text, this.#slab.subarray(start)).written;
    return this.#slab.subarray(start, this.#used);
  }
}

/** The encoding stage: each {@link SseEvent} to its bytes. */
export function sseEncoderStage(options: SseEncoderOptions = {}): PullStage<SseEvent, Uint8Array> {
  const encoder = new SlabEncoder();
  const eol = options.lineEnding ?? "\n";
  return { transform: (event, emit) => emit(encoder.encode(encodeSseEvent(event, eol))) };
}

/**
 * A transform stream (for `pipeThrough`) from {@link SseEvent} objects to SSE bytes. The edges'
 * answers encode with the same stage pulled directly ({@link sseResponse}).
 */
export class SseEncoderStream implements ReadableWritablePair<Uint8Array, SseEvent> {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<SseEvent>;

  constructor(options: SseEncoderOptions = {}) {
    const { readable, writable } = new TransformStream<SseEvent, SseEvent>();
    this.writable = writable;
    this.readable = pullThrough(readable, sseEncoderStage(options));
  }
}

/**
 * A parser fed with text; `onEvent` receives each complete event, `onComment` each comment line, and
 * `onStray` each line that is not SSE (no known field: e.g. a bare JSON error written into a stream).
 */
export function createSseParser(
  callbacks: {
    onEvent: (e: SseEvent & { data: string }) => void;
    onComment?: (text: string) => void;
    onStray?: (line: string) => void;
  },
): EventSourceParser {
  return createParser({
    onEvent: (m) => {
      const e: SseEvent & { data: string } = { data: m.data };
      if (m.event !== undefined) e.event = m.event;
      if (m.id !== undefined) e.id = m.id;
      callbacks.onEvent(e);
    },
    onComment: callbacks.onComment,
    onError: callbacks.onStray
      ? (e) => e.type === "unknown-field" && e.line !== undefined && callbacks.onStray!(e.line)
      : undefined,
  });
}

/** Options of {@link SseParserStream}. */
export interface SseParserOptions {
  /** Also emit comment lines as `{comment}` events (default false: they are dropped). */
  comments?: boolean;
}

/** A `TransformStream` from SSE bytes (or text) to {@link SseEvent} objects whose `data` is a string. */
export class SseParserStream extends TransformStream<Uint8Array | string, SseEvent & { data?: string }> {
  constructor(options: SseParserOptions = {}) {
    const decoder = new TextDecoder();
    let parser: EventSourceParser;
    super({
      start(controller) {
        parser = createSseParser({
          onEvent: (e) => controller.enqueue(e),
          onComment: options.comments ? (comment) => controller.enqueue({ comment }) : undefined,
        });
      },
      transform(chunk) {
        parser.feed(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
      },
      flush() {
        const rest = decoder.decode();
        if (rest) parser.feed(rest);
        parser.feed("\n\n");
      },
    });
  }
}

/** Response headers of an SSE answer (no caching, no proxy buffering). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

/** Options of {@link sseBodyResponse}. */
export interface SseBodyOptions {
  /** Extra response headers. */
  headers?: HeadersInit;
  status?: number;
}

/** Options of {@link sseResponse}. */
export interface SseResponseOptions extends SseEncoderOptions, SseBodyOptions {}

/**
 * A streamed `Response` that serializes `events` (the one place an edge turns events into bytes),
 * one event per read of the body ({@link pullThrough}: no transform stream's pipe per event).
 */
export function sseResponse(events: ReadableStream<SseEvent>, options: SseResponseOptions = {}): Response {
  return sseBodyResponse(pullThrough(events, sseEncoderStage(options)), options);
}

/**
 * A streamed SSE `Response` of bytes already encoded with {@link sseEncoderStage} (e.g. by a stage
 * composed of a translator and the encoder, read in one stream), with {@link SSE_HEADERS}.
 */
export function sseBodyResponse(body: ReadableStream<Uint8Array>, options: SseBodyOptions = {}): Response {
  if (!options.headers) return new Response(body, { status: options.status ?? 200, headers: SSE_HEADERS });
  const headers = new Headers(options.headers);
  for (const [k, v] of Object.entries(SSE_HEADERS)) if (!headers.has(k)) headers.set(k, v);
  return new Response(body, { status: options.status ?? 200, headers });
}
