/**
 * Reading an upstream answer's body chunk by chunk under the pipeline's timeouts: the idle timeout
 * between bytes (`IDLE_TIMEOUT_MS`, counted only while the gateway waits for the upstream, never while
 * a slow client holds the stream back) and the request's overall deadline. Whatever stops a read is
 * reported as one typed {@link BodyFailure}; the upstream socket is closed on every failure.
 *
 * @module
 */
import type { Deadlines } from "./deadlines.ts";
import { UsageTail } from "./request_record.ts";
import { byobReader } from "../util/byte_stream.ts";

/** Why a timer aborted an upstream call: its headers were late, its body stalled, or the request's deadline passed. */
export class UpstreamTimeout extends Error {
  constructor(readonly what: "headers" | "idle" | "deadline", readonly ms: number) {
    super(`upstream ${what} timeout after ${ms} ms`);
    this.name = "UpstreamTimeout";
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
 * An upstream body read one chunk at a time, into buffers the gateway sizes itself: a read waiting on
 * a slow stream holds a 4 KiB buffer, not `fetch`'s own 64 KiB one (with 1,000 open streams that is
 * the difference between 4 MB and 64 MB); the size doubles while reads fill it, for large answers.
 * Keeps the last bytes (for usage and framing) in a small copy, never a reference to the chunks.
 */
export class UpstreamBody {
  readonly #reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;
  #size = MIN_READ;
  readonly #o: UpstreamBodyOptions;
  #tail?: UsageTail;
  /** Bytes read so far. */
  bytes = 0;

  constructor(body: ReadableStream<Uint8Array>, options: UpstreamBodyOptions) {
    this.#reader = byobReader(body) ?? body.getReader();
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
   * The next chunk, or undefined at the end of the body. With `idle: false` the idle timeout does not
   * apply (another timer bounds the wait, e.g. the attempt's start timer for a stream's first bytes).
   *
   * @throws {BodyFailure} when the idle timeout or the deadline fired, or the connection broke.
   * @throws the signal's reason when the call was aborted for another reason (the client went away).
   */
  async read(o: { idle: boolean } = { idle: true }): Promise<Uint8Array | undefined> {
    const { idleMs, deadlines, abort, signal } = this.#o;
    const cancel = idleMs > 0 && o.idle
      ? deadlines.add(idleMs, () => abort(new UpstreamTimeout("idle", idleMs)))
      : undefined;
    try {
      const r = this.#reader instanceof ReadableStreamBYOBReader
        ? await this.#reader.read(new Uint8Array(this.#size))
        : await this.#reader.read();
      if (signal.aborted) throw signal.reason; // a timer fired as the read ended
      if (r.done || !r.value) return undefined;
      if (r.value.length === this.#size) this.#size = Math.min(this.#size * 2, MAX_READ);
      else if (r.value.length < this.#size / 4) this.#size = Math.max(this.#size / 2, MIN_READ);
      this.bytes += r.value.length;
      this.#tail?.push(r.value);
      return r.value;
    } catch (e) {
      const reason = signal.aborted ? signal.reason : e;
      if (reason instanceof UpstreamTimeout) throw new BodyFailure("timeout", this.bytes, reason);
      if (signal.aborted) throw reason;
      abort(e);
      throw new BodyFailure("broken", this.bytes, e);
    } finally {
      cancel?.();
    }
  }

  /** Stops reading and closes the upstream connection. */
  cancel(reason?: unknown): void {
    this.#reader.cancel(reason).catch(() => {});
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
