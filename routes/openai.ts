/**
 * OpenAI-compatible routes (mounted by main at `/v1` and `/openai/v1`; auth is applied outside).
 * Parses and validates the request, maps it to Gemini, calls the shared pipeline and formats the answer
 * (or any error) in OpenAI's dialect.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { readBody } from "../lib/http/body.ts";
import { GatewayError } from "../lib/http/errors.ts";
import type { Forward } from "../lib/pipeline/types.ts";
import type { FetchImage } from "../lib/openai/chat_parts.ts";
import { mapChatRequest, type MappedChatRequest } from "../lib/openai/chat_request.ts";
import { upstreamModelId } from "../lib/gemini/model_id.ts";
import { mapChatResponse } from "../lib/openai/chat_response.ts";
import { translateChatStream } from "../lib/openai/chat_stream.ts";
import { createEmbeddings } from "../lib/openai/embeddings.ts";
import { openAIErrorResponse } from "../lib/openai/errors.ts";
import type { GeminiGenerateContentResponse } from "../lib/gemini/types.ts";
import { generateImages } from "../lib/openai/images.ts";
import { ModelCatalog } from "../lib/openai/models.ts";
import {
  chatRequestSchema,
  embeddingsRequestSchema,
  imagesRequestSchema,
  parseOpenAI,
} from "../lib/openai/schemas.ts";
import { type CallContext, forwardJson, readJson } from "../lib/openai/upstream.ts";
import { answersWhole, wholeAnswerStream } from "../lib/openai/whole_answer.ts";
import { createSpeech } from "../lib/openai/speech.ts";
import { defaultFeatureSettings, type FeatureSettings } from "../lib/features/settings.ts";

/** Context variables these routes read (set by the auth middleware outside). */
export type OpenAIVariables = { tokenName?: string };

/** Live settings read on every request (getter so admin edits apply immediately). */
export interface OpenAIRouteOptions {
  /** Append a "Sources:" list of grounding links to chat answers. */
  searchLinks?: boolean;
  /** Max bytes of an image URL the gateway downloads (default 20 MiB). */
  maxImageBytes?: number;
  /** Timeout for downloading an image URL in ms (default 15 s). */
  imageTimeoutMs?: number;
  /** Let image URLs point at loopback/private hosts (default false; SSRF risk). */
  allowPrivateImageHosts?: boolean;
  /** Default model for /images/generations. */
  defaultImageModel?: string;
  /** Parallel embedding batch calls (default 2). */
  embeddingConcurrency?: number;
}

/** What hooks learn about the current request. */
export interface OpenAIHookContext {
  /** The client token's name, when auth set one. */
  tokenName?: string;
}

/** Dependencies of {@link createOpenAIRoutes}. */
export interface OpenAIRouteDeps {
  /** The shared pipeline. */
  forward: Forward;
  /** Image downloader for http(s) image URLs (default: fetch with limits). */
  fetchImage?: FetchImage;
  /** Settings getter. */
  options?: () => OpenAIRouteOptions;
  /** Feature settings (TTS models, keep-alive interval); defaults apply when absent. */
  featureSettings?: () => FeatureSettings;
  /** Max request body bytes (default 50 MiB); larger bodies get a 413. */
  maxBodyBytes?: () => number;
  /** A shared model catalog (e.g. so features can read `catalog.known()`); one is created otherwise. */
  catalog?: ModelCatalog;
  /** Model list cache TTL in ms (default 5 min); ignored when `catalog` is given. */
  modelsTtlMs?: number;
  /** Extra model ids for /models; ignored when `catalog` is given. */
  extraModels?: () => string[];
  /** Rewrites Google's model list for /models (variants, hidden models); ignored when `catalog` is given. */
  transformModelList?: (googleIds: string[]) => string[];
  /**
   * Hook to post-process a mapped chat request before it is sent (web search tools, model suffixes and
   * aliases, thinking repair). May edit `model`/`body`/`searchLinks` in place or return a replacement.
   */
  transformChat?: (
    mapped: MappedChatRequest,
    ctx: OpenAIHookContext,
  ) => MappedChatRequest | void | Promise<MappedChatRequest | void>;
  /**
   * Resolves aliases/suffixes to real model ids. For embeddings and images the result is called; for chat
   * it only picks the model family for thinking rules (the chat model itself is resolved in `transformChat`).
   */
  resolveModel?: (model: string, kind: "chat" | "embeddings" | "images") => string;
  /** Whether the calling client token may use a model; the model list shows only those. */
  modelAllowed?: (tokenName: string, model: string) => boolean;
  /** Wraps the upstream Gemini SSE body before translation (e.g. the smoother). */
  beforeTranslate?: (
    body: ReadableStream<Uint8Array>,
    mapped: MappedChatRequest,
  ) => ReadableStream<Uint8Array>;
  /** Wraps the OpenAI SSE body sent to the client (e.g. keep-alive comments). */
  afterTranslate?: (
    body: ReadableStream<Uint8Array>,
    mapped: MappedChatRequest,
  ) => ReadableStream<Uint8Array>;
}

type Ctx = Context<{ Variables: OpenAIVariables }>;

const DEFAULT_MAX_BODY = 50 * 1024 * 1024;
const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

