/**
 * Small pure helpers for the mock Gemini upstream: field access that accepts camelCase and snake_case,
 * token counting, a JSON-schema value generator, deterministic embeddings, media fixtures, pagination.
 *
 * @module
 */

/** A JSON object. */
export type Json = Record<string, unknown>;

/** Narrows to a plain object. */
export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads `obj[camelName]`, falling back to its snake_case spelling (proto3 JSON accepts both). */
export function field(obj: unknown, camelName: string): unknown {
  if (!isObject(obj)) return undefined;
  if (camelName in obj) return obj[camelName];
  return obj[camelName.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())];
}

/** `field` narrowed to an array (empty when absent). */
export function arrayField(obj: unknown, camelName: string): unknown[] {
  const v = field(obj, camelName);
  return Array.isArray(v) ? v : [];
}

/** `field` narrowed to a string. */
export function stringField(obj: unknown, camelName: string): string | undefined {
  const v = field(obj, camelName);
  return typeof v === "string" ? v : undefined;
}

/** `field` narrowed to a number. */
export function numberField(obj: unknown, camelName: string): number | undefined {
  const v = field(obj, camelName);
  return typeof v === "number" ? v : undefined;
}

/** Whitespace-separated word count: the mock's notion of tokens. */
export function wordCount(text: string): number {
  const t = text.trim();
  return t === "" ? 0 : t.split(/\s+/).length;
}

/** All `text` of a list of Content objects, joined by spaces. */
export function contentsText(contents: unknown[]): string {
  return contents.flatMap((c) => arrayField(c, "parts"))
    .map((p) => stringField(p, "text"))
    .filter((t): t is string => t !== undefined)
    .join(" ");
}

/** UTF-8 byte length (grounding offsets are bytes). */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

function schemaType(schema: Json): string | undefined {
  const t = schema.type;
  const first = Array.isArray(t) ? t.find((x) => String(x).toLowerCase() !== "null") ?? t[0] : t;
  if (typeof first === "string") return first.toLowerCase();
  if (isObject(schema.properties)) return "object";
  if (schema.items !== undefined) return "array";
  return undefined;
}

function resolveRef(ref: string, root: Json): Json | undefined {
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!m) return undefined;
  const defs = root[m[1]];
  const found = isObject(defs) ? defs[m[2]] : undefined;
  return isObject(found) ? found : undefined;
}

/**
 * Generates a value satisfying a JSON Schema or Gemini `Schema`: objects get every property, strings "x",
 * numbers 1, booleans true, arrays one item, enums their first value.
 */
export function valueForSchema(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (!isObject(schema) || depth > 8) return null;
  const rootObj = isObject(root) ? root : {};
  if (typeof schema.$ref === "string") {
    return valueForSchema(resolveRef(schema.$ref, rootObj), rootObj, depth + 1);
  }
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    const nonNull = alternatives.find((a) => !(isObject(a) && String(a.type).toLowerCase() === "null"));
    return valueForSchema(nonNull ?? alternatives[0], rootObj, depth + 1);
  }
  switch (schemaType(schema)) {
    case "object": {
      const out: Json = {};
      const props = isObject(schema.properties) ? schema.properties : {};
      for (const [k, sub] of Object.entries(props)) out[k] = valueForSchema(sub, rootObj, depth + 1);
      return out;
    }
    case "array":
      return [valueForSchema(schema.items ?? { type: "string" }, rootObj, depth + 1)];
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return "x";
  }
}

/** FNV-1a 32-bit hash. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Deterministic embedding values in [-1, 1] seeded by the text. */
export function embeddingValues(text: string, dims: number): number[] {
  let state = hash32(text) || 1;
  const out: number[] = [];
  for (let i = 0; i < dims; i++) {
    state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) >>> 0;
    state = (state ^ (state + Math.imul(state ^ (state >>> 7), 0x297a2d39))) >>> 0;
    out.push(Math.round(((state / 0xffffffff) * 2 - 1) * 1e6) / 1e6);
  }
  return out;
}

/** A valid 1x1 PNG, base64. */
export const TINY_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/** Standard base64 of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** 4800 bytes (0.1 s) of 16-bit little-endian mono PCM at 24 kHz: a 440 Hz sine, base64. */
export const SINE_PCM_BASE64: string = (() => {
  const samples = 2400;
  const view = new DataView(new ArrayBuffer(samples * 2));
  for (let i = 0; i < samples; i++) {
    view.setInt16(i * 2, Math.round(Math.sin((2 * Math.PI * 440 * i) / 24000) * 8000), true);
  }
  return toBase64(new Uint8Array(view.buffer));
})();

/** One page of a list plus the token of the next page (absent on the last page). */
export function paginate<T>(
  items: readonly T[],
  o: { pageSize: number; pageToken: string | null },
): { page: T[]; nextPageToken?: string } {
  let start = 0;
  if (o.pageToken) {
    const n = Number(atob(o.pageToken).replace(/^offset:/, ""));
    start = Number.isFinite(n) && n >= 0 ? n : 0;
  }
  const size = Math.min(Math.max(1, o.pageSize), 1000);
  const page = items.slice(start, start + size);
  const next = start + size;
  return next < items.length ? { page, nextPageToken: btoa(`offset:${next}`) } : { page };
}

/** A random lowercase id (like Google's file ids). */
export function randomId(length = 12): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** A random base64 blob (thought signatures, response ids). */
export function randomBase64(bytes = 24): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Resolves after `ms` or as soon as `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
