/**
 * Request log entries written into a byte buffer as UTF-8 JSON when the request is recorded: no entry
 * object per request (the record itself goes through `JSON.stringify` while it is fresh in the
 * caches), no JSON text kept until the flush. The log store packs the buffered entries into its pages
 * by copying their bytes (`log_store.ts`).
 *
 * An entry is the JSON object of the stored entry: `id` first, then the record's fields in the
 * record's own order (undefined ones left out, as `JSON.stringify` does), `expiresAt`, and the masked
 * key last, written in ASCII (`"AIza\u2026k9Xw"`: most entries' only non-ASCII text, which would
 * otherwise make the whole text two-byte and its encoding slow). `JSON.parse` gives the same entry as
 * before; only the order of its fields differs.
 * Source of the format: ECMA-262 `JSON.stringify` (https://tc39.es/ecma262/#sec-json.stringify).
 *
 * @module
 */
import type { RequestRecord } from "../pipeline/request_record.ts";
import type { LogEntry } from "./log_store.ts";

/** What a log entry adds to (or replaces in) its request's record. */
export interface EntryExtras {
  /** 32 random bits: the id's suffix (`<time in base 36, 9 digits>-<8 hex digits>`). */
  random: number;
  /** The key in masked form (`AIza…k9Xw`). */
  keyMasked?: string;
  /** The error text as stored (redacted and capped); the record's own `error` is not read. */
  error?: string;
  /** Epoch ms when the entry expires. */
  expiresAt: number;
}

const encoder = new TextEncoder();
const INITIAL_BYTES = 64 * 1024;
/** A buffer emptied while larger than this is replaced by a small one (after a backlog). */
const IDLE_MAX_BYTES = 4 * 1024 * 1024;
/** Most masked keys whose entry end is kept. */
const MAX_CACHED = 10_000;

/** Two hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** The last id's time part (`<time in base 36, 9 digits>-`): requests of one millisecond share it. */
let idTime = Number.NaN;
let idPrefix = "";

/** `<time in base 36, 9 digits>-<8 hex digits>`. */
function idOf(time: number, random: number): string {
  if (time !== idTime) {
    idTime = time;
    idPrefix = `${time.toString(36).padStart(9, "0")}-`;
  }
  const r = random >>> 0;
  return idPrefix + HEX[r >>> 24] + HEX[(r >>> 16) & 255] + HEX[(r >>> 8) & 255] + HEX[r & 255];
}

/** The end of an entry with its masked key, `,"keyMasked":"AIza\u2026k9Xw"}`, by masked key. */
const maskTails = new Map<string, string>();

/**
 * The end of an entry: `}`, or `,"keyMasked":"AIza\u2026k9Xw"}`. The masked key is written in ASCII
 * (each UTF-16 unit past ASCII as `\uXXXX`), and built from one-byte pieces only: one two-byte string
 * among an entry's pieces would make the whole entry text two-byte, and its encoding slow.
 */
function maskTail(masked: string | undefined): string {
  if (masked === undefined) return "}";
  let tail = maskTails.get(masked);
  if (tail === undefined) {
    if (maskTails.size >= MAX_CACHED) maskTails.clear();
    const json = JSON.stringify(masked);
    tail = ',"keyMasked":';
    for (let i = 0; i < json.length; i++) {
      const c = json.charCodeAt(i);
      tail += c < 0x80 ? String.fromCharCode(c) : `\\u${c.toString(16).padStart(4, "0")}`;
    }
    maskTails.set(masked, tail += "}");
  }
  return tail;
}

/**
 * The entry's JSON text: `{"id":...,` the record's own fields as `JSON.stringify` writes the record
 * (no copy of it is made), then `"expiresAt"` and the masked key. A record with an error text is
 * written from an entry object instead, whose `error` is the stored (redacted, capped) text.
 */
export function entryJson(rec: RequestRecord, x: EntryExtras): string {
  const own = rec.error === undefined ? JSON.stringify(rec) : "";
  if (own.length > 2) {
    return `{"id":"${idOf(rec.time, x.random)}",${own.slice(1, -1)},"expiresAt":${
      JSON.stringify(x.expiresAt)
    }${maskTail(x.keyMasked)}`;
  }
  const entry: Omit<LogEntry, "keyMasked"> = {
    id: idOf(rec.time, x.random),
    ...rec,
    error: x.error,
    expiresAt: x.expiresAt,
  };
  return JSON.stringify(entry).slice(0, -1) + maskTail(x.keyMasked);
}

/**
 * Log entries as UTF-8 JSON, one after another in one growable buffer, with what the store needs of
 * each without parsing it: time, expiry, status, and whether it is already in the request log.
 * Entry `i` spans `bytes[start(i)..end(i))`.
 */
export class EntryBuffer {
  /** The bytes; only the first `length` are used. */
  bytes = new Uint8Array(INITIAL_BYTES);
  length = 0;
  readonly #starts: number[] = [];
  readonly #times: number[] = [];
  readonly #expires: number[] = [];
  readonly #statuses: number[] = [];
  /** Entries already stored in the request log (a write of the error log failed after it). */
  readonly #inRequestLog: boolean[] = [];

  /** Entries held. */
  get count(): number {
    return this.#starts.length;
  }

  start(i: number): number {
    return this.#starts[i];
  }

  end(i: number): number {
    return i + 1 < this.#starts.length ? this.#starts[i + 1] : this.length;
  }

  time(i: number): number {
    return this.#times[i];
  }

  expiresAt(i: number): number {
    return this.#expires[i];
  }

  status(i: number): number {
    return this.#statuses[i];
  }

  inRequestLog(i: number): boolean {
    return this.#inRequestLog[i];
  }

  /** Writes the entry of `rec` (with `x`) at the end. */
  add(rec: RequestRecord, x: EntryExtras): void {
    const json = entryJson(rec, x);
    this.#meta({ time: rec.time, expiresAt: x.expiresAt, status: rec.status, inRequestLog: false });
    this.#room(json.length * 3);
    this.length += encoder.encodeInto(json, this.bytes.subarray(this.length)).written;
  }

  /** Copies entry `i` of `from` to the end (`inRequestLog`: it is already stored in the request log). */
  copy(from: EntryBuffer, i: number, inRequestLog: boolean): void {
    this.#meta({ time: from.time(i), expiresAt: from.expiresAt(i), status: from.status(i), inRequestLog });
    const start = from.start(i);
    const end = from.end(i);
    this.#room(end - start);
    this.bytes.set(from.bytes.subarray(start, end), this.length);
    this.length += end - start;
  }

  /** Forgets every entry. */
  clear(): void {
    this.length = 0;
    this.#starts.length = 0;
    this.#times.length = 0;
    this.#expires.length = 0;
    this.#statuses.length = 0;
    this.#inRequestLog.length = 0;
    if (this.bytes.length > IDLE_MAX_BYTES) this.bytes = new Uint8Array(INITIAL_BYTES);
  }

  #meta(m: { time: number; expiresAt: number; status: number; inRequestLog: boolean }): void {
    this.#starts.push(this.length);
    this.#times.push(m.time);
    this.#expires.push(m.expiresAt);
    this.#statuses.push(m.status);
    this.#inRequestLog.push(m.inRequestLog);
  }

  /** Makes room for `n` more bytes. */
  #room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, this.length));
    this.bytes = bytes;
  }
}
