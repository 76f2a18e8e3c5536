/**
 * The OpenAI edge (`/v1/...`, `/openai/v1/...` and Google's `/v1beta/openai/...`): Chat Completions,
 * models, embeddings, images and speech. Parses and validates the request, maps it to a Gemini call, sends it through the one
 * pipeline and formats the answer (or any error) in OpenAI's dialect.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { readBody } from "../lib/http/body.ts";
import { type PathMethods, refuseOtherMethods } from "../lib/http/allowed_methods.ts";
import { badGateway, badRequest, notFound } from "../lib/http/errors.ts";
import { type SseEvent, sseResponse } from "../lib/http/sse.ts";
import type { AuthVariables } from "../lib/http/client_auth.ts";
import { callContext, type Edge, type EdgeApp, type EdgeDeps } from "../lib/pipeline/edge.ts";
import { type GeminiCaller, readJson, sseQuery } from "../lib/pipeline/gemini_client.ts";
import { dialectAnswerCheck } from "../lib/gemini/answer_check.ts";
import type { GeminiGenerateContentResponse } from "../lib/gemini/types.ts";
import { defaultFetchImage, type FetchImage } from "../lib/openai/chat_parts.ts";
import { mapChatRequest } from "../lib/openai/chat_request.ts";
import { mapChatResponse } from "../lib/openai/chat_response.ts";
import {
  chatCompletionStage,
  ChatCompletionStream,
  ChatStreamTranslator,
} from "../lib/openai/chat_stream.ts";
import { createEmbeddings } from "../lib/openai/embeddings.ts";
import { openAIErrorResponse } from "../lib/openai/errors.ts";
import { generateImages } from "../lib/openai/images.ts";
import {
  chatRequestParser,
  embeddingsRequestSchema,
  imagesRequestSchema,
  parseOpenAI,
} from "../lib/openai/schemas.ts";
import { answersWhole, failsEarly, startWith, wholeAnswerItems } from "../lib/openai/whole_answer.ts";
import { createSpeech } from "../lib/openai/speech.ts";
import { openAIModel, openAIModelList } from "../lib/openai/models.ts";

/** Options of the OpenAI edge's image downloader (not settings: fixed for a gateway's life). */
export interface OpenAIEdgeOptions {
  /** Image downloader for http(s) image URLs in prompts (default: fetch with the limits below). */
  fetchImage?: FetchImage;
  /** Largest image a prompt's URL may point at, in bytes (default 20 MiB). */
  maxImageBytes?: number;
  /** Time to download one image, in ms (default 15 s). */
  imageTimeoutMs?: number;
}

type Ctx = Context<{ Variables: AuthVariables }>;

/** One decoder for request bodies (whole texts: it keeps no state between calls). */
const UTF8 = new TextDecoder();

async function jsonBody(
  c: Ctx,
  limits: { maxBodyBytes: number; clientBodyTimeoutMs: number },
): Promise<unknown> {
  const bytes = await readBody(c.req.raw, limits.maxBodyBytes, { timeoutMs: limits.clientBodyTimeoutMs });
  try {
    return JSON.parse(bytes ? UTF8.decode(bytes) : "");
  } catch {
    throw badRequest(
      undefined,
      "The request body is not valid JSON. Send a JSON object with content-type: application/json.",
      { code: "invalid_json" },
    );
  }
}

