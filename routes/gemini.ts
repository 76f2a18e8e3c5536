/**
 * The Gemini-native edge: everything Google serves under `/v1beta/...` (and `/v1`, `/v1alpha`, the
 * resumable upload path `/upload/...`, the media download path `/download/...`, and the same under
 * `/gemini/`), forwarded byte for byte through the shared pipeline. Model methods go through the prepare step (aliases, suffixes, features); the
 * rest (files, caches, batches, operations, the model list) is sent as it is. Errors come back in
 * Google's envelope.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AuthVariables } from "../lib/http/client_auth.ts";
import { badRequest, googleErrorResponse } from "../lib/http/errors.ts";
import { readBody } from "../lib/http/body.ts";
import { sseResponse } from "../lib/http/sse.ts";
import { callContext, type Edge, type EdgeApp, type EdgeDeps } from "../lib/pipeline/edge.ts";
import { urlPath, urlSearch } from "../lib/http/url_parts.ts";
import type { GeminiCaller } from "../lib/pipeline/gemini_client.ts";
import { GeminiEventStream, readGeminiStream } from "../lib/gemini/stream.ts";
import { geminiAnswerCheck } from "../lib/gemini/answer_check.ts";
import { bareModel } from "../lib/gemini/model_id.ts";
import { headerRecord } from "../lib/pipeline/client_headers.ts";

/** Client request headers forwarded upstream (and every `x-goog-upload-*`): a set lookup, no regex. */
const FORWARD_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  "content-type",
  "accept",
  "x-goog-api-client",
  "x-server-timeout",
  "user-agent",
]);
/** `/{version}/{models|tunedModels}/{id}:{method}`: a model method (upload paths never name one). */
const MODEL_METHOD_PATH = /^\/(v1(?:beta|alpha)?)\/(models|tunedModels)\/([^/:]+):([A-Za-z]+)$/;
/** Any path under one model (`models/x`, `models/x/operations/y`): per-model cooldowns and allow-lists apply. */
const MODEL_PATH = /^\/(?:upload\/)?v1(?:beta|alpha)?\/(?:models|tunedModels)\/([^/:]+)/;
/** A media download (`files/x:download?alt=media`, batch results, generated videos): streamed through. */
const MEDIA_PATH = /^\/(?:download\/)?v1(?:beta|alpha)?\/files\/[^/]+:download$/;

/**
 * The model id of a path segment, percent-decoded.
 *
 * @throws {GatewayError} 400 (`model`) for a malformed percent-encoding (a truncated `%E0%A4%A`).
 */
function decodeModel(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch (err) {
    throw badRequest(
      "model",
      `The model in the path (${segment}) has a malformed percent-encoding; encode the model id with ` +
        "encodeURIComponent, or send it as it is (model ids need no encoding).",
      { cause: err },
    );
  }
}

/** A client request header worth forwarding upstream (names are lower case). */
const forwardable = (name: string) => FORWARD_REQUEST_HEADERS.has(name) || name.startsWith("x-goog-upload-");

/** The public origin of the gateway as the client sees it (honours X-Forwarded-*). */
export function publicOrigin(req: Request): string {
  const url = new URL(req.url);
  const proto = req.headers.get("x-forwarded-proto")?.split(",")[0].trim() ?? url.protocol.replace(":", "");
  const host = req.headers.get("x-forwarded-host")?.split(",")[0].trim() ?? url.host;
  return `${proto}://${host}`;
}

/** Path prefixes the native edge serves. */
export const GEMINI_PREFIXES = [
  "/v1beta",
  "/v1alpha",
  "/v1",
  "/upload/v1beta",
  "/upload/v1alpha",
  "/upload/v1",
  "/download/v1beta",
  "/download/v1alpha",
  "/download/v1",
  "/gemini/v1beta",
  "/gemini/v1",
  "/gemini/v1alpha",
  "/gemini/upload/v1beta",
  "/gemini/upload/v1alpha",
  "/gemini/upload/v1",
  "/gemini/download/v1beta",
  "/gemini/download/v1alpha",
  "/gemini/download/v1",
];

const MODEL_LIST_PATH = /^\/v1(?:beta|alpha)?\/models\/?$/;

type ModelListPage = { models?: Array<{ name?: string }>; nextPageToken?: string };
const MAX_LIST_PAGES = 20;

/**
 * A Google model list with only the models `allowed` accepts. Its pages are followed and joined into
 * one, since a filtered page can be empty and SDK pagers stop (or yield nothing) on an empty page.
 */
async function filterModelList(
  first: Response,
  nextPage: (pageToken: string) => Promise<Response>,
  allowed: (model: string) => boolean,
): Promise<Response> {
  if (!first.ok) return first;
  const kept: Array<{ name?: string }> = [];
  let page = await first.json() as ModelListPage;
  for (let n = 1;; n++) {
    for (const m of page.models ?? []) {
      if (allowed(bareModel(String(m.name ?? "")))) kept.push(m);
    }
    if (!page.nextPageToken || n >= MAX_LIST_PAGES) break;
    const res = await nextPage(page.nextPageToken);
    if (!res.ok) return res;
    page = await res.json() as ModelListPage;
  }
  return Response.json({ models: kept }, { status: first.status, headers: first.headers });
}

const NATIVE_V1 =
  /^\/v1\/(?:[^?]*:[A-Za-z]+$|files\b|cachedContents\b|batches\b|tunedModels\b|operations\b|fileSearchStores\b|corpora\b)/;
