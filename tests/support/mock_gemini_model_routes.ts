/**
 * Model routes of the mock Gemini upstream: models list/get and `POST models/{model}:{method}` for
 * generateContent, streamGenerateContent, countTokens, embedContent, batchEmbedContents, predict,
 * batchGenerateContent, asyncBatchEmbedContent and predictLongRunning (their polls are in
 * `mock_gemini_jobs.ts`).
 *
 * @module
 */

import { generateReply, validateGenerateRequest } from "./mock_gemini_generate.ts";
import {
  cacheDeniedError,
  fileDeniedError,
  invalidArgument,
  invalidJsonError,
  jsonResponse,
  modelNotFoundError,
  notFoundError,
  transientErrorBody,
} from "./mock_gemini_http.ts";
import { findModel, MOCK_MODELS, modelSupports } from "./mock_gemini_models.ts";
import { streamResponse, toStreamChunks } from "./mock_gemini_stream.ts";
import {
  addGeneratedFile,
  addOperation,
  entityNotFound,
  ownedFileBytes,
  predictLongRunning,
} from "./mock_gemini_jobs.ts";
import type { Route, RouteContext } from "./mock_gemini_types.ts";
import {
  arrayField,
  contentsText,
  embeddingValues,
  field,
  isObject,
  type Json,
  numberField,
  paginate,
  randomId,
  stringField,
  TINY_PNG_BASE64,
  wordCount,
} from "./mock_gemini_util.ts";

type Handler = (ctx: RouteContext, body: Json) => Response | Promise<Response>;

