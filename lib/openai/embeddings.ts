/**
 * POST /v1/embeddings -> Gemini `:batchEmbedContents` (batches of at most 100, small concurrency, results
 * joined in input order). Supports `encoding_format: "base64"` (little-endian float32), which the openai
 * SDK requests by default.
 *
 * @module
 */
import { badRequest, GatewayError } from "../http/errors.ts";
import { floatsToBase64 } from "../util/base64.ts";
import type { EmbeddingsRequest } from "./schemas.ts";
import { type GeminiCaller, readJson } from "../pipeline/gemini_client.ts";
import { bareModel } from "../gemini/model_id.ts";

/** Max requests per `:batchEmbedContents` call (Gemini limit). */
export const EMBED_BATCH_SIZE = 100;

/** Options for {@link createEmbeddings}. */
export interface EmbeddingsOptions {
  /** Parallel upstream batch calls (default 2). */
  concurrency?: number;
}

/** Normalises `input` to a list of strings; token-id inputs are rejected. */
export function embeddingInputs(input: EmbeddingsRequest["input"]): string[] {
  if (typeof input === "string") return [input];
  if (input.every((v): v is string => typeof v === "string")) return input;
  throw badRequest(
    "input",
    "Token-id arrays are not supported for 'input' on this gateway (Gemini embeds text): send a string or an array of strings.",
    { code: "invalid_value" },
  );
}

/**
 * `values` scaled to length 1 (a zero vector stays as it is). Gemini normalises only its full-size
 * vectors; one cut with `outputDimensionality` must be normalised by the caller, and OpenAI clients
 * assume unit vectors (cosine similarity as a dot product).
 * Source: https://ai.google.dev/gemini-api/docs/embeddings#quality-for-smaller-dimensions
 */
export function l2Normalize(values: readonly number[]): number[] {
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
  return norm > 0 ? values.map((v) => v / norm) : [...values];
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Creates embeddings for a validated request; returns OpenAI's `list` response. */
export async function createEmbeddings(
  req: EmbeddingsRequest,
  gemini: GeminiCaller,
  o: EmbeddingsOptions = {},
) {
  const model = bareModel(req.model);
  const inputs = embeddingInputs(req.input);
  const batches: string[][] = [];
  for (let i = 0; i < inputs.length; i += EMBED_BATCH_SIZE) {
    batches.push(inputs.slice(i, i + EMBED_BATCH_SIZE));
  }
  const results = await mapLimited(batches, o.concurrency ?? 2, async (batch) => {
    const body = {
      requests: batch.map((text) => ({
        model: `models/${model}`,
        content: { parts: [{ text }] },
        ...(req.dimensions ? { outputDimensionality: req.dimensions } : {}),
      })),
    };
    const res = await gemini.call({ method: "batchEmbedContents", model, body });
    const json = await readJson<{ embeddings?: Array<{ values?: number[] }> }>(res);
    if (json.embeddings?.length !== batch.length) {
      throw new GatewayError(
        502,
        `Upstream returned ${json.embeddings?.length ?? 0} embeddings for ${batch.length} inputs.`,
      );
    }
    // A vector cut to `dimensions` is not unit length any more (a full-size one already is).
    return json.embeddings.map((e) => req.dimensions ? l2Normalize(e.values ?? []) : e.values ?? []);
  });
  const base64 = req.encoding_format === "base64";
  return {
    object: "list" as const,
    data: results.flat().map((values, index) => ({
      object: "embedding" as const,
      index,
      embedding: base64 ? floatsToBase64(values) : values,
    })),
    model: req.model,
    // Gemini's embedding endpoints report no token counts.
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
}
