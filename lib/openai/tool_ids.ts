/**
 * OpenAI tool-call ids: `call_` followed by the 24-character reference under which the gateway keeps
 * the call's Gemini state (thought signature, Gemini's own call id) server-side
 * (`../gemini/thought_signatures.ts`). 29 characters in all, within OpenAI's 40-character limit and
 * safe for clients that cut or normalise ids. An id in any other shape (another vendor, hand-written
 * history, a cut id) names no reference: nothing from it is sent upstream.
 *
 * @module
 */

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const CALL_ID_RE = /^call_([A-Za-z0-9]{24})$/;

/** Random alphanumeric string of `n` characters. */
export function randomAlnum(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join("");
}

/** The tool-call id for a kept reference: `call_<ref>`. */
export function toolCallId(ref: string): string {
  return `call_${ref}`;
}

/** The reference inside a tool-call id made by {@link toolCallId}; undefined for any other id. */
export function toolCallRef(id: string): string | undefined {
  return CALL_ID_RE.exec(id)?.[1];
}
