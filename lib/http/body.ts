/**
 * Reading request bodies with a size limit.
 *
 * @module
 */
import type { z } from "zod";
import { badRequest, clientClosed, GatewayError, tooLarge } from "./errors.ts";
import { Deadlines } from "../pipeline/deadlines.ts";
import { byobReader } from "../util/byte_stream.ts";

/** Body timeouts from one shared timer (a `setTimeout` per request costs µs on every request). */
const bodyDeadlines = new Deadlines();

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Longest time the whole body may take to arrive, in ms (0 or absent = no limit). */
  timeoutMs?: number;
}

/**
 * Reads a request body as bytes; over `limit` bytes gets a 413 with an actionable message (before a
 * byte is read when `Content-Length` says so), a body slower than `timeoutMs` a 408 (a body over 64 KiB
 * is cancelled, so nothing of it stays held; a smaller one is read whole, see {@link WHOLE_READ}).
 *
 * @throws {GatewayError} 413, 408, or 499 when the client went away while sending (as a rejection).
 */
export function readBody(
  req: Request,
  limit: number,
  options: ReadBodyOptions = {},
): Promise<Uint8Array<ArrayBuffer> | null> {
  // Not an async function: the usual small body is `readWhole`'s promise itself, without one more
  // promise and await around it. Whatever throws here becomes a rejection, as from an async function.
  try {
    // Decide from the headers, without touching `req.body`: reading that getter turns the body into a
    // JavaScript stream, and `arrayBuffer()` then pumps it chunk by chunk instead of in one native read.
    const declared = Number(req.headers.get("content-length") ?? NaN);
    if (declared === 0 || (Number.isNaN(declared) && !req.headers.has("transfer-encoding") && !req.body)) {
      return Promise.resolve(null);
    }
    if (declared > limit) throw tooLarge(limit);
    const timeoutMs = options.timeoutMs ?? 0;
    if (declared <= limit && (!timeoutMs || declared <= WHOLE_READ)) return readWhole(req, limit, timeoutMs);
    return readStreamed(req, limit, { declared, timeoutMs });
  } catch (err) {
    return Promise.reject(err);
  }
}

/** A body of unknown length, or a large one with a timeout, read piece by piece (see {@link BodyReader}). */
async function readStreamed(
  req: Request,
  limit: number,
  o: { declared: number; timeoutMs: number },
): Promise<Uint8Array<ArrayBuffer> | null> {
  const { timeoutMs } = o;
  if (!req.body) return null;
  const body = new BodyReader(req.body, Number.isNaN(o.declared) ? undefined : o.declared);
  let timedOut = false;
  const stopTimer = timeoutMs
    ? bodyDeadlines.add(timeoutMs, () => {
      timedOut = true;
      body.cancel();
    })
    : undefined;
  try {
    for (;;) {
      let chunk: Uint8Array | undefined;
      try {
        chunk = await body.read();
      } catch {
        throw timedOut ? bodyTimeout(timeoutMs) : clientClosed();
      }
      if (timedOut) throw bodyTimeout(timeoutMs);
      if (!chunk) break;
      if (body.size > limit) {
        body.cancel();
        throw tooLarge(limit);
      }
    }
  } finally {
    stopTimer?.();
  }
  return body.bytes();
}

/**
 * Declared bodies up to this size are read in one whole-body read even with a timeout: one native read
 * instead of a stream reader's chunks. The read cannot be cancelled, so on a timeout what arrived stays
 * held until the client closes its connection: at most this much (a pending stream read holds a 64 KiB
 * buffer too). Larger bodies with a timeout go through {@link BodyReader}, which is cancelled.
 */
const WHOLE_READ = 64 * 1024;

/**
 * Microtasks a whole read waits before its timeout is armed. A body that came with its headers is in
 * memory already (Deno hands it over without a stream), and its read settles within a few microtasks
 * (2 to 4 measured on Deno 2.9), so it never arms a timer; a body still on the network needs a turn of
 * the event loop, which no microtask count reaches, and gets its timer a few microtasks late.
 */
const SETTLES_WITHIN = 8;

/**
 * The body in one read (`req.bytes()`), for a declared length within `limit`: the length is enforced
 * by the HTTP framing, so the buffer never outgrows it. With `timeoutMs`, a body slower than that gets
 * 408 (see {@link WHOLE_READ} for what stays held).
 */
function readWhole(req: Request, limit: number, timeoutMs: number): Promise<Uint8Array<ArrayBuffer>> {
  const read = req.bytes();
  if (!timeoutMs) return read.then((buf) => withinLimit(buf, limit), readFailed);
  return new Promise((resolve, reject) => {
    let settled = false;
    let stopTimer: (() => void) | undefined;
    read.then((buf) => {
      settled = true;
      stopTimer?.();
      if (buf.length > limit) reject(tooLarge(limit));
      else resolve(buf);
    }, () => {
      settled = true;
      stopTimer?.();
      reject(clientClosed());
    });
    let left = SETTLES_WITHIN;
    const armUnlessSettled = () => {
      if (settled) return;
      // The read goes on after a timeout and ends when the client closes the connection; its outcome is
      // ignored then (the promise is settled already).
      if (--left === 0) stopTimer = bodyDeadlines.add(timeoutMs, () => reject(bodyTimeout(timeoutMs)));
      else queueMicrotask(armUnlessSettled);
    };
    queueMicrotask(armUnlessSettled);
  });
}

