/**
 * A key as the pool stores it, its kind (a Gemini API key, or a Vertex AI express-mode key), and helpers
 * to identify, mask and extract keys.
 *
 * How a key's kind is written (in `GEMINI_API_KEYS` and in text pasted into the admin panel): a Gemini
 * API key as it is (`AIza…`, `AQ.…`), a Vertex AI express key with the prefix `vertex:`
 * (`vertex:AQ.…`). Both services issue keys of both shapes, so the shape cannot tell the kind.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { maskKey } from "../secrets/redact.ts";
import { KEY_KINDS, type KeyKind } from "./key_kinds.ts";

export { KEY_KINDS, type KeyKind } from "./key_kinds.ts";

/** Known request limits for a model (entered by the admin or learned from Google's 429s). */
export interface ModelLimits {
  /** Requests per minute. */
  rpm?: number;
  /** Requests per day (Pacific day). */
  rpd?: number;
}

/** A key and its durable state. */
export interface KeyRecord {
  /** Stable id derived from the key and its kind (a hash prefix); safe to show and log. */
  id: string;
  /** The secret itself. Only ever sent upstream in `x-goog-api-key`. */
  key: string;
  /** The key's kind; absent on records stored before kinds existed, which are Gemini API keys. */
  kind?: KeyKind;
  /** Free-form label shown in the panel. */
  label?: string;
  /** Google Cloud project; keys of one project share its quota. */
  project?: string;
  enabled: boolean;
  /** Why the key was disabled (Google's reason, or "disabled by admin"). */
  disabledReason?: string;
  disabledAt?: number;
  addedAt: number;
  /** Known limits per model id (`*` for every model). */
  limits?: Record<string, ModelLimits>;
  /** The last error Google returned for this key (redacted). */
  lastError?: string;
}

/** The kind of a stored key (records without one are Gemini API keys). */
export function kindOf(record: Pick<KeyRecord, "kind">): KeyKind {
  return record.kind ?? "gemini";
}

/**
 * The id of a key: the first 16 hex digits of the SHA-256 of its key list entry (the key itself for a
 * Gemini API key, `vertex:<key>` for a Vertex AI express key, so one secret registered as both kinds
 * has two ids).
 */
export function keyId(entry: string): string {
  return createHash("sha256").update(entry).digest("hex").slice(0, 16);
}

/** The key list entry of a key: `<key>`, or `vertex:<key>` for a Vertex AI express key. */
export function keyEntry(e: KeyEntry): string {
  return KEY_KINDS[e.kind].prefix + e.key;
}

/** A key as logs, notifications and exports show it: masked, with its kind's prefix (`vertex:AQ.A…vvv1`). */
export function maskedEntry(record: Pick<KeyRecord, "key" | "kind">): string {
  return KEY_KINDS[kindOf(record)].prefix + maskKey(record.key);
}

/** A key list entry read: the secret and its kind. */
export interface KeyEntry {
  key: string;
  kind: KeyKind;
}

const KIND_PREFIX = /^vertex:/i;

/** Reads one key list entry: `vertex:<key>` is a Vertex AI express key, anything else a Gemini API key. */
export function readKeyEntry(entry: string): KeyEntry {
  const text = entry.trim();
  return KIND_PREFIX.test(text)
    ? { key: text.slice(KEY_KINDS.vertex.prefix.length).trim(), kind: "vertex" }
    : { key: text, kind: "gemini" };
}

/**
 * Key list entries as a list split at spaces and commas reads them (`GEMINI_API_KEYS`): a kind prefix
 * written apart from its key (`vertex: AQ.…`, as people write `name: value`) is joined to the key
 * after it.
 *
 * @throws {TypeError} naming the prefix when no key follows it.
 */
export function joinKeyEntries(entries: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i].trim();
    if (!KIND_PREFIX.test(entry) || readKeyEntry(entry).key) {
      out.push(entry);
      continue;
    }
    const next = entries[i + 1]?.trim();
    if (!next || KIND_PREFIX.test(next)) {
      throw new TypeError(
        `"${entry}" has no key after it; write a Vertex AI express key as ${KEY_KINDS.vertex.prefix}<key>`,
      );
    }
    out.push(entry + next);
    i++;
  }
  return out;
}

