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

/** Random alphanumeric string of `n` characters. */
export function randomAlnum(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let out = "";
  for (let i = 0; i < n; i++) out += ALNUM[bytes[i] % ALNUM.length];
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
