/**
 * Thought signatures are bound to the service that minted them: a signature from Vertex AI is
 * "Corrupted thought signature." (400) on the Gemini API and the other way round (BerriAI/litellm#32140,
 * alphaXiv/agents#61). In a pool with both kinds of key, the turns of one conversation may go to
 * either, so the gateway marks the signatures Vertex AI mints ({@link markVertexSignatures}: a fixed
 * base64 prefix, so the value stays valid base64 for SDKs that decode it) and, on the way out, sends
 * each service only its own: a marked signature goes to Vertex without its mark, and a signature the
 * target did not mint becomes Google's documented skip value ({@link signaturesFor}).
 *
 * Source: https://ai.google.dev/gemini-api/docs/thought-signatures#faqs (the skip value).
 *
 * @module
 */
import type { KeyKind } from "../pool/key_kinds.ts";
import { SKIP_THOUGHT_SIGNATURE } from "./thought_signatures.ts";

type Json = Record<string, unknown>;

/** base64 of the 9 bytes `gw-vertex` (a multiple of 3 bytes: the marked value is still valid base64). */
const VERTEX_MARK = "Z3ctdmVydGV4";
/** The field names a part may carry its signature under (Google's JSON takes both spellings). */
const SIGNATURE_FIELDS = ["thoughtSignature", "thought_signature"] as const;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every part of a list of `Content`s (or of candidates' contents). */
function* partsOf(contents: unknown): Generator<Json> {
  if (!Array.isArray(contents)) return;
  for (const c of contents) {
    const content = isObj(c) && isObj(c.content) ? c.content : c;
    if (isObj(content) && Array.isArray(content.parts)) {
      for (const p of content.parts) if (isObj(p)) yield p;
    }
  }
}

/** Marks, in place, the signatures of a Vertex `GenerateContentResponse` (answer or stream event). */
export function markVertexSignatures(answer: Json): void {
  for (const part of partsOf(answer.candidates)) {
    for (const f of SIGNATURE_FIELDS) {
      const sig = part[f];
      if (typeof sig === "string" && sig && sig !== SKIP_THOUGHT_SIGNATURE) part[f] = VERTEX_MARK + sig;
    }
  }
}

/** What a signature in a request becomes for `kind`: its own unmarked, another service's skipped. */
function signatureFor(kind: KeyKind, sig: string): string {
  if (sig === SKIP_THOUGHT_SIGNATURE) return sig;
  const vertex = sig.startsWith(VERTEX_MARK);
  if (kind === "vertex") return vertex ? sig.slice(VERTEX_MARK.length) : SKIP_THOUGHT_SIGNATURE;
  return vertex ? SKIP_THOUGHT_SIGNATURE : sig;
}

/**
 * Rewrites, in place, the signatures of a request's `contents` for the service of `kind` (see the
 * module docs). Answers whether anything changed.
 */
export function signaturesFor(kind: KeyKind, body: Json): boolean {
  let changed = false;
  for (const part of partsOf(body.contents)) {
    for (const f of SIGNATURE_FIELDS) {
      const sig = part[f];
      if (typeof sig !== "string") continue;
      const next = signatureFor(kind, sig);
      if (next !== sig) [part[f], changed] = [next, true];
    }
  }
  return changed;
}

/** True when a request body's text may carry a signature Vertex minted (a cheap test before parsing). */
export function mayCarryVertexSignatures(text: string): boolean {
  return text.includes(VERTEX_MARK);
}
