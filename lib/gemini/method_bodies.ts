/**
 * Where a model method's body carries the requests it runs, and where those name the model again:
 * `generateContent`'s body is one GenerateContentRequest; `countTokens` wraps one in
 * `generateContentRequest`; a batch create (`batchGenerateContent`, `asyncBatchEmbedContent`) lists
 * them in `batch.inputConfig.requests.requests[].request`, or names a JSONL file instead
 * (`batch.inputConfig.fileName`); `batchEmbedContents` lists EmbedContentRequests in `requests[]`.
 * Google's REST API takes the snake_case spelling of every field too (`input_config`, `file_name`;
 * `@google/genai` sends `file_name` for embedding batches), so both are read.
 *
 * Sources: https://ai.google.dev/api/tokens#method:-models.counttokens (`generateContentRequest`, whose
 * `model` is required), https://ai.google.dev/api/batch-api (`GenerateContentBatch.inputConfig`,
 * `EmbedContentBatch.inputConfig`, `InlinedRequest.request`), https://ai.google.dev/api/embeddings
 * (`BatchEmbedContentsRequest.requests[].model` must be the path's model).
 *
 * @module
 */

type Obj = Record<string, unknown>;

/** Changes one request; returns the new request, or undefined to keep it (never mutates). */
export type RequestEdit = (request: Obj) => Obj | undefined;

/** Applies an edit to every request a body carries; returns the new body, or undefined when none changed. */
export type BodyRequests = (body: Obj, edit: RequestEdit) => Obj | undefined;

/** What a model method's body holds. */
export interface MethodBody {
  /** The requests in the body. */
  requests: BodyRequests;
  /** True when they are GenerateContentRequests (the gateway's request features apply to each). */
  generate: boolean;
  /**
   * Whether each request names the model: `required` (the gateway sets the real model), `optional`
   * (renamed to the real model when present; Google refuses one that is not the path's).
   */
  model?: "required" | "optional";
  /** The input file that holds the requests instead (a batch from a JSONL file), if any. */
  inputFile?: (body: Obj) => string | undefined;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());

/** The key under which `obj` holds the camelCase field `name` (or its snake_case spelling). */
function keyOf(obj: Obj, name: string): string | undefined {
  if (Object.hasOwn(obj, name)) return name;
  const s = snake(name);
  return Object.hasOwn(obj, s) ? s : undefined;
}

/** The body itself is the request. */
const itself: BodyRequests = (body, edit) => edit(body);

/** The requests sit in the object field `name`. */
function inField(name: string, inner: BodyRequests = itself): BodyRequests {
  return (body, edit) => {
    const key = keyOf(body, name);
    const value = key === undefined ? undefined : body[key];
    if (!isObj(value)) return undefined;
    const next = inner(value, edit);
    return next && { ...body, [key!]: next };
  };
}

/** Each object item of the list field `name` holds requests. */
function eachOf(name: string, inner: BodyRequests = itself): BodyRequests {
  return (body, edit) => {
    const key = keyOf(body, name);
    const list = key === undefined ? undefined : body[key];
    if (!Array.isArray(list)) return undefined;
    let changed = false;
    const next = list.map((item) => {
      const out = isObj(item) ? inner(item, edit) : undefined;
      if (out) changed = true;
      return out ?? item;
    });
    return changed ? { ...body, [key!]: next } : undefined;
  };
}

/** A batch's inline requests: `batch.inputConfig.requests.requests[].request`. */
const BATCH_INLINE: BodyRequests = inField(
  "batch",
  inField("inputConfig", inField("requests", eachOf("requests", inField("request")))),
);

/** The JSONL file a batch reads its requests from (`batch.inputConfig.fileName`), if any. */
function batchInputFile(body: Obj): string | undefined {
  let at: unknown = body;
  for (const name of ["batch", "inputConfig", "fileName"]) {
    if (!isObj(at)) return undefined;
    const key = keyOf(at, name);
    at = key === undefined ? undefined : at[key];
  }
  return typeof at === "string" ? at : undefined;
}

/** The model methods whose body carries requests the gateway looks into (others pass as they are). */
export const METHOD_BODIES: Readonly<Record<string, MethodBody>> = {
  generateContent: { requests: itself, generate: true },
  streamGenerateContent: { requests: itself, generate: true },
  countTokens: { requests: inField("generateContentRequest"), generate: true, model: "required" },
  batchGenerateContent: {
    requests: BATCH_INLINE,
    generate: true,
    model: "optional",
    inputFile: batchInputFile,
  },
  embedContent: { requests: itself, generate: false, model: "optional" },
  batchEmbedContents: { requests: eachOf("requests"), generate: false, model: "optional" },
  asyncBatchEmbedContent: {
    requests: BATCH_INLINE,
    generate: false,
    model: "optional",
    inputFile: batchInputFile,
  },
};

/**
 * The edit that names `name` (`models/gemini-2.5-flash`) as a request's model: always when the
 * method requires it, else only where the request names one.
 */
export function renameModel(name: string, model: MethodBody["model"]): RequestEdit {
  return (request) => {
    const present = typeof request.model === "string";
    if (request.model === name || (!present && model !== "required")) return undefined;
    return { ...request, model: name };
  };
}

/** A resource call whose body names a model that Google checks (not a model method). */
export interface ModelNamingResource {
  /** HTTP method, e.g. `POST`. */
  method: string;
  /** Upstream path, e.g. `/v1beta/cachedContents`. */
  path: RegExp;
  /** The requests in the body that name the model (in `model`). */
  requests: BodyRequests;
}

/**
 * Resource calls whose body names a model: `cachedContents.create` (`model`, required; the cache
 * serves only that model's calls). Source: https://ai.google.dev/api/caching#CachedContent
 */
export const MODEL_NAMING_RESOURCES: readonly ModelNamingResource[] = [
  { method: "POST", path: /^\/v1(?:beta|alpha)?\/cachedContents$/, requests: itself },
];

/** The first model a body's requests name (`models/x` as the client wrote it), if any. */
export function namedModel(body: Obj, requests: BodyRequests): string | undefined {
  let found: string | undefined;
  requests(body, (request) => {
    if (found === undefined && typeof request.model === "string") found = request.model;
    return undefined;
  });
  return found;
}
