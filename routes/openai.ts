/**
 * OpenAI-compatible routes (mounted by main at `/v1` and `/openai/v1`; auth is applied outside).
 * Parses and validates the request, maps it to Gemini, calls the shared pipeline and formats the answer
 * (or any error) in OpenAI's dialect.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { GatewayError } from "../lib/http/errors.ts";
import type { Forward } from "../lib/pipeline/types.ts";
import type { FetchImage } from "../lib/openai/chat_parts.ts";
import { mapChatRequest, type MappedChatRequest } from "../lib/openai/chat_request.ts";
import { mapChatResponse } from "../lib/openai/chat_response.ts";
import { translateChatStream } from "../lib/openai/chat_stream.ts";
import { createEmbeddings } from "../lib/openai/embeddings.ts";
import { openAIErrorResponse } from "../lib/openai/errors.ts";
import type { GeminiGenerateContentResponse } from "../lib/openai/gemini_types.ts";
import { generateImages } from "../lib/openai/images.ts";
import { ModelCatalog } from "../lib/openai/models.ts";
import {
  chatRequestSchema,
  embeddingsRequestSchema,
  imagesRequestSchema,
  parseOpenAI,
} from "../lib/openai/schemas.ts";
import { type CallContext, forwardJson, readJson } from "../lib/openai/upstream.ts";

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
  /** Default model for /images/generations. */
  defaultImageModel?: string;
  /** Parallel embedding batch calls (default 2). */
  embeddingConcurrency?: number;
}

/** Dependencies of {@link createOpenAIRoutes}. */
export interface OpenAIRouteDeps {
  /** The shared pipeline. */
  forward: Forward;
  /** Image downloader for http(s) image URLs (default: fetch with limits). */
  fetchImage?: FetchImage;
  /** Settings getter. */
  options?: () => OpenAIRouteOptions;
  /** Model list cache TTL in ms (default 5 min). */
  modelsTtlMs?: number;
  /** Extra model ids for /models (features add suffixed variants here). */
  extraModels?: () => string[];
  /**
   * Hook to post-process a mapped chat request before it is sent (e.g. web search tools, model suffixes).
   * May edit `body`/`model` in place or return a replacement.
   */
  transformChat?: (
    mapped: MappedChatRequest,
  ) => MappedChatRequest | void | Promise<MappedChatRequest | void>;
}

type Ctx = Context<{ Variables: OpenAIVariables }>;

async function jsonBody(c: Ctx): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
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
  const catalog = new ModelCatalog({ ttlMs: deps.modelsTtlMs, extraModels: deps.extraModels });

  app.onError((err) => openAIErrorResponse(err));
  app.notFound((c) =>
    openAIErrorResponse(
      new GatewayError(404, `Unknown endpoint ${c.req.method} ${c.req.path}.`, { code: "unknown_url" }),
    )
  );

  app.post("/chat/completions", async (c) => {
    const o = opts();
    const req = parseOpenAI(chatRequestSchema, await jsonBody(c));
    let mapped = await mapChatRequest(req, {
      fetchImage: deps.fetchImage,
      maxImageBytes: o.maxImageBytes,
      imageTimeoutMs: o.imageTimeoutMs,
      signal: c.req.raw.signal,
    });
    mapped = (await deps.transformChat?.(mapped)) ?? mapped;
    const ctx = callContext(c, deps.forward);
    const common = {
      model: mapped.clientModel,
      includeThoughts: mapped.includeThoughts,
      searchLinks: o.searchLinks,
    };
    if (mapped.stream) {
      const res = await forwardJson(ctx, {
        path: `/v1beta/models/${mapped.model}:streamGenerateContent`,
        query: new URLSearchParams({ alt: "sse" }),
        body: mapped.body,
        model: mapped.model,
        stream: true,
      });
      if (!res.response.body) throw new GatewayError(502, "Upstream returned an empty stream.");
      const body = translateChatStream(res.response.body, { ...common, includeUsage: mapped.includeUsage });
      return new Response(body, {
        headers: {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
        },
      });
    }
    const res = await forwardJson(ctx, {
      path: `/v1beta/models/${mapped.model}:generateContent`,
      body: mapped.body,
      model: mapped.model,
    });
    return c.json(mapChatResponse(await readJson<GeminiGenerateContentResponse>(res), common));
  });

  app.get("/models", async (c) => c.json(await catalog.list(callContext(c, deps.forward))));
  app.get(
    "/models/:id{.+}",
    async (c) => c.json(await catalog.get(c.req.param("id"), callContext(c, deps.forward))),
  );

  app.post("/embeddings", async (c) => {
    const req = parseOpenAI(embeddingsRequestSchema, await jsonBody(c));
    return c.json(
      await createEmbeddings(req, callContext(c, deps.forward), { concurrency: opts().embeddingConcurrency }),
    );
  });

  app.post("/images/generations", async (c) => {
    const req = parseOpenAI(imagesRequestSchema, await jsonBody(c));
    return c.json(
      await generateImages(req, callContext(c, deps.forward), { defaultModel: opts().defaultImageModel }),
    );
  });

  return app;
}
