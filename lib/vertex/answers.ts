/**
 * Vertex AI's answers in the Gemini API's shape, so that a client cannot tell which kind of key served
 * it. The differences, from Vertex's REST reference and real recordings (Firebase's
 * `vertexai-sdk-test-data`, `mock-responses/vertexai/`):
 *
 * | Vertex answer                                              | Gemini API answer                        |
 * | ---------------------------------------------------------- | ---------------------------------------- |
 * | `createTime` (top level)                                   | not sent: dropped                        |
 * | `usageMetadata.trafficType` (`ON_DEMAND`, ...)             | not sent: dropped (a usage left empty, as on Vertex's intermediate stream events, is dropped) |
 * | `safetyRatings[].probabilityScore`, `severity`, `severityScore` | not sent: dropped                   |
 * | `citationMetadata.citations[]` (with `title`, `publicationDate`) | `citationMetadata.citationSources[]` (`startIndex`, `endIndex`, `uri`, `license`) |
 * | `thoughtSignature` (valid on Vertex only)                  | marked as Vertex's (`../gemini/signature_kinds.ts`) |
 * | countTokens `totalBillableCharacters`                      | not sent: dropped                        |
 * | predict `predictions[].embeddings.values` (+ `statistics`) | `embedding.values` / `embeddings[].values` |
 *
 * Sources: https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/GenerateContentResponse,
 * https://ai.google.dev/api/generate-content#generatecontentresponse,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api.
 *
 * @module
 */

import { markVertexSignatures } from "../gemini/signature_kinds.ts";

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The fields of a Gemini API `SafetyRating`. */
const SAFETY_RATING_FIELDS = ["category", "probability", "blocked"] as const;
/** The fields of a Gemini API `CitationSource`. */
const CITATION_SOURCE_FIELDS = ["startIndex", "endIndex", "uri", "license"] as const;

function pick(o: Json, fields: readonly string[]): Json {
  const out: Json = {};
  for (const f of fields) if (o[f] !== undefined) out[f] = o[f];
  return out;
}

function safetyRatings(v: unknown): unknown {
  return Array.isArray(v) ? v.map((r) => isObj(r) ? pick(r, SAFETY_RATING_FIELDS) : r) : v;
}

function citationMetadata(v: unknown): unknown {
  if (!isObj(v) || !Array.isArray(v.citations)) return v;
  const { citations, ...rest } = v;
  return { ...rest, citationSources: citations.map((c) => isObj(c) ? pick(c, CITATION_SOURCE_FIELDS) : c) };
}

function candidate(c: unknown): unknown {
  if (!isObj(c)) return c;
  const out: Json = { ...c };
  if (out.safetyRatings !== undefined) out.safetyRatings = safetyRatings(out.safetyRatings);
  if (out.citationMetadata !== undefined) out.citationMetadata = citationMetadata(out.citationMetadata);
  return out;
}

/**
 * A Vertex `GenerateContentResponse` (a whole answer or one stream event) as the Gemini API writes it.
 * An error object (`{"error": ...}`) comes back unchanged.
 */
export function geminiGenerateAnswer(vertex: Json): Json {
  if (vertex.error !== undefined) return vertex;
  const { createTime: _createTime, ...out } = vertex;
  if (Array.isArray(out.candidates)) out.candidates = out.candidates.map(candidate);
  // Vertex's signatures are refused by the Gemini API: marked, so that they only ever go back to Vertex.
  markVertexSignatures(out);
  if (isObj(out.promptFeedback) && out.promptFeedback.safetyRatings !== undefined) {
    out.promptFeedback = {
      ...out.promptFeedback,
      safetyRatings: safetyRatings(out.promptFeedback.safetyRatings),
    };
  }
  if (isObj(out.usageMetadata)) {
    const { trafficType: _trafficType, ...usage } = out.usageMetadata;
    if (Object.keys(usage).length) out.usageMetadata = usage;
    else delete out.usageMetadata;
  }
  return out;
}

/** A Vertex `CountTokensResponse` as the Gemini API writes it. */
export function geminiCountTokensAnswer(vertex: Json): Json {
  const { totalBillableCharacters: _billable, ...out } = vertex;
  return out;
}

/**
 * The embeddings of a Vertex `:predict` answer (one prediction per instance, in order) as Gemini
 * `ContentEmbedding`s.
 *
 * @throws {Error} when a prediction carries no `embeddings.values` (the upstream target answers 502).
 */
export function geminiEmbeddings(answer: Json): Array<{ values: number[] }> {
  return (Array.isArray(answer.predictions) ? answer.predictions : []).map((p) => {
    const values = isObj(p) && isObj(p.embeddings) ? p.embeddings.values : undefined;
    if (!Array.isArray(values)) throw new Error("a Vertex prediction without embeddings.values");
    return { values: values as number[] };
  });
}
