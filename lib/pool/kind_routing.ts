/**
 * Which kinds of key may serve a request, in which order (the rule `KEY_KIND_ROUTING` chooses), and
 * what Vertex AI express keys cannot serve.
 *
 * The rule, first match wins:
 * 1. The pool has no Vertex key: Gemini API keys only (nothing is read).
 * 2. The request needs something only the Gemini API has ({@link geminiOnlyNeed}: the Files API,
 *    cached contents, batches, operations, tuned models, file search, Imagen and Veo, media downloads,
 *    uploads, multimodal embeddings, ...): Gemini API keys only; with none in the pool, a 400
 *    FAILED_PRECONDITION that says what it needs.
 * 3. The model list (`GET models`, `GET models/{id}`) and calls for a model Vertex express does not
 *    list (`express_models.ts`): Gemini API keys first, Vertex keys when none of those can serve.
 * 4. Anything else follows the setting: `mix` (one round robin over both kinds, the default),
 *    `gemini_first` or `vertex_first` (the other kind only when no key of the first can serve).
 *
 * Source for what express mode serves:
 * https://cloud.google.com/vertex-ai/generative-ai/docs/start/express-mode/vertex-ai-express-mode-api-reference
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import { GEMINI_ONLY, type KeyPool, type KindOrder } from "./key_pool.ts";
import type { ForwardRequest } from "../pipeline/types.ts";
import { expressModel } from "../vertex/express_models.ts";
import { VERTEX_METHODS } from "../vertex/methods.ts";

/** How model calls choose between Gemini API and Vertex AI express keys (setting `KEY_KIND_ROUTING`). */
export const KIND_ROUTINGS = ["mix", "gemini_first", "vertex_first"] as const;
/** One value of `KEY_KIND_ROUTING`. */
export type KindRouting = typeof KIND_ROUTINGS[number];

const ORDERS: Readonly<Record<KindRouting, KindOrder>> = {
  mix: [["gemini", "vertex"]],
  gemini_first: [["gemini"], ["vertex"]],
  vertex_first: [["vertex"], ["gemini"]],
};

const MODEL_METHOD = /^\/v1(?:beta|alpha)?\/models\/[^/:]+:([A-Za-z]+)$/;
const MODEL_INFO = /^\/v1(?:beta|alpha)?\/models(?:\/[^/:]+)?\/?$/;

/** A path under one of the Gemini API's collections: `/v1beta/files/...`. */
const under = (collection: string) => new RegExp(`^/v1(?:beta|alpha)?/${collection}\\b`);

/** What a path needs that only the Gemini API has, by the collection it names. */
const GEMINI_ONLY_PATHS: ReadonlyArray<{ path: RegExp; need: string }> = [
  { path: /^\/upload\//, need: "file uploads" },
  { path: /^\/download\//, need: "media downloads" },
  { path: under("files"), need: "the Files API" },
  { path: under("cachedContents"), need: "cached contents" },
  { path: under("batches"), need: "batches" },
  { path: under("(?:models/[^/]+/)?operations"), need: "long-running operations" },
  { path: under("tunedModels"), need: "tuned models" },
  { path: under("fileSearchStores"), need: "file search stores" },
  { path: under("corpora"), need: "corpora" },
];

/** Model methods only the Gemini API serves to API keys, named for the error. */
const GEMINI_ONLY_METHODS: Readonly<Record<string, string>> = {
  batchGenerateContent: "batch mode",
  asyncBatchEmbedContent: "batch embeddings",
  predict: "Imagen (:predict)",
  predictLongRunning: "Veo (:predictLongRunning)",
};

/** What a request body may use that only the Gemini API has. */
const GEMINI_ONLY_BODY: ReadonlyArray<{ text: RegExp; need: string }> = [
  { text: /"cached_?[cC]ontent"\s*:/, need: "cached contents" },
  {
    text: /"file_?[uU]ri"\s*:\s*"(?:files\/|https:\/\/generativelanguage\.googleapis\.com\/)/,
    need: "files of the Files API",
  },
  { text: /"file_?[sS]earch"\s*:/, need: "file search" },
];

/** In an embedding request: a part that is not text (Vertex's text-embedding `:predict` takes text only). */
const NON_TEXT_PART = /"(?:inline_?[dD]ata|file_?[dD]ata)"\s*:/;

const decoder = new TextDecoder();

/**
 * What the request needs that only the Gemini API serves (a phrase for the error, e.g. "cached
 * contents"), or undefined when a Vertex AI express key can serve it.
 */
export function geminiOnlyNeed(req: Pick<ForwardRequest, "method" | "path" | "body">): string | undefined {
  for (const p of GEMINI_ONLY_PATHS) if (p.path.test(req.path)) return p.need;
  if (req.method === "GET" && MODEL_INFO.test(req.path)) return undefined;
  const method = MODEL_METHOD.exec(req.path)?.[1];
  if (!method || req.method !== "POST") return `${req.method} ${req.path.replace(/^\/v1\w*\//, "")}`;
  if (!VERTEX_METHODS[method]) return GEMINI_ONLY_METHODS[method] ?? `:${method}`;
  const text = req.body?.length ? decoder.decode(req.body) : "";
  for (const b of GEMINI_ONLY_BODY) if (b.text.test(text)) return b.need;
  if (/[eE]mbed/.test(method) && NON_TEXT_PART.test(text)) return "multimodal embeddings";
  return undefined;
}

/** What {@link keyKindsFor} reads. */
export interface KindRoutingContext {
  pool: Pick<KeyPool, "countOf">;
  /** The setting `KEY_KIND_ROUTING`. */
  routing: KindRouting;
}

/**
 * The key kinds that may serve `req`, in order (see the module's rule).
 *
 * @throws {GatewayError} 400 FAILED_PRECONDITION when the request needs a Gemini API key and the pool
 *   has only Vertex keys.
 */
export function keyKindsFor(req: ForwardRequest, ctx: KindRoutingContext): KindOrder {
  if (ctx.pool.countOf("vertex") === 0) return GEMINI_ONLY;
  const need = geminiOnlyNeed(req);
  if (need) {
    if (ctx.pool.countOf("gemini") === 0) {
      throw new GatewayError(
        400,
        `This request uses ${need}, which only Gemini API keys serve, and the gateway's pool has only ` +
          "Vertex AI express keys. Add a Gemini API key (GEMINI_API_KEYS or the admin panel's Keys page) " +
          "or send the request without it.",
        { googleStatus: "FAILED_PRECONDITION", code: "gemini_api_key_required" },
      );
    }
    return GEMINI_ONLY;
  }
  if (req.method === "GET" || (req.model && !expressModel(req.model))) return ORDERS.gemini_first;
  return ORDERS[ctx.routing];
}