/** A kind prefix followed by spaces in pasted text (`vertex: AQ.…`): the spaces are dropped. */
const SPACED_PREFIX = /(^|[\s,;"'`])(vertex:)[ \t]+/gi;

/** A new, enabled pool record for a key list entry (`AIza…` or `vertex:…`). */
export function newKeyRecord(
  entry: string,
  extra: Partial<Omit<KeyRecord, "id" | "key" | "kind">> = {},
): KeyRecord {
  const read = readKeyEntry(entry);
  return { id: keyId(keyEntry(read)), ...read, enabled: true, addedAt: Date.now(), ...extra };
}

/** Result of {@link extractKeys}. */
export interface ExtractedKeys {
  /** Key list entries (`AIza…`, or `vertex:…` for a Vertex AI express key; read them with {@link readKeyEntry}). */
  keys: string[];
  rejected: Array<{ value: string; reason: string }>;
}

/** Google API keys: the classic `AIza` + 35 characters of `[0-9A-Za-z_-]` (39 in all). */
const GOOGLE_KEY = /^AIza[0-9A-Za-z_-]{35}$/;
/** Google Cloud API keys of the newer shape (`AQ.` + about 50 characters), issued for both services. */
const CLOUD_KEY = /^AQ\.[0-9A-Za-z_-]{30,120}$/;

/**
 * A valid example of the shape (for error messages and docs): 39 characters, an obvious placeholder
 * (`AIza` + 35 `X`), built so no key-like literal sits in the source for secret scanners to flag.
 */
export const EXAMPLE_KEY = "AIza" + "X".repeat(35);

/** Why `token` (a key without its kind prefix) is not a key, or undefined when it is one. */
function keyShapeProblem(token: string): string | undefined {
  if (GOOGLE_KEY.test(token) || CLOUD_KEY.test(token)) return undefined;
  if (/^AIza/.test(token)) return "not 39 characters of [0-9A-Za-z_-]";
  if (/^AQ\./.test(token)) return "not AQ. followed by 30 to 120 characters of [0-9A-Za-z_-]";
  return "does not start with AIza or AQ. (Gemini API keys look like AIza followed by 35 characters)";
}

/**
 * Why a key list entry (`AIza…`, `AQ.…`, `vertex:<key>`) is not a key, or undefined when it is one. The
 * one rule for keys pasted in the panel and keys in `GEMINI_API_KEYS`.
 */
export function keyEntryProblem(entry: string): string | undefined {
  return keyShapeProblem(readKeyEntry(entry).key);
}

/**
 * Pulls keys out of pasted text (one per line, comma or space separated, or embedded in other
 * text); drops duplicates. A key written `vertex:<key>` is a Vertex AI express key. Tokens that look
 * like keys but have the wrong shape are rejected with a reason
 * ({@link keyEntryProblem}); short words of other text are skipped.
 */
export function extractKeys(text: string): ExtractedKeys {
  const seen = new Set<string>();
  const keys: string[] = [];
  const rejected: ExtractedKeys["rejected"] = [];
  for (const raw of text.replace(SPACED_PREFIX, "$1$2").split(/[\s,;"'`]+/)) {
    const token = raw.trim();
    if (!token) continue;
    const { key, kind } = readKeyEntry(token);
    const problem = key ? keyShapeProblem(key) : `no key after ${KEY_KINDS.vertex.prefix}`;
    if (problem) {
      if (kind === "vertex" || /^(AIza|AQ\.)/.test(key) || key.length >= 20) {
        rejected.push({ value: maskKey(key), reason: problem });
      }
      continue;
    }
    const entry = keyEntry({ key, kind });
    if (seen.has(entry)) {
      rejected.push({ value: maskKey(key), reason: "duplicate in the pasted text" });
      continue;
    }
    seen.add(entry);
    keys.push(entry);
  }
  return { keys, rejected };
}
