/**
 * Gemini thought signatures carried in other dialects' slots for opaque reasoning state: the
 * `signature` of an Anthropic `thinking` block and the `encrypted_content` of an OpenAI Responses
 * `reasoning` item. Clients return those slots verbatim and in order, so a client that keeps its
 * history keeps the signatures. The token is a marker plus Google's value (`gemini.v1.<signature>`),
 * so slots filled by another vendor (a real Claude signature, OpenAI's encrypted reasoning) are
 * recognised and never sent to Gemini.
 *
 * Source: https://ai.google.dev/gemini-api/docs/thought-signatures, wire reference §G9 and §H9.
 *
 * @module
 */

const MARKER = "gemini.v1.";

/** The slot value that carries Gemini's `thoughtSignature` `signature`. */
export function toSignatureToken(signature: string): string {
  return MARKER + signature;
}

/** Gemini's signature inside a slot value, or undefined when the slot was not filled by this gateway. */
export function fromSignatureToken(token: string | null | undefined): string | undefined {
  return token?.startsWith(MARKER) && token.length > MARKER.length ? token.slice(MARKER.length) : undefined;
}
