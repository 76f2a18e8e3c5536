/**
 * Relaying an answer the client reads as it arrives (a stream, or a unary answer too large to hold):
 * a `ReadableStream` that pulls one upstream chunk per read (no chunk is queued or kept), masks the
 * secrets in an error Google writes into a 200 answer, and tells the pipeline once how the answer
 * ended: the upstream's end (or Google's trailing error object), a break or stall after the first bytes
 * (Google's error event when the SSE framing allows, else a broken body), the client leaving (499), or
 * a shutdown cutting it. The record, the pool and usage stay with the pipeline (`attempt_success.ts`).
 *
 * @module
 */
import { badGateway } from "../http/errors.ts";
import { trailingStreamError } from "../gemini/stream.ts";
import { classify, type Verdict } from "../pool/classify.ts";
import { ErrorTextRedactor } from "./stream_redaction.ts";
import { BodyFailure, timeoutError, type UpstreamBody, type UpstreamTimeout } from "./upstream_body.ts";

/** One encoder (it keeps no state). */
const ENCODER = new TextEncoder();

/** How a relayed answer ended, for the request's record. */
export interface RelayEnd {
  /** The status the record keeps (the upstream's, 499 when the client left, the error's). */
  status: number;
  /** What failed (masked), when something did. */
  error?: string;
  /** What the key is told. */
  verdict: Verdict;
  /** True when the key served (the client leaving or a shutdown is not the key's failure). */
  ok: boolean;
}

/** Options of {@link relayAnswer}. */
export interface RelayOptions {
  /** The answer's body, being read. */
  body: UpstreamBody;
  /** Chunks read before the relay started (a stream's first bytes), passed on first. */
  head: Uint8Array[];
  /** The answer's `content-type` (SSE answers can end with an error event). */
  contentType: string;
  /** The upstream's status. */
  status: number;
  /** Masks secrets in upstream text. */
  redact: (text: string) => string;
  /** True once the client went away (its signal aborted). */
  clientGone: () => boolean;
  /** For Google's trailing error object's verdict (`DEFAULT_COOLDOWN_MS`). */
  defaultCooldownMs: number;
  /** Records how the answer ended; false when it had already ended (it is recorded once). */
  end: (end: RelayEnd) => boolean;
}

/** A relayed answer: its body for the client, and how a shutdown ends it. */
export interface Relay {
  stream: ReadableStream<Uint8Array>;
  /** Ends the answer as a shutdown's cut (503 in the record, not the key's fault; a broken body). */
  cut(reason: string): void;
}

/**
 * The error that ends a client's stream when no error event can be framed: Deno then breaks the
 * response off (and prints the error once), so the client sees an unfinished body, not a success.
 */
function brokenBody(message: string): Error {
  const e = new Error(`Answer stream cut: ${message}`);
  e.stack = e.message; // one line in the server's log, not a stack of the gateway's internals
  return e;
}

/**
 * {@link ErrorTextRedactor} over bytes: decodes relayed chunks as UTF-8 and encodes what may pass. A
 * chunk that passes whole and unchanged goes on as the bytes that came (no encoding, no copy) when those
 * bytes are exactly what encoding would give: it starts and ends on a character boundary, holds no
 * invalid UTF-8 (which decoding turns into U+FFFD) and is not the body's first chunk starting with a
 * byte-order mark (which decoding drops).
 */
export class RelayMasking {
  readonly #text: ErrorTextRedactor;
  readonly #decoder = new TextDecoder();
  #ended = false;
  /** The previous chunk ended on a character boundary (the decoder holds no bytes of a character). */
  #aligned = true;
  /** No byte has come yet (a byte-order mark is dropped only at the start). */
  #first = true;

  constructor(redact: (text: string) => string) {
    this.#text = new ErrorTextRedactor(redact);
  }

