/**
 * The Gemini API methods a Vertex AI express key serves, and how each maps: the Vertex method it calls,
 * the request body it sends, and how Vertex's answer becomes the Gemini answer. Everything not in
 * {@link VERTEX_METHODS} (files, cached contents, batches, operations, tuned models, Imagen and Veo,
 * Live) is only served by Gemini API keys (`routing.ts`).
 *
 * Request differences (Gemini API -> Vertex):
 * - `contents[].role` is optional on the Gemini API (a single turn is the user's) and required on Vertex
 *   ("Please use a valid role: user, model."): missing roles become `user`.
 * - `serviceTier` exists only on the Gemini API: dropped.
 * - Thought signatures: Vertex's own (marked by `answers.ts`) go back unmarked, the Gemini API's become
 *   the skip value (`../gemini/signature_kinds.ts`).
 * - countTokens: the Gemini API takes `{contents}` or `{generateContentRequest: {...}}`; Vertex takes
 *   `contents`, `systemInstruction`, `tools` and `generationConfig` at the top level.
 * - Embeddings: the Gemini API's `embedContent` / `batchEmbedContents` become Vertex's `:predict` with
 *   one instance per input (`{content: <text parts joined by a space>, task_type, title}`,
 *   `parameters.outputDimensionality`); gemini-embedding-001 takes one instance per call, so the pipeline
 *   sends a batch as several calls and joins their answers in order (`upstream.ts` `split`).
 *
 * Sources: https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/projects.locations.publishers.models/generateContent,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/projects.locations.publishers.models/countTokens,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api,
 * and @google/genai 3.3's Vertex converters (`embedContentParametersPrivateToVertex`).
 *
 * @module
 */
import { geminiCountTokensAnswer, geminiEmbeddings, geminiGenerateAnswer } from "./answers.ts";
import type { ExpressModel } from "./express_models.ts";
import { signaturesFor } from "../gemini/signature_kinds.ts";

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** One Gemini API method as Vertex serves it. */
export interface VertexMethod {
  /** The Vertex method called (`publishers/google/models/{id}:{vertex}`). */
  vertex: string;
  /**
   * The Vertex request body for a Gemini request body. An embedding batch that one `:predict` call
   * cannot carry has been split by the pipeline before (`upstream.ts` `split`, {@link embedCallGroups}).
   */
  request(body: Json): Json;
  /**
   * The Gemini answer from the Vertex answer.
   *
   * @throws {Error} when the answer lacks what the mapping needs (the target answers 502).
   */
  answer(answer: Json): Json;
}

/** A Gemini `Content` list with every turn's role set (`user` where the Gemini API would assume it). */
function withRoles(contents: unknown): unknown {
  if (!Array.isArray(contents)) return contents;
  return contents.map((c) => isObj(c) && c.role === undefined ? { ...c, role: "user" } : c);
}

/** A GenerateContentRequest as Vertex takes it. */
function generateRequest(body: Json): Json {
  const { serviceTier: _tier, service_tier: _tier2, ...out } = body;
  if (out.contents !== undefined) out.contents = withRoles(out.contents);
  signaturesFor("vertex", out);
  return out;
}

/** The fields of a GenerateContentRequest that Vertex's CountTokensRequest takes. */
const COUNT_FIELDS = ["contents", "systemInstruction", "system_instruction", "tools", "generationConfig"];

function countTokensRequest(body: Json): Json {
  const source = isObj(body.generateContentRequest) ? body.generateContentRequest : body;
  const out: Json = {};
  for (const f of COUNT_FIELDS) if (source[f] !== undefined) out[f] = source[f];
  if (out.contents !== undefined) out.contents = withRoles(out.contents);
  return out;
}

/** The text of an embedding request's content: its text parts joined by a space. */
function embedText(content: unknown): string {
  const parts = isObj(content) && Array.isArray(content.parts) ? content.parts : [];
  return parts.flatMap((p) => isObj(p) && typeof p.text === "string" ? [p.text] : []).join(" ");
}

/** One `:predict` instance of a Gemini EmbedContentRequest. */
function instance(req: Json): Json {
  const out: Json = { content: embedText(req.content) };
  if (req.taskType !== undefined) out.task_type = req.taskType;
  if (req.title !== undefined) out.title = req.title;
  return out;
}

/**
 * Gemini EmbedContentRequests grouped by the `:predict` call that carries them: consecutive requests
 * with the same `outputDimensionality` share a call, up to the model's instances per call (one when
 * unknown).
 */
export function embedCallGroups(requests: unknown[], model: ExpressModel | undefined): Json[][] {
  const max = model?.embedInstances ?? 1;
  const groups: Json[][] = [];
  for (const r of requests.filter(isObj)) {
    const last = groups[groups.length - 1];
    if (last && last[0].outputDimensionality === r.outputDimensionality && last.length < max) last.push(r);
    else groups.push([r]);
  }
  return groups;
}

/**
 * The `:predict` body of Gemini EmbedContentRequests that one call carries (one {@link embedCallGroups}
 * group: the same `outputDimensionality`, within the model's instances per call).
 */
function predictRequest(requests: unknown[]): Json {
  const group = requests.filter(isObj);
  const dims = group[0]?.outputDimensionality;
  return {
    instances: group.map(instance),
    ...(dims !== undefined ? { parameters: { outputDimensionality: dims } } : {}),
  };
}

/** The Gemini API methods Vertex AI serves to express keys, by Gemini method name. */
export const VERTEX_METHODS: Readonly<Record<string, VertexMethod>> = {
  generateContent: {
    vertex: "generateContent",
    request: generateRequest,
    answer: geminiGenerateAnswer,
  },
  streamGenerateContent: {
    vertex: "streamGenerateContent",
    request: generateRequest,
    answer: geminiGenerateAnswer,
  },
  countTokens: {
    vertex: "countTokens",
    request: countTokensRequest,
    answer: geminiCountTokensAnswer,
  },
  embedContent: {
    vertex: "predict",
    request: (body) => predictRequest([body]),
    answer: (answer) => ({ embedding: geminiEmbeddings(answer)[0] }),
  },
  batchEmbedContents: {
    vertex: "predict",
    request: (body) => predictRequest(Array.isArray(body.requests) ? body.requests : []),
    answer: (answer) => ({ embeddings: geminiEmbeddings(answer) }),
  },
};