/** Checks file and cached-content ownership; returns the cached token count or an error response. */
function checkReferences(ctx: RouteContext, body: Json): Response | number {
  const { state, owner } = ctx;
  for (const part of arrayField(body, "contents").flatMap((c) => arrayField(c, "parts"))) {
    const uri = stringField(field(part, "fileData"), "fileUri");
    const id = uri ? /\/files\/([^/?#:]+)/.exec(uri)?.[1] : undefined;
    if (id !== undefined && state.files.get(id)?.owner !== owner) return fileDeniedError(id);
  }
  const stores = arrayField(body, "tools").flatMap((t) =>
    arrayField(field(t, "fileSearch"), "fileSearchStoreNames")
  );
  for (const store of stores) {
    const id = String(store).replace(/^fileSearchStores\//, "");
    if (state.stores.get(id)?.owner !== owner) return entityNotFound();
  }
  const cacheName = stringField(body, "cachedContent");
  if (cacheName === undefined) return 0;
  const id = cacheName.replace(/^cachedContents\//, "");
  const cache = state.caches.get(id);
  if (!cache || cache.owner !== owner) return cacheDeniedError(id);
  const clash = ["systemInstruction", "tools", "toolConfig"].some((f) => field(body, f) !== undefined);
  if (clash) {
    return invalidArgument(
      "CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent request.",
    );
  }
  const model = `models/${ctx.params.model}`;
  if (cache.resource.model !== model) {
    return invalidArgument(
      `Model used by GenerateContent request (${model}) and CachedContent (${cache.resource.model}) has to be the same.`,
    );
  }
  return numberField(field(cache.resource, "usageMetadata"), "totalTokenCount") ?? 0;
}

/** Validates, checks references and quota, then builds the reply (or returns the error response). */
function prepareGenerate(ctx: RouteContext, body: Json, o: { quota: boolean }): Response | Json {
  const model = ctx.params.model;
  const invalid = validateGenerateRequest(body, { model, signatures: ctx.state.signatures });
  if (invalid) return invalid;
  const cachedTokens = checkReferences(ctx, body);
  if (cachedTokens instanceof Response) return cachedTokens;
  if (o.quota) {
    const limited = ctx.state.quotas.take({ bucket: ctx.owner, model, embed: false, spec: ctx.behavior });
    if (limited) return limited;
  }
  return generateReply(body, {
    model,
    signatures: ctx.state.signatures,
    functionCallIds: ctx.state.options.functionCallIds,
    reply: ctx.state.options.reply,
    cachedTokens,
  });
}

const generateContent: Handler = (ctx, body) => {
  const reply = prepareGenerate(ctx, body, { quota: true });
  return reply instanceof Response ? reply : jsonResponse(reply);
};

const streamGenerateContent: Handler = (ctx, body) => {
  const reply = prepareGenerate(ctx, body, { quota: true });
  if (reply instanceof Response) return reply;
  const header = Number(ctx.req.headers.get("x-mock-chunk-delay-ms"));
  const delayMs = ctx.req.headers.has("x-mock-chunk-delay-ms") && Number.isFinite(header)
    ? header
    : ctx.state.options.chunkDelayMs;
  return streamResponse({
    chunks: toStreamChunks(reply),
    sse: ctx.url.searchParams.get("alt") === "sse",
    delayMs,
    closing: ctx.state.closing,
    onDone: ctx.keepOpen(),
    failure: ctx.midStreamFailure && {
      afterChunks: ctx.midStreamFailure.afterChunks,
      body: transientErrorBody(ctx.midStreamFailure.status),
    },
  });
};

const countTokens: Handler = (_ctx, body) => {
  const inner = field(body, "generateContentRequest");
  const contents = arrayField(isObject(inner) ? inner : body, "contents");
  if (contents.length === 0) {
    return invalidArgument("* CountTokensRequest.contents: contents is not specified\n");
  }
  const system = field(inner, "systemInstruction");
  const totalTokens = wordCount(contentsText(contents)) + wordCount(contentsText(system ? [system] : []));
  return jsonResponse({ totalTokens, promptTokensDetails: [{ modality: "TEXT", tokenCount: totalTokens }] });
};

function embedding(request: unknown): { values: number[] } {
  const dims = numberField(request, "outputDimensionality") ?? 8;
  return { values: embeddingValues(contentsText([field(request, "content")]), dims) };
}

const embedContent: Handler = (ctx, body) => {
  if (!isObject(field(body, "content"))) {
    return invalidArgument("* EmbedContentRequest.content: content is not specified\n");
  }
  const limited = ctx.state.quotas.take({
    bucket: ctx.owner,
    model: ctx.params.model,
    embed: true,
    spec: ctx.behavior,
  });
  return limited ?? jsonResponse({ embedding: embedding(body) });
};

const batchEmbedContents: Handler = (ctx, body) => {
  const requests = arrayField(body, "requests");
  if (requests.length > 100) {
    return invalidArgument(
      "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n",
    );
  }
  const wanted = `models/${ctx.params.model}`;
  const bad = requests.findIndex((r) => stringField(r, "model") !== wanted);
  if (bad >= 0) {
    return invalidArgument(
      `* BatchEmbedContentsRequest.requests[${bad}].model: Model name in request must match the model in the URL (${wanted}).\n`,
    );
  }
  const limited = ctx.state.quotas.take({
    bucket: ctx.owner,
    model: ctx.params.model,
    embed: true,
    spec: ctx.behavior,
  });
  return limited ?? jsonResponse({ embeddings: requests.map(embedding) });
};

const predict: Handler = (ctx, body) => {
  const prompt = stringField(arrayField(body, "instances")[0], "prompt");
  if (prompt === undefined) {
    return invalidArgument("* PredictRequest.instances[0].prompt: prompt is required\n");
  }
  const limited = ctx.state.quotas.take({
    bucket: ctx.owner,
    model: ctx.params.model,
    embed: false,
    spec: ctx.behavior,
  });
  if (limited) return limited;
  const count = numberField(field(body, "parameters"), "sampleCount") ?? 4;
  const images = Array.from(
    { length: count },
    () => ({ bytesBase64Encoded: TINY_PNG_BASE64, mimeType: "image/png" }),
  );
  return jsonResponse({
    predictions: [...images, {
      contentType: "Positive Prompt",
      safetyAttributes: { categories: [], scores: [] },
    }],
  });
};

const BATCH = "type.googleapis.com/google.ai.generativelanguage.v1main";

/** The requests of a batch: inline (`requests.requests[]`) or lines of an uploaded JSONL file. */
function batchItems(ctx: RouteContext, batch: unknown): Json[] | Response {
  const input = field(batch, "inputConfig");
  const fileName = stringField(input, "fileName");
  if (fileName === undefined) return arrayField(field(input, "requests"), "requests").filter(isObject);
  const bytes = ownedFileBytes(ctx, fileName);
  if (bytes instanceof Response) return bytes;
  return new TextDecoder().decode(bytes).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** A batch operation: pending when created, polled through `GET batches/{id}` (mock_gemini_jobs.ts). */
function createBatch(
  ctx: RouteContext,
  o: { batch: unknown; kind: "GenerateContent" | "EmbedContent"; results: Json[]; toFile: boolean },
): Response {
  const id = randomId(16);
  const name = `batches/${id}`;
  const now = new Date().toISOString();
  const count = String(o.results.length);
  const metadata: Json = {
    "@type": `${BATCH}.${o.kind}Batch`,
    model: `models/${ctx.params.model}`,
    displayName: stringField(o.batch, "displayName") ?? "batch",
    createTime: now,
    updateTime: now,
    batchStats: { requestCount: count, pendingRequestCount: count },
    state: "BATCH_STATE_PENDING",
    name,
  };
  const inlined = o.kind === "GenerateContent" ? "inlinedResponses" : "inlinedEmbedContentResponses";
  const output: Json = o.toFile
    ? {
      responsesFile: `files/${
        addGeneratedFile(ctx, {
          id: `batch-${id}`,
          mimeType: "application/jsonl",
          displayName: `${name}-results`,
          bytes: new TextEncoder().encode(o.results.map((r) => JSON.stringify(r)).join("\n") + "\n"),
        })
      }`,
    }
    : { [inlined]: { [inlined]: o.results } };
  const stats = { requestCount: count, successfulRequestCount: count };
  addOperation(ctx, {
    name,
    running: { name, metadata: { ...metadata, state: "BATCH_STATE_RUNNING" } },
    done: {
      name,
      metadata: { ...metadata, state: "BATCH_STATE_SUCCEEDED", endTime: now, batchStats: stats, output },
      done: true,
      response: { "@type": `${BATCH}.${o.kind}BatchOutput`, ...output },
    },
  });
  return jsonResponse({ name, metadata });
}

const batchGenerateContent: Handler = (ctx, body) => {
  const batch = field(body, "batch");
  const items = batchItems(ctx, batch);
  if (items instanceof Response) return items;
  const results = items.map((item) => {
    const request = field(item, "request");
    const reply = isObject(request) ? prepareGenerate(ctx, request, { quota: false }) : undefined;
    const key = field(item, "key");
    const tag = key !== undefined ? { key } : { metadata: field(item, "metadata") };
    if (reply === undefined || reply instanceof Response) {
      return { error: { code: 400, message: "Invalid request in batch." }, ...tag };
    }
    return { response: reply, ...tag };
  });
  const toFile = stringField(field(batch, "inputConfig"), "fileName") !== undefined;
  return createBatch(ctx, { batch, kind: "GenerateContent", results, toFile });
};

const asyncBatchEmbedContent: Handler = (ctx, body) => {
  const batch = field(body, "batch");
  const items = batchItems(ctx, batch);
  if (items instanceof Response) return items;
  const results = items.map((item) => ({
    response: { embedding: embedding(field(item, "request")) },
    metadata: field(item, "metadata"),
  }));
  const toFile = stringField(field(batch, "inputConfig"), "fileName") !== undefined;
  return createBatch(ctx, { batch, kind: "EmbedContent", results, toFile });
};

/** The `:{method}` table of `POST models/{model}:{method}`. */
const MODEL_METHODS: Record<string, Handler> = {
  generateContent,
  streamGenerateContent,
  countTokens,
  embedContent,
  batchEmbedContents,
  predict,
  batchGenerateContent,
  asyncBatchEmbedContent,
  predictLongRunning,
};

/** RPC method names (for API_KEY_SERVICE_BLOCKED messages) by route method. */
export function rpcMethodName(method: string | undefined): string {
  if (!method) return "ListModels";
  return method[0].toUpperCase() + method.slice(1);
}

function modelCall(ctx: RouteContext): Response | Promise<Response> {
  const { model, method } = ctx.params;
  const handler = MODEL_METHODS[method];
  if (!handler) return notFoundError(`Method not found: ${method}.`);
  if (!modelSupports(model, method)) return modelNotFoundError({ model, version: ctx.version, method });
  if (ctx.jsonError !== undefined) return invalidJsonError(ctx.jsonError);
  if (!isObject(ctx.json)) return invalidJsonError("Expected a JSON object as the request body.");
  return handler(ctx, ctx.json);
}

/** Routes for models. */
export const MODEL_ROUTES: Route[] = [
  {
    method: "GET",
    path: "/models",
    handle(ctx) {
      const size = Number(ctx.url.searchParams.get("pageSize") ?? ctx.state.options.pageSize);
      const { page, nextPageToken } = paginate(MOCK_MODELS, {
        pageSize: Number.isFinite(size) && size > 0 ? size : 50,
        pageToken: ctx.url.searchParams.get("pageToken"),
      });
      return jsonResponse(nextPageToken ? { models: page, nextPageToken } : { models: page });
    },
  },
  {
    method: "GET",
    path: "/models/{model}",
    handle(ctx) {
      const model = findModel(ctx.params.model);
      return model
        ? jsonResponse(model)
        : modelNotFoundError({ model: ctx.params.model, version: ctx.version, method: "get" });
    },
  },
  { method: "POST", path: "/models/{model}:{method}", handle: modelCall },
];
