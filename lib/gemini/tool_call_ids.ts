/**
 * Tool-call ids: `call_` (OpenAI Chat Completions and Responses; Anthropic's edge uses `toolu_`, which
 * fits Anthropic's `^[a-zA-Z0-9_-]+$`) followed by the 24-character reference under which the gateway keeps
 * the call's Gemini state (thought signature, Gemini's own call id) server-side
 * (`../gemini/thought_signatures.ts`). 29 characters in all, within OpenAI's 40-character limit and
 * safe for clients that cut or normalise ids. An id in any other shape (another vendor, hand-written
 * history, a cut id) names no reference: nothing from it is sent upstream. It sits next to the store its
 * references point into, so every dialect (and `kept_calls.ts`) reads it from here.
 *
 * @module
 */

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const CALL_ID_RE = /^(?:call|toolu)_([A-Za-z0-9]{24})$/;

/** The id prefixes: OpenAI's `call_` and Anthropic's `toolu_`. */
export type ToolIdPrefix = "call" | "toolu";

/** Random bytes drawn ahead (one `getRandomValues` call per 4 KiB instead of one per id). */
const RANDOM = new Uint8Array(4096);
let randomAt = RANDOM.length;
/** Bytes at or above this are skipped, so every character is equally likely (248 = 4 × 62). */
const UNBIASED = 256 - (256 % ALNUM.length);

/** Random alphanumeric string of `n` characters (from `crypto.getRandomValues`, every character equally likely). */
export function randomAlnum(n: number): string {
  let out = "";
  while (out.length < n) {
    if (randomAt === RANDOM.length) {
      crypto.getRandomValues(RANDOM);
      randomAt = 0;
    }
    const byte = RANDOM[randomAt++];
    if (byte < UNBIASED) out += ALNUM[byte % ALNUM.length];
  }
  return out;
}

/** The tool-call id for a kept reference: `call_<ref>` (or `toolu_<ref>`). */
export function toolCallId(ref: string, prefix: ToolIdPrefix = "call"): string {
  return `${prefix}_${ref}`;
}

/** The reference inside a tool-call id made by {@link toolCallId}; undefined for any other id. */
export function toolCallRef(id: string): string | undefined {
  return CALL_ID_RE.exec(id)?.[1];
}
