/**
 * A Gemini API key as the pool stores it, and helpers to identify, mask and extract keys.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { maskKey } from "../secrets/redact.ts";

/** Known request limits for a model (entered by the admin or learned from Google's 429s). */
export interface ModelLimits {
  /** Requests per minute. */
  rpm?: number;
  /** Requests per day (Pacific day). */
  rpd?: number;
}

/** A key and its durable state. */
export interface KeyRecord {
  /** Stable id derived from the key (a hash prefix); safe to show and log. */
  id: string;
  /** The secret itself. Only ever sent upstream in `x-goog-api-key`. */
  key: string;
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

/** The id of a key: the first 16 hex digits of its SHA-256. */
export function keyId(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

/** Result of {@link extractKeys}. */
export interface ExtractedKeys {
  keys: string[];
  rejected: Array<{ value: string; reason: string }>;
}

/** A Google API key: `AIza` and 35 characters of `[0-9A-Za-z_-]` (39 in all). */
const GOOGLE_KEY = /^AIza[0-9A-Za-z_-]{35}$/;

/** A valid example of the shape (for error messages): 39 characters, not a real key. */
export const EXAMPLE_KEY = "AIzaSyExample-Key_0123456789abcdefghijk";

/**
 * Why `token` is not a Gemini API key, or undefined when it has the right shape. The one rule for keys
 * pasted in the panel and keys in `GEMINI_API_KEYS`.
 */
export function keyShapeProblem(token: string): string | undefined {
  if (GOOGLE_KEY.test(token)) return undefined;
  return /^AIza/.test(token)
    ? "not 39 characters of [0-9A-Za-z_-]"
    : "does not start with AIza (Gemini API keys look like AIza followed by 35 characters)";
}

/**
 * Pulls keys out of pasted text (one per line, comma or space separated, or embedded in other
 * text); drops duplicates. Tokens that look like keys but have the wrong shape are rejected with a
 * reason ({@link keyShapeProblem}); short words of other text are skipped.
 */
export function extractKeys(text: string): ExtractedKeys {
  const seen = new Set<string>();
  const keys: string[] = [];
  const rejected: ExtractedKeys["rejected"] = [];
  for (const raw of text.split(/[\s,;"'`]+/)) {
    const token = raw.trim();
    if (!token) continue;
    const problem = keyShapeProblem(token);
    if (problem) {
      if (/^AIza/.test(token) || token.length >= 20) {
        rejected.push({ value: maskKey(token), reason: problem });
      }
      continue;
    }
    if (seen.has(token)) {
      rejected.push({ value: maskKey(token), reason: "duplicate in the pasted text" });
      continue;
    }
    seen.add(token);
    keys.push(token);
  }
  return { keys, rejected };
}
