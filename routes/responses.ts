/**
 * The OpenAI Responses edge (`POST /v1/responses`, streamed and not; `GET` and `DELETE
 * /v1/responses/{id}`; `GET /v1/responses/{id}/input_items`), also under `/openai/v1`. On the shared
 * prefixes it claims the `/responses` paths; everything else there stays with the OpenAI edge.
 * Stored responses (`store`, `previous_response_id`, `item_reference`) live in KV for
 * `RESPONSES_RETENTION_HOURS`, visible only to the client token that made them.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { parseJson, readBody } from "../lib/http/body.ts";
import { type PathMethods, refuseOtherMethods } from "../lib/http/allowed_methods.ts";
import { badGateway, badRequest, notFound } from "../lib/http/errors.ts";
import type { AuthVariables } from "../lib/http/client_auth.ts";
import { callContext, type Edge, type EdgeApp, type EdgeDeps } from "../lib/pipeline/edge.ts";
import { readJson, sseQuery } from "../lib/pipeline/gemini_client.ts";
import { dialectAnswerCheck } from "../lib/gemini/answer_check.ts";
import type { GeminiGenerateContentResponse } from "../lib/gemini/types.ts";
import { defaultFetchImage } from "../lib/openai/chat_parts.ts";
import { openAIErrorResponse } from "../lib/openai/errors.ts";
import { parseOpenAI } from "../lib/openai/schemas.ts";
import { itemId, newResponseId, responseOfItem } from "../lib/responses/ids.ts";
import { mapResponsesRequest } from "../lib/responses/request.ts";
import { listedInputItem } from "../lib/responses/input_items.ts";
import {
  responseEventStage,
  type ResponseObject,
  ResponseTranslator,
} from "../lib/responses/response_stream.ts";
import {
  isMappedItem,
  type MappedItem,
  type ResponsesRequest,
  responsesRequestParser,
} from "../lib/responses/schemas.ts";
import { ResponseStore } from "../lib/responses/store.ts";

type Ctx = Context<{ Variables: AuthVariables }>;

/** What `c.json` sets, for a body serialized here (Hono copies it, never changes it). */
const JSON_CONTENT_TYPE: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": "application/json",
});

const RESPONSES_PATH = /^\/(?:openai\/)?v1\/responses(?:\/|$)/;

/** On a shared prefix: the `/responses` paths. */
export function isResponsesRequest(req: Request, path = new URL(req.url).pathname): boolean {
  return RESPONSES_PATH.test(path);
}

/** The id of the request's client token: what owns stored responses (never its display name). */
function tokenOf(c: Ctx): string {
  return c.get("tokenId") ?? "";
}

/** Kinds of input items, for the ids given to those that come without one. */
const ITEM_KINDS: Record<string, string> = {
  message: "msg",
  function_call: "fc",
  function_call_output: "fco",
  custom_tool_call: "ctc",
  custom_tool_call_output: "ctco",
  reasoning: "rs",
};

/** The request's input as items: a string is one user message; item references are resolved. */
async function inputItems(
  req: ResponsesRequest,
  o: { store: ResponseStore; owner: string },
): Promise<MappedItem[]> {
  if (typeof req.input === "string") return [{ type: "message", role: "user", content: req.input }];
  const out: MappedItem[] = [];
  for (const [i, item] of (req.input ?? []).entries()) {
    if (!isMappedItem(item)) continue;
    if (item.type !== "item_reference") {
      out.push(item);
      continue;
    }
    const owner = responseOfItem(item.id);
    const record = owner ? await o.store.get(owner, o.owner) : undefined;
    const found = record && [...record.input, ...record.response.output].find((x) => x.id === item.id);
    if (!found) {
      throw badRequest(`input[${i}].id`, `Item with id '${item.id}' not found.`, { code: "item_not_found" });
    }
    out.push(found as MappedItem);
  }
  return out;
}

/** What the Response object echoes from the request. */
function echo(req: ResponsesRequest) {
  return {
    instructions: req.instructions ?? null,
    metadata: req.metadata ?? {},
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    temperature: req.temperature ?? null,
    top_p: req.top_p ?? null,
    tool_choice: req.tool_choice ?? "auto",
    tools: req.tools ?? [],
    text: req.text ?? { format: { type: "text" } },
    reasoning: req.reasoning ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    previous_response_id: req.previous_response_id ?? null,
    store: req.store ?? true,
  };
}