async function jsonBody(c: Ctx, limit: number): Promise<unknown> {
  const bytes = await readBody(c.req.raw, limit);
  try {
    return JSON.parse(bytes ? new TextDecoder().decode(bytes) : "");
  } catch {
    throw new GatewayError(
      400,
      "The request body is not valid JSON. Send a JSON object with content-type: application/json.",
      { code: "invalid_json" },
    );
  }
}

function callContext(c: Ctx, forward: Forward): CallContext {
  return { forward, tokenName: c.get("tokenName"), signal: c.req.raw.signal };
}

/** Builds the OpenAI-compatible Hono app. */
export function createOpenAIRoutes(deps: OpenAIRouteDeps): Hono<{ Variables: OpenAIVariables }> {
  const app = new Hono<{ Variables: OpenAIVariables }>();
  const opts = () => deps.options?.() ?? {};
  const fallbackFeatures = defaultFeatureSettings();
  const features = () => deps.featureSettings?.() ?? fallbackFeatures;
  const catalog = deps.catalog ??
    new ModelCatalog({
      ttlMs: deps.modelsTtlMs,
      extraModels: deps.extraModels,
      transformList: deps.transformModelList,
    });
  const body = (c: Ctx) => jsonBody(c, deps.maxBodyBytes?.() ?? DEFAULT_MAX_BODY);

  app.onError((err) => openAIErrorResponse(err));
  app.notFound((c) =>
    openAIErrorResponse(
      new GatewayError(404, `Unknown endpoint ${c.req.method} ${c.req.path}.`, { code: "unknown_url" }),
    )
  );

  app.post("/chat/completions", async (c) => {
    const o = opts();
    const req = parseOpenAI(chatRequestSchema, await body(c));
    let mapped = await mapChatRequest(req, {
      fetchImage: deps.fetchImage,
      maxImageBytes: o.maxImageBytes,
      imageTimeoutMs: o.imageTimeoutMs,
      allowPrivateImageHosts: o.allowPrivateImageHosts,
      signal: c.req.raw.signal,
      familyOf: deps.resolveModel ? (m) => deps.resolveModel!(m, "chat") : undefined,
    });
    mapped = (await deps.transformChat?.(mapped, { tokenName: c.get("tokenName") })) ?? mapped;
    mapped.model = upstreamModelId(mapped.model);
    const ctx = callContext(c, deps.forward);
    const common = {
      model: mapped.clientModel,
      includeThoughts: mapped.includeThoughts,
      searchLinks: mapped.searchLinks ?? o.searchLinks,
    };
    const whole = answersWhole({
      model: mapped.model,
      clientModel: mapped.clientModel,
      modalities: mapped.body.generationConfig?.responseModalities,
    });
    if (mapped.stream && whole) {
      const answer = forwardJson(ctx, {
        path: `/v1beta/models/${mapped.model}:generateContent`,
        body: mapped.body,
        model: mapped.model,
      }).then((res) => res.response.text());
      const keepAliveMs = features().keepAliveMs;
      return new Response(
        wholeAnswerStream({ ...common, includeUsage: mapped.includeUsage, answer, keepAliveMs }),
        {
          headers: SSE_HEADERS,
        },
      );
    }
    if (mapped.stream) {
      const res = await forwardJson(ctx, {
        path: `/v1beta/models/${mapped.model}:streamGenerateContent`,
        query: new URLSearchParams({ alt: "sse" }),
        body: mapped.body,
        model: mapped.model,
        stream: true,
      });
      if (!res.response.body) throw new GatewayError(502, "Upstream returned an empty stream.");
      const upstream = deps.beforeTranslate?.(res.response.body, mapped) ?? res.response.body;
      const out = translateChatStream(upstream, { ...common, includeUsage: mapped.includeUsage });
      return new Response(deps.afterTranslate?.(out, mapped) ?? out, { headers: SSE_HEADERS });
    }
    const res = await forwardJson(ctx, {
      path: `/v1beta/models/${mapped.model}:generateContent`,
      body: mapped.body,
      model: mapped.model,
    });
    return c.json(mapChatResponse(await readJson<GeminiGenerateContentResponse>(res), common));
  });

  app.get("/models", async (c) => {
    const list = await catalog.list(callContext(c, deps.forward));
    const name = c.get("tokenName");
    if (!deps.modelAllowed || !name) return c.json(list);
    return c.json({ ...list, data: list.data.filter((m) => deps.modelAllowed!(name, m.id)) });
  });
  app.get(
    "/models/:id{.+}",
    async (c) => c.json(await catalog.get(c.req.param("id"), callContext(c, deps.forward))),
  );

  app.post("/embeddings", async (c) => {
    const req = parseOpenAI(embeddingsRequestSchema, await body(c));
    const model = deps.resolveModel?.(req.model, "embeddings") ?? req.model;
    return c.json(
      await createEmbeddings({ ...req, model }, callContext(c, deps.forward), {
        concurrency: opts().embeddingConcurrency,
      }),
    );
  });

  app.post("/images/generations", async (c) => {
    const req = parseOpenAI(imagesRequestSchema, await body(c));
    const model = req.model ? deps.resolveModel?.(req.model, "images") ?? req.model : req.model;
    return c.json(
      await generateImages({ ...req, model }, callContext(c, deps.forward), {
        defaultModel: opts().defaultImageModel,
      }),
    );
  });

  app.post("/audio/speech", async (c) => {
    const speech = await createSpeech(await body(c), callContext(c, deps.forward), features());
    return new Response(speech.bytes, { headers: { "content-type": speech.contentType } });
  });

  return app;
}
