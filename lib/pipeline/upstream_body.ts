/**
 * Reading an upstream answer's body chunk by chunk under the pipeline's timeouts: the idle timeout
 * between bytes (`IDLE_TIMEOUT_MS`, counted only while the gateway waits for the upstream, never while
 * a slow client holds the stream back) and the request's overall deadline. Whatever stops a read is
 * reported as one typed {@link BodyFailure}; the upstream socket is closed on every failure.
 *
 * @module
 */
import { type GatewayError, upstreamTimeout } from "../http/errors.ts";
import type { Deadlines, DeadlineTimer } from "./deadlines.ts";
import { UsageTail } from "./request_record.ts";
import { byobReader } from "../util/byte_stream.ts";

/** Why a timer aborted an upstream call: its headers were late, its body stalled, or the request's deadline passed. */
export class UpstreamTimeout extends Error {
  constructor(readonly what: "headers" | "idle" | "deadline", readonly ms: number) {
    super(`upstream ${what} timeout after ${ms} ms`);
    this.name = "UpstreamTimeout";
  }
}

/**
 * The `upstreamTimeout` error for a timer that fired; `sent` when it fired during an attempt (the
 * upstream may be generating: clients are told not to resend it).
 */
export function timeoutError(t: UpstreamTimeout, o: { sent: boolean }): GatewayError {
  switch (t.what) {
    case "headers":
      return upstreamTimeout(
        `The upstream did not start its answer within ${t.ms} ms; try again or raise REQUEST_TIMEOUT_MS.`,
        o,
      );
    case "idle":
      return upstreamTimeout(
        `The upstream stopped sending its answer for ${t.ms} ms; try again or raise IDLE_TIMEOUT_MS.`,
        o,
      );
    case "deadline":
      return upstreamTimeout(
        `The request got no answer within REQUEST_DEADLINE_MS (${t.ms} ms) across its attempts.`,
        o,
      );
  }
}

/** Why reading an upstream body stopped before its end. */
export class BodyFailure extends Error {
  constructor(
    /** `timeout`: a timer fired ({@link UpstreamTimeout} in `cause`); `broken`: the connection failed. */
    readonly kind: "timeout" | "broken",
    /** Bytes read before the failure. */
    readonly bytes: number,
    override readonly cause: unknown,
  ) {
    super(
      kind === "timeout"
        ? String((cause as Error).message)
        : `the upstream connection broke after ${bytes} bytes of the answer: ${String(cause)}`,
    );
    this.name = "BodyFailure";
  }
}

/** Options of {@link UpstreamBody}. */
export interface UpstreamBodyOptions {
  /** The shared timer. */
  deadlines: Deadlines;
  /** Longest wait for the next chunk, in ms (0 = no limit). */
  idleMs: number;
  /** Aborts the upstream call (closing its socket) with the given reason. */
  abort: (reason: unknown) => void;
  /** The upstream call's signal: its reason tells a timeout from a client that went away. */
  signal: AbortSignal;
  /**
   * Keep the answer's last bytes as it is read (default true). A unary answer held whole has them in
   * its bytes; it calls {@link UpstreamBody.keepTail} if it turns out too large to hold.
   */
  tail?: boolean;
}

/** Smallest and largest buffer one read fills (see {@link UpstreamBody}). */
const MIN_READ = 4 * 1024;
const MAX_READ = 64 * 1024;

/**
 * The largest answer read whole in one native read ({@link UpstreamBody.whole}) rather than chunk by
 * chunk: a body this small that declares its length arrives in a few packets, so the idle timeout
 * bounding the whole read is the pause between its bytes.
 */
export const WHOLE_READ_BYTES = 64 * 1024;

/**
 * An upstream body read one chunk at a time, into buffers the gateway sizes itself: a read waiting on
 * a slow stream holds a 4 KiB buffer, not `fetch`'s own 64 KiB one (with 1,000 open streams that is
 * the difference between 4 MB and 64 MB); the size doubles while reads fill it, for large answers.
 * Keeps the last bytes (for usage and framing) in a small copy, never a reference to the chunks.
 * A small answer that declares its length is read whole instead ({@link whole}).
 */
export class UpstreamBody {
  readonly #res: Response;
  #reader?: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;
  #size = MIN_READ;
  readonly #o: UpstreamBodyOptions;
  #tail?: UsageTail;
  /** The idle timeout, armed around each read (made on the first). */
  #idle?: DeadlineTimer;
  /** Bytes read so far. */
  bytes = 0;

  /** @param res an answer with a body. */
  constructor(res: Response, options: UpstreamBodyOptions) {
    this.#res = res;
    this.#o = options;
    if (options.tail !== false) this.#tail = new UsageTail();
  }

  /** The answer's last bytes (since {@link keepTail} when the body was read without a tail). */
  get tail(): UsageTail {
    return this.#tail ??= new UsageTail();
  }

