/**
 * The request log's entries as JSON text, written by hand for the entry's fixed shape. The log store
 * serializes the entries of a batch in one loop when it flushes (`log_store.ts`), and most of an
 * entry's text repeats from request to request: the JSON of strings seen before is kept, and so is
 * the text of whole runs of fields whose values repeat (route, method, paths, models, key id, token
 * name; client address, outcome, refusal), so an entry is put together from a few pieces.
 *
 * The text is exactly `JSON.stringify` of the entry object (fields in {@link LOG_ENTRY_ORDER}, undefined
 * ones left out), except that the masked key (`keyMasked`, most entries' only non-ASCII text) is
 * taken out and returned apart, as ASCII (`"AIza\u2026k9Xw"`), to be written last: `JSON.parse` of
 * `head + tail` gives the entry. Every piece is one-byte (Latin-1) text unless a value itself is not,
 * so the head stays one-byte and encodes to UTF-8 on the fast path.
 * Source of the format: ECMA-262 `JSON.stringify` (https://tc39.es/ecma262/#sec-json.stringify).
 *
 * @module
 */
import type { RequestRecord } from "../pipeline/request_record.ts";
import type { LogEntry } from "./log_store.ts";

/** The stored entry's fields in the order they are written (`keyMasked` apart, last). */
export const LOG_ENTRY_ORDER = [
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
] as const satisfies ReadonlyArray<keyof LogEntry>;

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

/**
 * An entry's JSON in two parts, `head` + `tail`: the head is the entry without its masked key and
 * without the closing `}`; the tail is `,"keyMasked":"AIza\u2026k9Xw"}` (ASCII), or `}`.
 */
export function entryJson(e: LogEntry): { head: string; tail: string } {
  const head = `{"id":${JSON.stringify(e.id)}` + field(',"time":', e.time) + requestFields(e) +
    field(',"status":', e.status) + field(',"latencyMs":', e.latencyMs) + field(',"attempts":', e.attempts) +
    field(',"stream":', e.stream) + field(',"inputTokens":', e.inputTokens) +
    field(',"outputTokens":', e.outputTokens) + field(',"error":', e.error) + field(',"live":', e.live) +
    clientFields(e) + field(',"count":', e.count) + triesField(e.tries) + field(',"expiresAt":', e.expiresAt);
  return { head, tail: maskTail(e.keyMasked) };
}