  /** The bytes of `chunk` that may be passed on now (empty while a line's start is undecided). */
  pass(chunk: Uint8Array): Uint8Array | undefined {
    if (chunk.length === 0) return undefined; // nothing to pass, and the decoder's state is unchanged
    const text = this.#decoder.decode(chunk, { stream: true });
    const out = this.#text.push(text);
    const same = this.#aligned && !(this.#first && chunk[0] === 0xef);
    this.#first = false;
    // A last byte below 0x80 ends a character (ASCII): nothing of this chunk waits in the decoder.
    this.#aligned = chunk[chunk.length - 1] < 0x80;
    if (same && this.#aligned && out === text && !text.includes("\uFFFD")) return chunk;
    return out ? ENCODER.encode(out) : undefined;
  }

  /** Whatever is still held, masked when it is an error (once; undefined when nothing is left). */
  end(): Uint8Array | undefined {
    if (this.#ended) return undefined;
    this.#ended = true;
    const out = this.#text.push(this.#decoder.decode()) + this.#text.flush();
    return out ? ENCODER.encode(out) : undefined;
  }
}

/** Relays an answer to the client (see the module docs). */
export function relayAnswer(o: RelayOptions): Relay {
  const { body, head, redact } = o;
  const sse = /event-stream/i.test(o.contentType);
  // An error Google writes into a 200 answer may quote secrets: masked before any client reads it.
  const masking = sse || /json/i.test(o.contentType) ? new RelayMasking(redact) : undefined;
  let done = false;
  let stop: ((reason: unknown) => void) | undefined;
  const end = (e: RelayEnd) => {
    if (done) return false;
    done = true;
    return o.end(e);
  };
  const clientClosed = () =>
    end({ status: 499, error: "client closed the stream", verdict: { kind: "ok" }, ok: true });
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      stop = (reason) => controller.error(reason);
    },
    pull: async (controller) => {
      for (;;) {
        if (done) return;
        const chunk = head.shift() ?? await read(controller);
        if (chunk === undefined) return;
        if (chunk === null) {
          // The upstream's end: what the masking still holds goes out (masked if it is an error).
          const held = masking?.end();
          if (held) controller.enqueue(held);
          return controller.close();
        }
        const out = masking ? masking.pass(chunk) : chunk;
        if (out) return controller.enqueue(out);
        // Everything was held back (a line that may be an error's start): read on.
      }
    },
    cancel: (reason) => {
      clientClosed();
      body.cancel(reason);
    },
  }, { highWaterMark: 0 });
  /**
   * The next upstream chunk; null at the upstream's end (recorded); undefined when the stream is over
   * here (the client left, or a break was passed on as an error event or a broken body).
   */
  const read = async (
    controller: ReadableStreamDefaultController<Uint8Array>,
  ): Promise<Uint8Array | null | undefined> => {
    let chunk: Uint8Array | undefined;
    try {
      chunk = await body.read();
    } catch (e) {
      if (done) return;
      if (o.clientGone()) {
        clientClosed();
        controller.error(e);
        return;
      }
      const timeout = e instanceof BodyFailure && e.kind === "timeout";
      const err = timeout
        ? timeoutError((e as BodyFailure).cause as UpstreamTimeout, { sent: true })
        : badGateway(
          `The upstream stream broke off after ${body.bytes} bytes: ${
            redact(String((e as Error).message ?? e))
          }`,
          e,
        );
      end({
        status: err.status,
        error: err.message,
        verdict: { kind: "transient", reason: err.message },
        ok: false,
      });
      body.cancel(e);
      if (sse && body.tail.atEventBoundary()) {
        const held = masking?.end();
        if (held) controller.enqueue(held);
        controller.enqueue(ENCODER.encode(`data: ${JSON.stringify(err.toGoogle())}\r\n\r\n`));
        controller.close();
        return;
      }
      controller.error(brokenBody(err.message));
      return;
    }
    if (done) return;
    if (!chunk) {
      // Google may end a 200 stream with its error object: then the stream failed, and the log says so.
      const failed = trailingStreamError(body.tail.text());
      if (failed) {
        const status = failed.error.code || 500;
        end({
          status,
          error: redact(JSON.stringify(failed)),
          verdict: classify({
            status,
            body: failed,
            now: Date.now(),
            defaultCooldownMs: o.defaultCooldownMs,
          }),
          ok: false,
        });
      } else end({ status: o.status, verdict: { kind: "ok" }, ok: true });
      return null;
    }
    return chunk;
  };
  return {
    stream,
    cut(reason) {
      if (!end({ status: 503, error: reason, verdict: { kind: "client_error" }, ok: true })) return;
      body.cancel(reason);
      stop?.(brokenBody(reason));
    },
  };
}
