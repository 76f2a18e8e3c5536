/**
 * The models Vertex AI serves to express-mode keys, as a maintained table. Express mode has no model
 * list call (its REST reference offers only `generateContent`, `streamGenerateContent` and
 * `countTokens` under `publishers.models`), so a pool of only Vertex keys answers `GET /v1beta/models`
 * and `GET /v1beta/models/{id}` from this table, in the Gemini API's `Model` shape; and a mixed pool
 * sends calls for models that are not here to Gemini API keys first (`routing.ts`).
 *
 * Sources: https://cloud.google.com/vertex-ai/generative-ai/docs/start/express-mode/vertex-ai-express-mode-api-reference,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions (ids, token limits),
 * https://cloud.google.com/vertex-ai/generative-ai/docs/embeddings/get-text-embeddings (embedding models;
 * "gemini-embedding-001 supports one instance per request", the others up to 250).
 * Update the table when Google adds or retires a model for Vertex AI.
 *
 * @module
 */
import { bareModel } from "../gemini/model_id.ts";

/** One model Vertex AI serves in express mode. */
export interface ExpressModel {
  /** Model id as both services name it, e.g. `gemini-2.5-flash`. */
  id: string;
  displayName: string;
  /** Context window (tokens). */
  inputTokenLimit: number;
  /** Longest answer (tokens); 1 for embedding models, as Google lists them. */
  outputTokenLimit: number;
  /** A text model that thinks (Gemini 2.5 and later). */
  thinking?: boolean;
  /** Embedding model: how many inputs one `:predict` call may carry. */
  embedInstances?: number;
}

const M = 1_048_576;

const text = (
  id: string,
  displayName: string,
  o: { out?: number; thinking?: boolean } = {},
): ExpressModel => ({
  id,
  displayName,
  inputTokenLimit: M,
  outputTokenLimit: o.out ?? 65_536,
  thinking: o.thinking ?? true,
});

const embedding = (id: string, displayName: string, embedInstances: number): ExpressModel => ({
  id,
  displayName,
  inputTokenLimit: 2_048,
  outputTokenLimit: 1,
  embedInstances,
});

/** The table, newest first. */
export const EXPRESS_MODELS: readonly ExpressModel[] = [
  text("gemini-3.8-flash", "Gemini 3.8 Flash"),
  text("gemini-3.7-flash", "Gemini 3.7 Flash"),
  text("gemini-3.6-flash", "Gemini 3.6 Flash"),
  text("gemini-3.5-flash", "Gemini 3.5 Flash"),
  text("gemini-3.5-flash-lite", "Gemini 3.5 Flash-Lite"),
  text("gemini-3.1-pro-preview", "Gemini 3.1 Pro Preview"),
  text("gemini-3.1-flash-lite", "Gemini 3.1 Flash-Lite"),
  text("gemini-3.1-flash-image-preview", "Gemini 3.1 Flash Image Preview", { out: 32_768 }),
  text("gemini-3-pro-preview", "Gemini 3 Pro Preview"),
  text("gemini-3-pro-image-preview", "Gemini 3 Pro Image Preview", { out: 32_768 }),
  text("gemini-3-flash-preview", "Gemini 3 Flash Preview"),
  text("gemini-2.5-pro", "Gemini 2.5 Pro"),
  text("gemini-2.5-flash", "Gemini 2.5 Flash"),
  text("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite"),
  text("gemini-2.5-flash-image", "Gemini 2.5 Flash Image", { out: 32_768, thinking: false }),
  embedding("gemini-embedding-001", "Gemini Embedding 001", 1),
  embedding("text-embedding-005", "Text Embedding 005", 250),
  embedding("text-multilingual-embedding-002", "Text Multilingual Embedding 002", 250),
];

const BY_ID = new Map(EXPRESS_MODELS.map((m) => [m.id, m]));

/** The express model of an id (`models/` prefix allowed), or undefined when Vertex express lacks it. */
export function expressModel(id: string): ExpressModel | undefined {
  return BY_ID.get(bareModel(id));
}

/** A model as the Gemini API's `models.get` / `models.list` describe it (https://ai.google.dev/api/models#Model). */
export function asGeminiModel(m: ExpressModel): Record<string, unknown> {
  const methods = m.embedInstances ? ["embedContent", "countTokens"] : ["generateContent", "countTokens"];
  return {
    name: `models/${m.id}`,
    version: m.id,
    displayName: m.displayName,
    description: `${m.displayName} on Vertex AI (express mode)`,
    inputTokenLimit: m.inputTokenLimit,
    outputTokenLimit: m.outputTokenLimit,
    supportedGenerationMethods: methods,
    ...(m.thinking ? { thinking: true } : {}),
  };
}
