/**
 * Request log entries written into a byte buffer as UTF-8 JSON when the request is recorded: no entry
 * object per request, no second copy of the record, no per-entry JSON kept until the flush. The log
 * store packs the buffered entries into its pages by copying their bytes (`log_store.ts`).
 *
 * An entry's bytes are exactly what `JSON.stringify` of the stored entry object gives, encoded to
 * UTF-8, with one difference kept from the store's earlier encoder: the masked key (`keyMasked`, most
 * entries' only non-ASCII text) comes last and as ASCII (`"AIza\u2026k9Xw"`), so `JSON.parse` gives the
 * same entry. Fields come in the order of {@link LogEntryFields}, and undefined ones are left out, as
 * `JSON.stringify` does. The text is put together from few pieces, most of them cached: the JSON of
 * strings seen before, and of whole runs of fields whose values repeat (route, method, paths, models,
 * key id, token name; client address, outcome, refusal). Each piece is one-byte (Latin-1) text unless
 * a value itself is not, so the entry's text stays one-byte and encodes fast.
 * Source of the format: ECMA-262 `JSON.stringify` (https://tc39.es/ecma262/#sec-json.stringify).
 *
 * @module
 */
import type { RequestRecord } from "../pipeline/request_record.ts";

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

/** The stored entry's fields in the order they are written (`keyMasked` last). */
export const LogEntryFields = [
  "id",
  "time",
  "route",
  "method",
  "path",
  "clientMethod",
  "clientPath",
  "clientModel",
  "model",
  "keyId",
  "tokenName",
  "status",
  "latencyMs",
  "attempts",
  "stream",
  "inputTokens",
  "outputTokens",
  "error",
  "live",
  "source",
  "outcome",
  "refusal",
  "count",
  "tries",
  "expiresAt",
  "keyMasked",
] as const;

const encoder = new TextEncoder();
const INITIAL_BYTES = 64 * 1024;
/** A buffer emptied while larger than this is replaced by a small one (after a backlog). */
const IDLE_MAX_BYTES = 4 * 1024 * 1024;
/** Most strings whose JSON is kept, and the longest kept (paths, models, ids repeat; texts do not). */
const MAX_CACHED = 10_000;
const MAX_CACHED_CHARS = 300;

/** The JSON of strings seen before (`"gemini"`): record fields repeat from request to request. */
const jsonOf = new Map<string, string>();

/** `JSON.stringify(s)`, remembered for short strings. */
function quoted(s: string): string {
  let json = jsonOf.get(s);
  if (json === undefined) {
    json = JSON.stringify(s);
    if (s.length <= MAX_CACHED_CHARS) {
      if (jsonOf.size >= MAX_CACHED) jsonOf.clear();
      jsonOf.set(s, json);
    }
  }
  return json;
}

/** `,"name":value` as `JSON.stringify` writes an object's field; "" when it leaves the field out. */
function field(key: string, v: unknown): string {
  switch (typeof v) {
    case "undefined":
      return "";
    case "string":
      return key + quoted(v);
    case "number":
      return key + (Number.isFinite(v) ? String(v) : "null");
    case "boolean":
      return key + (v ? "true" : "false");
    default: {
      const json = JSON.stringify(v);
      return json === undefined ? "" : key + json;
    }
  }
}

/** A tree of `Map`s, one level per field, whose leaves hold the text of a run of fields. */
type Node = Map<unknown, Node> & { text?: string };

/**
 * The text of runs of fields whose values repeat from request to request (route, path, model, key
 * id, token name...), kept per combination of values: one `Map` per field, nested in field order,
 * walked with {@link step}. Emptied when it holds {@link MAX_CACHED} combinations (values a client
 * chooses cannot grow it).
 */
class FieldRuns {
  #root: Node = new Map();
  #size = 0;

  /** Where a walk starts. */
  get root(): Node {
    return this.#root;
  }

  /** The text at `leaf`, made by `make` the first time. */
  text(leaf: Node, make: () => string): string {
    let text = leaf.text;
    if (text === undefined) {
      if (this.#size >= MAX_CACHED) {
        this.#root = new Map();
        this.#size = 0;
      }
      leaf.text = text = make();
      this.#size++;
    }
    return text;
  }
}

/** The node under `node` for the value `v`. */
function step(node: Node, v: unknown): Node {
  let next = node.get(v);
  if (next === undefined) node.set(v, next = new Map());
  return next;
}

const runs = new FieldRuns();
/** A separate root for each run (the runs share the size bound). */
const REQUEST_RUN = Symbol("request");
const CLIENT_RUN = Symbol("client");

/** `,"route":...,"method":...,"path":...` up to `tokenName`, as `field` writes each. */
function requestFields(rec: RequestRecord): string {
  let node = step(runs.root, REQUEST_RUN);
  node = step(node, rec.route);
  node = step(node, rec.method);
  node = step(node, rec.path);
  node = step(node, rec.clientMethod);
  node = step(node, rec.clientPath);
  node = step(node, rec.clientModel);
  node = step(node, rec.model);
  node = step(node, rec.keyId);
  node = step(node, rec.tokenName);
  return runs.text(
    node,
    () =>
      field(',"route":', rec.route) + field(',"method":', rec.method) + field(',"path":', rec.path) +
      field(',"clientMethod":', rec.clientMethod) + field(',"clientPath":', rec.clientPath) +
      field(',"clientModel":', rec.clientModel) + field(',"model":', rec.model) +
      field(',"keyId":', rec.keyId) +
      field(',"tokenName":', rec.tokenName),
  );
}

/** `,"source":...,"outcome":...,"refusal":...`, as `field` writes each. */
function clientFields(rec: RequestRecord): string {
  let node = step(runs.root, CLIENT_RUN);
  node = step(node, rec.source);
  node = step(node, rec.outcome);
  node = step(node, rec.refusal);
  return runs.text(
    node,
    () =>
      field(',"source":', rec.source) + field(',"outcome":', rec.outcome) + field(',"refusal":', rec.refusal),
  );
}

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

/** The attempts: `AttemptRecord`s are written as their four fields (`keyId`, `status`, `reason`, `ms`). */
function triesField(tries: unknown): string {
  if (!Array.isArray(tries)) return field(',"tries":', tries);
  let text = ',"tries":[';
  for (let i = 0; i < tries.length; i++) {
    const t = tries[i];
    const plain = typeof t === "object" && t !== null && typeof t.keyId === "string" &&
      typeof t.status === "number" && typeof t.reason === "string" && typeof t.ms === "number";
    text += (i ? "," : "") +
      (plain
        ? `{"keyId":${quoted(t.keyId)}${field(',"status":', t.status)}${field(',"reason":', t.reason)}${
          field(',"ms":', t.ms)
        }}`
        : JSON.stringify(t) ?? "null");
  }
  return text + "]";
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

/** The entry's JSON text (see the module doc). */
export function entryJson(rec: RequestRecord, x: EntryExtras): string {
  return `{"id":"${idOf(rec.time, x.random)}"` + field(',"time":', rec.time) + requestFields(rec) +
    field(',"status":', rec.status) + field(',"latencyMs":', rec.latencyMs) +
    field(',"attempts":', rec.attempts) +
    field(',"stream":', rec.stream) + field(',"inputTokens":', rec.inputTokens) +
    field(',"outputTokens":', rec.outputTokens) + field(',"error":', x.error) + field(',"live":', rec.live) +
    clientFields(rec) + field(',"count":', rec.count) + triesField(rec.tries) +
    field(',"expiresAt":', x.expiresAt) +
    maskTail(x.keyMasked);
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
