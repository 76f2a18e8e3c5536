/**
 * The Gemini-native edge: everything Google serves under `/v1beta/...` (and `/v1`, `/v1alpha`, the
 * resumable upload path, and the same under `/gemini/`), forwarded byte for byte through the
 * shared pipeline. Errors come back in Google's envelope.
 *
 * @module
 */
import { Hono } from "hono";
import type { AuthVariables } from "../lib/http/client_auth.ts";
import { googleErrorResponse } from "../lib/http/errors.ts";
import { parseJson, readBody } from "../lib/http/body.ts";
import type { Forward, ForwardRequest } from "../lib/pipeline/types.ts";
import { modelAllowed } from "../lib/tokens/token_limits.ts";

/** A hook that may rewrite a generate request (model suffixes, added tools); returns undefined to leave it. */
export type NativeTransform = (input: { model: string; body: unknown; method: string }) =>
  | { model: string; body: unknown }
  | undefined;

/** What the native edge needs. */
export interface GeminiRouteDeps {
  forward: Forward;
  maxBodyBytes: () => number;
  /** Whether the request for `model` needs the transform (so the body must be parsed). */
  needsTransform?: (model: string, body: Uint8Array | null) => boolean;
  transform?: NativeTransform;
  /** Wraps an SSE stream on its way to the client (smoother, keep-alive). */
  wrapStream?: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
}

const FORWARD_REQUEST_HEADERS =
  /^(content-type|accept|x-goog-upload-.*|x-goog-api-client|x-server-timeout|user-agent)$/i;
const MODEL_PATH = /^\/(?:upload\/)?v1(?:beta|alpha)?\/(?:models|tunedModels)\/([^/:]+)(?::([A-Za-z]+))?/;

function pickHeaders(from: Headers, allow: RegExp): Headers {
  const out = new Headers();
  from.forEach((v, k) => allow.test(k) && out.set(k, v));
  return out;
}

/** The public origin of the gateway as the client sees it (honours X-Forwarded-*). */
export function publicOrigin(req: Request): string {
  const url = new URL(req.url);
  const proto = req.headers.get("x-forwarded-proto")?.split(",")[0].trim() ?? url.protocol.replace(":", "");
  const host = req.headers.get("x-forwarded-host")?.split(",")[0].trim() ?? url.host;
  return `${proto}://${host}`;
}

/** Path prefixes the native edge serves; mount {@link createGeminiRoutes} at each. */
export const GEMINI_PREFIXES = [
  "/v1beta",
  "/v1alpha",
  "/upload/v1beta",
  "/upload/v1",
  "/gemini/v1beta",
  "/gemini/v1",
  "/gemini/v1alpha",
  "/gemini/upload/v1beta",
  "/gemini/upload/v1",
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
      if (allowed(String(m.name ?? "").replace(/^models\//, ""))) kept.push(m);
    }
    if (!page.nextPageToken || n >= MAX_LIST_PAGES) break;
    const res = await nextPage(page.nextPageToken);
    if (!res.ok) return res;
    page = await res.json() as ModelListPage;
  }
  return Response.json({ models: kept }, { status: first.status, headers: first.headers });
}

const NATIVE_V1 = /^\/v1\/(?:[^?]*:[A-Za-z]+$|files\b|cachedContents\b|batches\b|tunedModels\b|operations\b)/;

/**
 * `/v1/...` serves both dialects: the Google SDK (which now defaults to `v1`) and the OpenAI SDK.
 * A request is Gemini-native when it names a Gemini method (`models/x:generateContent`) or resource,
 * or carries its credential Google's way (`x-goog-api-key` or `?key=`); otherwise it is OpenAI's.
 */
export function isNativeV1(req: Request): boolean {
  const url = new URL(req.url);
  return NATIVE_V1.test(url.pathname) || req.headers.has("x-goog-api-key") || url.searchParams.has("key");
}

/** Builds the Gemini-native routes (mount at each of {@link GEMINI_PREFIXES}). */
export function createGeminiRoutes(deps: GeminiRouteDeps): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.onError((err) => googleErrorResponse(err));

  const handler = async (c: import("hono").Context<{ Variables: AuthVariables }>) => {
    const req = c.req.raw;
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/gemini(?=\/)/, "");
    const query = url.search ? new URLSearchParams(url.search) : undefined;
    query?.delete("key");
    const m = MODEL_PATH.exec(path);
    let model = m?.[1] ? decodeURIComponent(m[1]) : undefined;
    const method = m?.[2];
    let body = req.method === "GET" || req.method === "HEAD"
      ? null
      : await readBody(req, deps.maxBodyBytes());
    let upstreamPath = path;
    if (
      model &&
      (method === "generateContent" || method === "streamGenerateContent" || method === "countTokens")
    ) {
      if (deps.transform && deps.needsTransform?.(model, body)) {
        const out = deps.transform({ model, body: parseJson(body), method });
        if (out) {
          upstreamPath = path.replace(`/${m![1]}:`, `/${encodeURIComponent(out.model)}:`);
          model = out.model;
          body = new TextEncoder().encode(JSON.stringify(out.body));
        }
      }
    }
    const request: ForwardRequest = {
      method: req.method,
      path: upstreamPath,
      query,
      headers: pickHeaders(req.headers, FORWARD_REQUEST_HEADERS),
      body,
      model,
      stream: method === "streamGenerateContent",
      signal: req.signal,
      route: "gemini",
      tokenName: c.get("tokenName"),
      origin: path.includes("/upload/") ? publicOrigin(req) : undefined,
    };
    const { response } = await deps.forward(request);
    // The pipeline hands over a Response it built with the headers a client should see: return it as
    // is, so a unary body stays plain bytes (Deno's fast path) instead of a re-wrapped stream.
    const allowed = c.get("clientToken")?.models;
    if (req.method === "GET" && MODEL_LIST_PATH.test(path) && allowed?.length) {
      const nextPage = async (pageToken: string) => {
        const q = new URLSearchParams(query);
        q.set("pageToken", pageToken);
        const { response } = await deps.forward({ ...request, query: q });
        return response;
      };
      return filterModelList(response, nextPage, (model) => modelAllowed(allowed, model));
    }
    const headers = response.headers;
    if (method !== "streamGenerateContent" || !response.body) return response;
    headers.set("cache-control", "no-cache");
    headers.set("x-accel-buffering", "no");
    if (!deps.wrapStream || query?.get("alt") !== "sse") return response;
    return new Response(deps.wrapStream(response.body), { status: response.status, headers });
  };

  app.all("*", handler);
  return app;
}