/** `POST /responses`. */
async function createResponse(deps: EdgeDeps, store: ResponseStore, c: Ctx): Promise<Response> {
  const s = deps.settings();
  const req = parseOpenAI(responsesRequestParser, parseJson(await readBody(c.req.raw, s.maxBodyBytes)));
  const owner = tokenOf(c);
  let history: MappedItem[] = [];
  if (req.previous_response_id) {
    const found = await store.conversation(req.previous_response_id, owner);
    if (!found) {
      throw badRequest(
        "previous_response_id",
        `Previous response with id '${req.previous_response_id}' not found.`,
        { code: "previous_response_not_found" },
      );
    }
    history = found;
  }
  const input = await inputItems(req, { store, owner });
  const gemini = deps.gemini.for(callContext(c, "responses"));
  const mapped = await mapResponsesRequest(req, [...history, ...input], {
    model: gemini.resolve(req.model).model,
    media: {
      fetchImage: defaultFetchImage,
      allowPrivateImageHosts: s.allowPrivateImageHosts,
      signal: c.req.raw.signal,
    },
    signatures: deps.signatures,
  });
  const id = newResponseId();
  const translator = new ResponseTranslator({
    id,
    model: req.model,
    echo: echo(req),
    names: mapped.names,
    singleCall: req.parallel_tool_calls === false,
    rememberCall: (call) => deps.signatures.rememberCall(call),
  });
  /** Stores the finished Response (`responseJson`: its JSON when the answer already made it). */
  const keep = (response: ResponseObject, responseJson?: string) => {
    if (req.store === false) return;
    const stored = input.map((item, n) =>
      ({
        ...item,
        id: item.id || itemId({ responseId: id, kind: ITEM_KINDS[item.type] ?? "item", n, input: true }),
      }) as MappedItem & { id: string }
    );
    store.save(
      { owner, response, input: stored, previousId: req.previous_response_id ?? undefined },
      { responseJson },
    );
  };
  const call = { model: req.model, body: mapped.body };
  // Empty answers and failed tool calls get one more try on another key; a 400 about a thought
  // signature one more try with Google's skip value.
  const check = dialectAnswerCheck({ emptyAnswers: s.retryEmptyAnswers });
  if (req.stream) {
    const res = await gemini.call({ method: "streamGenerateContent", ...call }, { query: sseQuery(), check });
    if (!res.response.body) throw badGateway("Upstream returned an empty stream.");
    return deps.decorators.sseAnswer(res.response.body, responseEventStage(translator, keep));
  }
  const res = await gemini.call({ method: "generateContent", ...call }, { check });
  translator.onResponse(await readJson<GeminiGenerateContentResponse>(res));
  const failure = translator.toolCallFailure();
  if (failure) throw failure;
  translator.finish();
  // Serialized once: the answer's body, and the stored record's `response`.
  const json = JSON.stringify(translator.response());
  keep(translator.response(), json);
  return c.body(json, undefined, JSON_CONTENT_TYPE);
}

function missing(id: string): never {
  throw notFound(`No response found with id '${id}'.`, "not_found");
}

/** `GET /responses/{id}/input_items`: the conversation's input items, paged like OpenAI's list. */
async function listInputItems(store: ResponseStore, c: Ctx): Promise<Response> {
  const id = c.req.param("id")!;
  const owner = tokenOf(c);
  const record = await store.get(id, owner);
  if (!record) missing(id);
  const earlier = record.previousId ? await store.conversation(record.previousId, owner) ?? [] : [];
  let items = [...earlier, ...record.input] as Array<MappedItem & { id?: string }>;
  if (c.req.query("order") !== "asc") items = items.reverse();
  const after = c.req.query("after");
  if (after) items = items.slice(items.findIndex((i) => i.id === after) + 1);
  const limit = Math.min(100, Math.max(1, Number(c.req.query("limit") ?? 20) || 20));
  const data = items.slice(0, limit).map(listedInputItem);
  return c.json({
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: items.length > limit,
  });
}

/** The Responses edge's paths and their methods (any other method on them is a 405). */
const RESPONSES_PATHS: PathMethods = {
  "/responses": ["POST"],
  "/responses/:id": ["GET", "DELETE"],
  "/responses/:id/input_items": ["GET"],
};

/** Builds the Responses routes. */
export function createResponsesRoutes(deps: EdgeDeps): EdgeApp {
  const store = new ResponseStore({
    kv: deps.kv,
    retentionMs: () => deps.settings().responsesRetentionHours * 3_600_000,
  });
  const app = new Hono<{ Variables: AuthVariables }>();
  app.post("/responses", (c) => createResponse(deps, store, c));
  app.get("/responses/:id", async (c) => {
    const id = c.req.param("id");
    const record = await store.get(id, tokenOf(c));
    return record ? c.json(record.response) : missing(id);
  });
  app.delete("/responses/:id", async (c) => {
    const id = c.req.param("id");
    if (!await store.delete(id, tokenOf(c))) missing(id);
    return c.json({ id, object: "response", deleted: true });
  });
  app.get("/responses/:id/input_items", (c) => listInputItems(store, c));
  refuseOtherMethods(app, RESPONSES_PATHS);
  app.all("*", (c) => {
    throw notFound(`Unknown endpoint ${c.req.method} ${c.req.path} on the Responses route.`, "unknown_url");
  });
  return app;
}

/** The OpenAI Responses edge. */
export const responsesEdge: Edge = {
  name: "responses",
  prefixes: ["/v1", "/openai/v1"],
  claims: isResponsesRequest,
  errorResponse: openAIErrorResponse,
  routes: createResponsesRoutes,
};