  /** Starts keeping the tail of a body read without one, from the chunks read so far. */
  keepTail(held: readonly Uint8Array[]): void {
    if (this.#tail) return;
    this.#tail = new UsageTail();
    for (const chunk of held) this.#tail.push(chunk);
  }

  /**
   * The declared length of a body small enough to read whole (at most `cap` and
   * {@link WHOLE_READ_BYTES}), or undefined: no `content-length`, a larger one, or an encoded body
   * (whose declared length is not what is read).
   */
  wholeLength(cap: number): number | undefined {
    const headers = this.#res.headers;
    const declared = headers.get("content-length");
    if (declared === null || headers.has("content-encoding")) return undefined;
    const length = Number(declared);
    return Number.isSafeInteger(length) && length <= Math.min(cap, WHOLE_READ_BYTES) ? length : undefined;
  }

  /**
   * The whole body in one native read (no stream reads: a fraction of the CPU of reading it chunk by
   * chunk), for a body {@link wholeLength} accepts; the idle timeout bounds the whole read, and so does
   * the request's deadline (one timer: whichever comes first).
   *
   * @param o `leftMs`: ms left before the request's deadline (`deadlineMs`, for its error); `now`: the
   *   step's `performance.now()`.
   * @throws {BodyFailure} when the idle timeout or the deadline fired, or the connection broke.
   * @throws the signal's reason when the call was aborted for another reason (the client went away).
   */
  async whole(
    o: { leftMs: number; deadlineMs: number; now?: number } = { leftMs: Infinity, deadlineMs: 0 },
  ): Promise<Uint8Array<ArrayBuffer>> {
    const { idleMs, deadlines, abort } = this.#o;
    const idle = idleMs > 0 ? idleMs : Infinity;
    const ms = Math.min(idle, o.leftMs);
    const cancel = Number.isFinite(ms)
      ? deadlines.add(
        ms,
        () =>
          abort(
            idle <= o.leftMs
              ? new UpstreamTimeout("idle", idleMs)
              : new UpstreamTimeout("deadline", o.deadlineMs),
          ),
        o.now,
      )
      : undefined;
    try {
      const bytes = await this.#res.bytes();
      this.#check();
      this.bytes = bytes.length;
      return bytes;
    } catch (e) {
      throw this.#failure(e);
    } finally {
      cancel?.();
    }
  }

  /**
   * The next chunk, or undefined at the end of the body. With `idle: false` the idle timeout does not
   * apply (another timer bounds the wait, e.g. the attempt's start timer for a stream's first bytes).
   *
   * @throws {BodyFailure} when the idle timeout or the deadline fired, or the connection broke.
   * @throws the signal's reason when the call was aborted for another reason (the client went away).
   */
  async read(o: { idle: boolean } = { idle: true }): Promise<Uint8Array | undefined> {
    const { idleMs, deadlines, abort } = this.#o;
    const idle = idleMs > 0 && o.idle
      ? this.#idle ??= deadlines.timer(() => abort(new UpstreamTimeout("idle", idleMs)))
      : undefined;
    idle?.arm(idleMs);
    try {
      this.#reader ??= byobReader(this.#res.body!) ?? this.#res.body!.getReader();
      const r = this.#reader instanceof ReadableStreamBYOBReader
        ? await this.#reader.read(new Uint8Array(this.#size))
        : await this.#reader.read();
      this.#check();
      if (r.done || !r.value) return undefined;
      if (r.value.length === this.#size) this.#size = Math.min(this.#size * 2, MAX_READ);
      else if (r.value.length < this.#size / 4) this.#size = Math.max(this.#size / 2, MIN_READ);
      this.bytes += r.value.length;
      this.#tail?.push(r.value);
      return r.value;
    } catch (e) {
      throw this.#failure(e);
    } finally {
      idle?.disarm();
    }
  }

  /** Throws the signal's reason when a timer fired (or the client left) as a read ended. */
  #check(): void {
    const { signal } = this.#o;
    if (signal.aborted) throw signal.reason;
  }

  /** What a failed read throws: a {@link BodyFailure}, or the reason the call was aborted for. */
  #failure(e: unknown): unknown {
    const { abort, signal } = this.#o;
    const reason = signal.aborted ? signal.reason : e;
    if (reason instanceof UpstreamTimeout) return new BodyFailure("timeout", this.bytes, reason);
    if (signal.aborted) return reason;
    abort(e);
    return new BodyFailure("broken", this.bytes, e);
  }

  /** Stops reading and closes the upstream connection. */
  cancel(reason?: unknown): void {
    (this.#reader ?? this.#res.body)?.cancel(reason).catch(() => {});
  }

  /**
   * Reads a whole (small) body up to `cap` bytes under the same timers, then closes the connection:
   * for error answers, whose status already says what happened. A body that stalls (`idleMs`) or
   * breaks ends the read early.
   *
   * @returns what arrived (at most `cap` bytes), decoded as UTF-8.
   */
  async text(cap: number): Promise<string> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      while (size < cap) {
        const chunk = await this.read();
        if (!chunk) break;
        const room = cap - size;
        chunks.push(chunk.length > room ? chunk.slice(0, room) : chunk.slice());
        size += Math.min(chunk.length, room);
      }
    } catch {
      // what arrived is what the client gets
    } finally {
      this.cancel();
    }
    return new TextDecoder().decode(concatBytes(chunks, size));
  }
}

/** Joins chunks into one array of `size` bytes (the chunk itself when there is one). */
export function concatBytes(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1 && chunks[0].length === size) return chunks[0] as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