const BEARER = /^bearer\s/i;
/** Resources OpenAI has under the same names (its Files and Batch APIs). */
const SHARED_NAMES = /^\/v1\/(?:files|batches)\b/;

/**
 * `/v1/...` serves several dialects: the Google SDK (which now defaults to `v1`) and the OpenAI SDK.
 * A request is Gemini-native when it carries its credential Google's way (`x-goog-api-key` or
 * `?key=`), or names a Gemini method (`models/x:generateContent`) or resource; `files` and `batches`
 * with an `Authorization: Bearer` credential alone are OpenAI's (which answers them in its envelope).
 */
export function isNativeV1(req: Request, path = urlPath(req.url)): boolean {
  if (req.headers.has("x-goog-api-key")) return true;
  const search = urlSearch(req.url);
  if (search && new URLSearchParams(search).has("key")) return true;
  if (SHARED_NAMES.test(path) && BEARER.test(req.headers.get("authorization") ?? "")) return false;
  return NATIVE_V1.test(path);
}

type Ctx = Context<{ Variables: AuthVariables }>;

/** A streamed answer re-encoded in Google's framing after the smoother (only when it is on). */
function smoothed(deps: EdgeDeps, response: Response): Response {
  const events = deps.decorators.smooth(readGeminiStream(response.body!)).pipeThrough(
    new GeminiEventStream(),
  );
  return sseResponse(events, { lineEnding: "\r\n", headers: response.headers, status: response.status });
}

/** The model methods whose empty answers `RETRY_EMPTY_ANSWERS_NATIVE` retries. */
const GENERATE_METHODS: ReadonlySet<string> = new Set(["generateContent", "streamGenerateContent"]);

/**
 * The client's query for the upstream, without its credential (`key`); undefined without a query. A
 * query whose text names no `key` (and has no percent-escape that could spell one) is kept without a
 * `delete` pass.
 */
function clientQuery(search: string): URLSearchParams | undefined {
  if (!search) return undefined;
  const query = new URLSearchParams(search);
  if (search.includes("key") || search.includes("%")) query.delete("key");
  return query;
}

/** Forwards one native request; the model list is filtered for tokens with an allow-list. */
async function handle(deps: EdgeDeps, c: Ctx): Promise<Response> {
  const req = c.req.raw;
  // Each of the request's getters costs a brand check and more: read them once.
  const { url, method: httpMethod } = req;
  const settings = deps.settings();
  const pathname = urlPath(url);
  const path = pathname.startsWith("/gemini/") ? pathname.slice(7) : pathname;
  const query = clientQuery(urlSearch(url));
  const body = httpMethod === "GET" || httpMethod === "HEAD"
    ? null
    : await readBody(req, settings.maxBodyBytes, { timeoutMs: settings.clientBodyTimeoutMs });
  // Read off Deno's header list as it arrived: no sorted copy, no `Headers` object to convert back.
  const headers = headerRecord(req.headers, forwardable);
  const gemini: GeminiCaller = deps.gemini.for(
    callContext(c, "gemini", {
      passThrough: true,
      origin: path.includes("/upload/") ? publicOrigin(req) : undefined,
    }),
  );
  const m = httpMethod === "POST" ? MODEL_METHOD_PATH.exec(path) : null;
  if (m) {
    const version = m[1], collection = m[2] as "models" | "tunedModels", id = m[3], method = m[4];
    // Google's answer passes through as it is, unless the operator asked for empty answers to be retried.
    const check = settings.retryEmptyAnswersNative && GENERATE_METHODS.has(method)
      ? geminiAnswerCheck({ emptyAnswers: true, toolFailures: false, signatureFallback: false })
      : undefined;
    const { response } = await gemini.call(
      {
        method,
        model: decodeModel(id),
        body,
        version,
        collection,
      },
      { query, headers, check },
    );
    if (method !== "streamGenerateContent" || !response.body) return response;
    response.headers.set("cache-control", "no-cache");
    response.headers.set("x-accel-buffering", "no");
    // The pipeline hands over a Response with the headers a client should see: return it as is, so
    // the bytes pass through untouched unless the smoother re-chunks an SSE stream.
    if (!deps.decorators.smoothing || query?.get("alt") !== "sse") return response;
    return smoothed(deps, response);
  }
  const named = MODEL_PATH.exec(path)?.[1];
  const model = named ? decodeModel(named) : undefined;
  const stream = httpMethod === "GET" && MEDIA_PATH.test(path);
  const request = { method: httpMethod, path, query, headers, body, model, stream };
  const { response } = await gemini.send(request);
  if (httpMethod === "GET" && MODEL_LIST_PATH.test(path) && c.get("clientToken")?.models?.length) {
    const nextPage = async (pageToken: string) => {
      const q = new URLSearchParams(query);
      q.set("pageToken", pageToken);
      return (await gemini.send({ ...request, query: q })).response;
    };
    return filterModelList(response, nextPage, (model) => gemini.allows(model));
  }
  return response;
}

/** The Gemini-native edge. */
export const geminiEdge: Edge = {
  name: "gemini",
  prefixes: GEMINI_PREFIXES,
  claims: isNativeV1,
  errorResponse: googleErrorResponse,
  routes(deps: EdgeDeps): EdgeApp {
    const app = new Hono<{ Variables: AuthVariables }>();
    app.all("*", (c) => handle(deps, c));
    return app;
  },
};
