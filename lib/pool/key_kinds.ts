/**
 * The kinds of key the pool holds, as data (no runtime dependencies, so the admin islands can show them):
 * a Gemini API key (`generativelanguage.googleapis.com`) or a Vertex AI express-mode key
 * (`aiplatform.googleapis.com`), how the panel names each and the prefix that marks it in key lists.
 *
 * @module
 */

/** What a key is for: Google's Gemini API, or Vertex AI in express mode. */
export type KeyKind = "gemini" | "vertex";

/** Every key kind: how the panel names it, the prefix that marks it in key lists, and its docs. */
export const KEY_KINDS: Readonly<Record<KeyKind, { label: string; prefix: string; source: string }>> = {
  gemini: {
    label: "Gemini API",
    prefix: "",
    source: "https://ai.google.dev/gemini-api/docs/api-key",
  },
  vertex: {
    label: "Vertex AI express",
    prefix: "vertex:",
    source: "https://cloud.google.com/vertex-ai/generative-ai/docs/start/express-mode/overview",
  },
};