/** `POST /chat/completions`. */
async function chatCompletions(deps: EdgeDeps, gemini: GeminiCaller, c: Ctx, options: OpenAIEdgeOptions) {
  const s = deps.settings();
  const req = parseOpenAI(chatRequestParser, await jsonBody(c, s));
  const parsed = gemini.resolve(req.model);
  const mapped = await mapChatRequest(req, {
    fetchImage: options.fetchImage ?? defaultFetchImage,
    maxImageBytes: options.maxImageBytes,
    imageTimeoutMs: options.imageTimeoutMs,
    allowPrivateImageHosts: s.allowPrivateImageHosts,
    signal: c.req.raw.signal,
    family: parsed.model,
    signatures: deps.signatures,
  });
  const common = {
    model: req.model,
    includeThoughts: mapped.includeThoughts,
    searchLinks: s.searchLinks,
    signatures: deps.signatures,
    functions: mapped.functions,
  };
  const stream = { ...common, includeUsage: mapped.includeUsage };
  // Empty answers and failed tool calls get one more try on another key; a 400 about a thought
  // signature one more try with Google's skip value.
  const check = dialectAnswerCheck({ emptyAnswers: s.retryEmptyAnswers });
  const whole = parsed.image || answersWhole({
    model: parsed.model,
    clientModel: req.model,
    modalities: mapped.body.generationConfig?.responseModalities,
  });
  if (mapped.stream && whole) {
    const answer = gemini.call({ method: "generateContent", model: req.model, body: mapped.body }, { check })
      .then((res) => res.response.text());
    const arrived = await failsEarly(answer, s.keepAliveMs);
    const translate = new ChatCompletionStream(stream);
    const events = wholeAnswerItems(answer).pipeThrough(translate);
    // While waiting, empty chunks rather than comments: some clients time out on data, not bytes.
    const idle = (): SseEvent => ({ data: translate.translator.emptyChunk() });
    return sseResponse(deps.decorators.keepAlive(arrived ? events : startWith(idle(), events), idle));
  }
  if (mapped.stream) {
    const res = await gemini.call(
      { method: "streamGenerateContent", model: req.model, body: mapped.body },
      { query: sseQuery(), check },
    );
    if (!res.response.body) throw badGateway("Upstream returned an empty stream.");
    return deps.decorators.sseAnswer(
      res.response.body,
      chatCompletionStage(new ChatStreamTranslator(stream)),
    );
  }
  const res = await gemini.call({ method: "generateContent", model: req.model, body: mapped.body }, {
    check,
  });
  return c.json(mapChatResponse(await readJson<GeminiGenerateContentResponse>(res), common));
}

/** The OpenAI edge's paths and their methods (any other method on them is a 405). */
const OPENAI_PATHS: PathMethods = {
  "/chat/completions": ["POST"],
  "/models": ["GET"],
  "/models/:id{.+}": ["GET"],
  "/embeddings": ["POST"],
  "/images/generations": ["POST"],
  "/audio/speech": ["POST"],
};

/** Builds the OpenAI routes. */
function createOpenAIRoutes(deps: EdgeDeps, options: OpenAIEdgeOptions): EdgeApp {
  const app = new Hono<{ Variables: AuthVariables }>();
  const gemini = (c: Ctx) => deps.gemini.for(callContext(c, "openai"));
  const body = (c: Ctx) => jsonBody(c, deps.settings());

  app.post("/chat/completions", (c) => chatCompletions(deps, gemini(c), c, options));

  // The client token's allow-list decides both the list and each model, as it decides calls.
  app.get("/models", async (c) => {
    const caller = gemini(c);
    const ids = (await deps.catalog.ids()).filter((id) => caller.allows(id));
    return c.json(openAIModelList(ids));
  });
  app.get("/models/:id{.+}", async (c) => {
    const id = c.req.param("id");
    gemini(c).admit(id);
    return c.json(openAIModel(await deps.catalog.find(id)));
  });

  app.post("/embeddings", async (c) => {
    const req = parseOpenAI(embeddingsRequestSchema, await body(c));
    return c.json(await createEmbeddings(req, gemini(c)));
  });

  app.post("/images/generations", async (c) => {
    const req = parseOpenAI(imagesRequestSchema, await body(c));
    return c.json(await generateImages(req, gemini(c)));
  });

  app.post("/audio/speech", async (c) => {
    const speech = await createSpeech(await body(c), gemini(c), deps.settings());
    return new Response(speech.bytes, { headers: { "content-type": speech.contentType } });
  });

  refuseOtherMethods(app, OPENAI_PATHS);
  app.all("*", (c) => {
    throw notFound(`Unknown endpoint ${c.req.method} ${c.req.path}.`, "unknown_url");
  });
  return app;
}

/** The OpenAI edge with the given image downloader options (the one way it is built). */
export function createOpenAIEdge(options: OpenAIEdgeOptions = {}): Edge {
  return {
    name: "openai",
    // `/v1beta/openai` is Google's own OpenAI-compatible base path: clients pointed at it work unchanged.
    prefixes: ["/v1", "/openai/v1", "/v1beta/openai"],
    errorResponse: openAIErrorResponse,
    routes: (deps) => createOpenAIRoutes(deps, options),
  };
}

/** The OpenAI edge as the gateway serves it. */
export const openAIEdge: Edge = createOpenAIEdge();
