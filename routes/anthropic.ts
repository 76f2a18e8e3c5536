/**
 * The Anthropic edge: the Messages API (`POST /v1/messages`, also with `?beta=true` as Claude Code
 * calls it, and `POST /v1/messages/count_tokens`) and the model list in Anthropic's shape, under
 * `/v1` (shared: it claims requests to `/v1/messages…` and any request with `anthropic-version`) and
 * `/anthropic/v1`. Claude model names are mapped to Gemini models (`CLAUDE_MODEL_MAP`), the request
 * goes through the one pipeline, and answers and errors come back in Anthropic's dialect.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { parseJson, readBody } from "../lib/http/body.ts";
import { type PathMethods, refuseOtherMethods } from "../lib/http/allowed_methods.ts";
import { badGateway, notFound } from "../lib/http/errors.ts";
import type { AuthVariables } from "../lib/http/client_auth.ts";
import { callContext, type Edge, type EdgeApp, type EdgeDeps } from "../lib/pipeline/edge.ts";
import { readJson, sseQuery } from "../lib/pipeline/gemini_client.ts";
import { dialectAnswerCheck } from "../lib/gemini/answer_check.ts";
import type { GeminiGenerateContentResponse } from "../lib/gemini/types.ts";
import { parseOpenAI as parseRequest } from "../lib/openai/schemas.ts";
import { defaultFetchImage } from "../lib/openai/chat_parts.ts";
import { anthropicErrorResponse } from "../lib/anthropic/errors.ts";
import { anthropicEventStage, MessageTranslator } from "../lib/anthropic/message_stream.ts";
import { geminiModelFor } from "../lib/anthropic/model_map.ts";
import { anthropicModelInfo, anthropicModelPage } from "../lib/anthropic/models.ts";
import { mapMessagesRequest } from "../lib/anthropic/request.ts";
import {
  type CountTokensRequest,
  countTokensRequestParser,
  type MessagesRequest,
  messagesRequestParser,
} from "../lib/anthropic/schemas.ts";

type Ctx = Context<{ Variables: AuthVariables }>;

const MESSAGES_PATH = /^\/(?:anthropic\/)?v1\/messages(?:\/|$)/;

/** On `/v1`: requests to `/v1/messages…`, and any request an Anthropic client sent (`anthropic-version`). */
export function isAnthropicRequest(req: Request, path = new URL(req.url).pathname): boolean {
  return req.headers.has("anthropic-version") || MESSAGES_PATH.test(path);
}

/** The client's body, parsed as JSON (validated by the caller's schema). */
async function jsonBody(deps: EdgeDeps, c: Ctx): Promise<unknown> {
  return parseJson(await readBody(c.req.raw, deps.settings().maxBodyBytes));
}

/** A validated request mapped to Gemini, with the Gemini model its name maps to. */
async function toGemini(deps: EdgeDeps, c: Ctx, req: MessagesRequest | CountTokensRequest) {
  const s = deps.settings();
  const gemini = deps.gemini.for(callContext(c, "anthropic", { clientModel: req.model }));
  const model = geminiModelFor(req.model, s.claudeModelMap);
  const mapped = await mapMessagesRequest(req, {
    model: gemini.resolve(model).model,
    media: {
      fetchImage: defaultFetchImage,
      allowPrivateImageHosts: s.allowPrivateImageHosts,
      signal: c.req.raw.signal,
    },
    signatures: deps.signatures,
  });
  return { gemini, model, body: mapped.body, functions: mapped.functions };
}

/** `POST /messages`. */
async function createMessage(deps: EdgeDeps, c: Ctx): Promise<Response> {
  const req = parseRequest(messagesRequestParser, await jsonBody(deps, c));
  const { gemini, model, body, functions } = await toGemini(deps, c, req);
  const translator = new MessageTranslator({
    model: req.model,
    rememberCall: (call) => deps.signatures.rememberCall(call),
    functions,
    singleCall: req.tool_choice?.disable_parallel_tool_use === true,
  });
  // Empty answers and failed tool calls get one more try on another key; a 400 about a thought
  // signature one more try with Google's skip value.
  const check = dialectAnswerCheck({ emptyAnswers: deps.settings().retryEmptyAnswers });
  if (req.stream) {
    const res = await gemini.call({ method: "streamGenerateContent", model, body }, {
      query: sseQuery(),
      check,
    });
    if (!res.response.body) throw badGateway("Upstream returned an empty stream.");
    return deps.decorators.sseAnswer(
      res.response.body,
      anthropicEventStage(translator),
      () => ({ event: "ping", data: { type: "ping" } }),
    );
  }
  const res = await gemini.call({ method: "generateContent", model, body }, { check });
  translator.onResponse(await readJson<GeminiGenerateContentResponse>(res));
  const failure = translator.toolCallFailure();
  if (failure) throw failure;
  translator.finish();
  return c.json(translator.message());
}

/** `POST /messages/count_tokens`: Gemini's `countTokens` of the same request (system and tools included). */
async function countTokens(deps: EdgeDeps, c: Ctx): Promise<Response> {
  const r = await toGemini(deps, c, parseRequest(countTokensRequestParser, await jsonBody(deps, c)));
  const { generationConfig: _cfg, ...request } = r.body;
  const res = await r.gemini.call({
    method: "countTokens",
    model: r.model,
    body: { generateContentRequest: request },
  });
  const { totalTokens } = await readJson<{ totalTokens?: number }>(res);
  return c.json({ input_tokens: totalTokens ?? 0 });
}

/** The Anthropic edge's paths and their methods (any other method on them is a 405). */
const ANTHROPIC_PATHS: PathMethods = {
  "/messages": ["POST"],
  "/messages/count_tokens": ["POST"],
  "/models": ["GET"],
  "/models/:id{.+}": ["GET"],
};

/** Builds the Anthropic routes. */
export function createAnthropicRoutes(deps: EdgeDeps): EdgeApp {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.post("/messages", (c) => createMessage(deps, c));
  app.post("/messages/count_tokens", (c) => countTokens(deps, c));
  // The client token's allow-list decides both the list and each model, as it decides calls.
  const gemini = (c: Ctx) => deps.gemini.for(callContext(c, "anthropic"));
  app.get("/models", async (c) => {
    const caller = gemini(c);
    return c.json(anthropicModelPage((await deps.catalog.ids()).filter((id) => caller.allows(id))));
  });
  app.get("/models/:id{.+}", async (c) => {
    const id = c.req.param("id");
    gemini(c).admit(id);
    return c.json(anthropicModelInfo(await deps.catalog.find(id)));
  });
  refuseOtherMethods(app, ANTHROPIC_PATHS);
  app.all("*", (c) => {
    throw notFound(`Unknown endpoint ${c.req.method} ${c.req.path} on the Anthropic route.`);
  });
  return app;
}

/** The Anthropic edge. */
export const anthropicEdge: Edge = {
  name: "anthropic",
  prefixes: ["/v1", "/anthropic/v1"],
  claims: isAnthropicRequest,
  errorResponse: anthropicErrorResponse,
  routes: createAnthropicRoutes,
};