/** The body read whole, unless it came out larger than `limit` (413). */
function withinLimit(buf: Uint8Array<ArrayBuffer>, limit: number): Uint8Array<ArrayBuffer> {
  if (buf.length > limit) throw tooLarge(limit);
  return buf;
}

/** A whole read that failed: the client went away while sending. */
function readFailed(): never {
  throw clientClosed();
}

/** Smallest and largest buffer one read of a request body fills. */
const FIRST_READ = 16 * 1024;
const MAX_READ = 1024 * 1024;

/**
 * Reads a request body into buffers sized as it arrives: a client that sends a little and stalls
 * holds a 16 KiB buffer, not Deno's 64 KiB one plus a 64 KiB buffer for each small piece (measured:
 * about 190 KB per half-sent request with the default reader, 20-30 KB this way). Full reads double
 * the next buffer (up to 1 MiB, never past the declared length); small pieces are kept as exact copies.
 */
class BodyReader {
  readonly #reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;
  readonly #declared?: number;
  readonly #chunks: Uint8Array[] = [];
  #next: number;
  /** Bytes read so far. */
  size = 0;

  constructor(stream: ReadableStream<Uint8Array>, declared?: number) {
    // A body that is no byte stream (one built in JavaScript, or the bytes that came with the headers)
    // is read with a default reader.
    const reader = byobReader(stream) ?? stream.getReader();
    this.#reader = reader;
    this.#declared = declared;
    this.#next = Math.max(1, Math.min(declared ?? FIRST_READ, FIRST_READ));
  }

  /** Reads the next piece; undefined at the end. */
  async read(): Promise<Uint8Array | undefined> {
    const want = this.#next;
    const r = this.#reader instanceof ReadableStreamBYOBReader
      ? await this.#reader.read(new Uint8Array(want))
      : await this.#reader.read();
    if (r.done || !r.value) return undefined;
    const value = r.value;
    const full = value.length === want;
    this.#chunks.push(full || value.length > want / 2 ? value : value.slice());
    this.size += value.length;
    if (full) {
      const left = this.#declared === undefined ? MAX_READ : Math.max(1, this.#declared - this.size);
      this.#next = Math.min(want * 2, MAX_READ, left);
    }
    return value;
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }

  /** The whole body in one array. */
  bytes(): Uint8Array<ArrayBuffer> {
    const chunks = this.#chunks;
    if (
      chunks.length === 1 && chunks[0].byteOffset === 0 && chunks[0].length === chunks[0].buffer.byteLength
    ) {
      return chunks[0] as Uint8Array<ArrayBuffer>;
    }
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** 408: the client sent its body too slowly. */
function bodyTimeout(ms: number): GatewayError {
  return new GatewayError(
    408,
    `The request body did not arrive within ${ms} ms; send it faster, or raise CLIENT_BODY_TIMEOUT_MS.`,
    { googleStatus: "DEADLINE_EXCEEDED" },
  );
}

/**
 * Reads a form body (`application/x-www-form-urlencoded` or `multipart/form-data`) of at most `limit`
 * bytes into its text fields (files are dropped).
 *
 * @throws {GatewayError} 413 over the limit (nothing more is read).
 */
export async function readForm(req: Request, limit: number): Promise<Record<string, string>> {
  const bytes = await readBody(req, limit);
  const type = req.headers.get("content-type") ?? "";
  const out: Record<string, string> = {};
  if (!bytes) return out;
  if (type.startsWith("multipart/form-data")) {
    const form = await new Response(bytes, { headers: { "content-type": type } }).formData().catch(() =>
      null
    );
    form?.forEach((v, k) => typeof v === "string" && (out[k] = v));
    return out;
  }
  new URLSearchParams(new TextDecoder().decode(bytes)).forEach((v, k) => (out[k] = v));
  return out;
}

/** Parses JSON bytes; malformed JSON gets a 400 saying where it broke. */
export function parseJson(bytes: Uint8Array | null): unknown {
  const text = bytes ? new TextDecoder().decode(bytes) : "";
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(
      undefined,
      `Invalid JSON payload received: ${
        e instanceof Error ? e.message : e
      }. Send a JSON object body with Content-Type: application/json.`,
    );
  }
}

/**
 * Reads a JSON request body and validates it with `schema`. A body that is not JSON, or a field that
 * fails, gets a 400 naming the field (in Google's envelope with a BadRequest field violation).
 * `example` shows a good body in the error message.
 */
export async function parseJsonBody<T extends z.ZodType>(
  req: Request,
  schema: T,
  example: string,
): Promise<z.infer<T>> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    throw badRequest("(body)", `The body must be a JSON object, e.g. ${example}.`);
  }
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    const field = i.path.join(".") || "(body)";
    throw badRequest(field, `${field}: ${i.message}`);
  }
  return r.data;
}
