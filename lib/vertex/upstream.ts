/**
 * The upstream target of Vertex AI express-mode keys: takes an attempt in Gemini API terms, calls
 * `aiplatform.googleapis.com` the way express mode expects, and answers in Gemini API terms.
 *
 * - URL: `{VERTEX_BASE_URL}/{version}/publishers/google/models/{id}:{method}` (express mode has no
 *   project or location in its paths). A client's `v1` call goes to Vertex `v1`; `v1beta` and
 *   `v1alpha` (the Gemini API's preview surfaces) go to `v1beta1`, Vertex's. Method and body mapping:
 *   `methods.ts`; answer mapping: `answers.ts`.
 * - The key goes in the `x-goog-api-key` header, as Google's own SDKs send it to Vertex in express mode
 *   (@google/genai `NodeAuth.addKeyHeader`, google-genai `_api_client.py`), never in the URL.
 * - Streams are always asked for as SSE (`alt=sse`) and re-written event by event; a client that asked
 *   for Gemini's JSON-array stream gets one.
 * - Express mode has no model list: `GET models` and `GET models/{id}` are answered from
 *   `express_models.ts` without a call.
 * - Errors come back as Vertex sent them (status and `google.rpc.Status` body): the pool classifies
 *   them (`../pool/classify.ts`), the edges format them. A 404 for a model Vertex does not have reads
 *   as the Gemini API's, and no error quotes the key's Google Cloud project.
 *
 * Source: https://cloud.google.com/vertex-ai/generative-ai/docs/start/express-mode/vertex-ai-express-mode-api-reference
 *
 * @module
 */
import { createSseParser } from "../http/sse.ts";
import { parseGoogleError, publisherModelNotFound } from "../gemini/rpc_status.ts";
import type { RequestSplit, UpstreamCall, UpstreamTarget } from "../pipeline/upstream.ts";
import type { ForwardRequest } from "../pipeline/types.ts";
import { asGeminiModel, EXPRESS_MODELS, expressModel } from "./express_models.ts";
import { embedCallGroups, VERTEX_METHODS } from "./methods.ts";

type Json = Record<string, unknown>;

/** Vertex's API version for the Gemini API version a client called. */
export const VERTEX_VERSIONS: Readonly<Record<string, string>> = {
  v1: "v1",
  v1beta: "v1beta1",
  v1alpha: "v1beta1",
};

const VERSION = "(v1|v1beta|v1alpha)";
const MODEL_METHOD = new RegExp(`^/${VERSION}/models/([^/:]+):([A-Za-z]+)$`);
const MODEL_LIST = new RegExp(`^/${VERSION}/models/?$`);
const MODEL_GET = new RegExp(`^/${VERSION}/models/([^/:]+)$`);

/** Options of {@link vertexTarget}. */
export interface VertexTargetOptions {
  /** Where Vertex requests go (`https://aiplatform.googleapis.com`). */
  baseUrl: () => string;
}

/** The express-mode URL of a model method: `{base}/{version}/publishers/google/models/{id}:{method}`. */
export function vertexModelUrl(
  o: { baseUrl: string; version: string; model: string; method: string },
): string {
  const base = o.baseUrl.replace(/\/$/, "");
  return `${base}/${o.version}/publishers/google/models/${encodeURIComponent(o.model)}:${o.method}`;
}

/** The upstream target of Vertex AI express keys. */
export function vertexTarget(o: VertexTargetOptions): UpstreamTarget {
  return { send: (call) => send(call, o.baseUrl()), split };
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A `batchEmbedContents` that Vertex takes in several `:predict` calls, as one batch per call (joined
 * in order); undefined for anything one call serves.
 */
function split(req: ForwardRequest): RequestSplit | undefined {
  const m = req.method === "POST" ? MODEL_METHOD.exec(req.path) : null;
  if (m?.[3] !== "batchEmbedContents") return undefined;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(req.body ?? new Uint8Array()));
  } catch {
    return undefined; // answered by `send` as Google does
  }
  if (!isObj(body) || !Array.isArray(body.requests)) return undefined;
  const groups = embedCallGroups(body.requests, expressModel(decodeURIComponent(m[2])));
  if (groups.length < 2) return undefined;
  const encoder = new TextEncoder();
  return {
    requests: groups.map((requests) => ({
      ...req,
      body: encoder.encode(JSON.stringify({ ...body, requests })),
    })),
    join: (answers) => ({
      embeddings: answers.flatMap((a) => isObj(a) && Array.isArray(a.embeddings) ? a.embeddings : []),
    }),
  };
}

function googleError(code: number, status: string, message: string): Response {
  return Response.json({ error: { code, message, status } }, { status: code });
}

function jsonAnswer(body: unknown, from?: Headers): Response {
  const headers = new Headers(from);
  headers.delete("content-length");
  headers.delete("content-encoding");
  headers.set("content-type", "application/json; charset=UTF-8");
  return new Response(JSON.stringify(body), { status: 200, headers });
}

/** `GET models` and `GET models/{id}` from the table; undefined for other paths. */
function fromTable(path: string): Response | undefined {
  if (MODEL_LIST.test(path)) return jsonAnswer({ models: EXPRESS_MODELS.map(asGeminiModel) });
  const m = MODEL_GET.exec(path);
  if (!m) return undefined;
  const model = expressModel(decodeURIComponent(m[2]));
  if (model) return jsonAnswer(asGeminiModel(model));
  return modelNotFound({ model: decodeURIComponent(m[2]), version: m[1], method: "get" });
}

/** The Gemini API's 404 for a model it does not have (as `GET models/{id}` and model methods answer it). */
function modelNotFound(o: { model: string; version: string; method: string }): Response {
  return googleError(
    404,
    "NOT_FOUND",
    `models/${o.model} is not found for API version ${o.version}, or is not supported for ${o.method}. ` +
      "Call ListModels to see the list of available models and their supported methods.",
  );
}

/** The key's Google Cloud project in a Vertex message (`projects/740989871600/`): not the caller's business. */
const PROJECT_PATH = /projects\/[^/`\s]+\//g;

/**
 * A Vertex error in the Gemini API's words where they differ: Vertex's 404 "Publisher Model
 * `projects/<number>/…/models/{id}` was not found" becomes the Gemini API's 404 for a model it does not
 * list, and the key's project is never quoted (a listed model the project cannot use keeps Vertex's
 * sentence, which the pool reads as no access, with the project left out). Other errors pass as they came.
 */
async function geminiError(
  res: Response,
  asked: { model: string; version: string; method: string },
): Promise<Response> {
  if (res.status !== 404) return res;
  const text = await res.text();
  const body = parseGoogleError(text);
  if (publisherModelNotFound(body) && !expressModel(asked.model)) return modelNotFound(asked);
  return new Response(text.replace(PROJECT_PATH, "projects/…/"), {
    status: res.status,
    headers: res.headers,
  });
}

/** The request's headers (lower-case names) for Vertex: its JSON body and the key; the request's record stays as it is. */
function vertexHeaders(
  from: Readonly<Record<string, string>> | undefined,
  key: string,
): Record<string, string> {
  return { ...from, "content-type": "application/json", "x-goog-api-key": key };
}

async function send(call: UpstreamCall, baseUrl: string): Promise<Response> {
  const req = call.request;
  if (req.method === "GET") {
    const table = fromTable(req.path);
    if (table) return table;
  }
  const m = req.method === "POST" ? MODEL_METHOD.exec(req.path) : null;
  const method = m ? VERTEX_METHODS[m[3]] : undefined;
  if (!m || !method) {
    return googleError(
      400,
      "FAILED_PRECONDITION",
      `Vertex AI express keys cannot serve ${req.method} ${req.path}; only Gemini API keys can.`,
    );
  }
  let body: Json;
  try {
    body = JSON.parse(new TextDecoder().decode(req.body ?? new Uint8Array()) || "{}");
  } catch {
    return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  }
  const model = decodeURIComponent(m[2]);
  const url = vertexModelUrl({ baseUrl, version: VERTEX_VERSIONS[m[1]], model, method: method.vertex });
  const asked = { model, version: m[1], method: m[3] };
  const res = await fetch(m[3] === "streamGenerateContent" ? `${url}?alt=sse` : url, {
    method: "POST",
    headers: vertexHeaders(req.headers, call.key),
    body: JSON.stringify(method.request(body)),
    signal: call.signal,
    client: call.client,
  });
  if (!res.ok) return await geminiError(res, asked);
  if (m[3] === "streamGenerateContent") {
    return res.body ? geminiStream(res, { sse: req.query?.get("alt") === "sse" }) : res;
  }
  try {
    return jsonAnswer(method.answer(await res.json() as Json), res.headers);
  } catch (e) {
    return googleError(502, "UNAVAILABLE", `Vertex AI sent an answer the gateway cannot read: ${e}`);
  }
}

/**
 * A Vertex SSE answer re-written in the Gemini API's shape, event by event: as Google's SSE
 * (`data: {...}\r\n\r\n`) or, for a client that did not ask for SSE, as Gemini's JSON-array stream.
 * Lines that are not SSE (a bare error written into the stream) pass through at the end.
 */
function geminiStream(res: Response, o: { sse: boolean }): Response {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let events = 0;
  let stray = "";
  let out: TransformStreamDefaultController<Uint8Array>;
  const emit = (data: string) => {
    const framed = o.sse ? `data: ${data}\r\n\r\n` : `${events === 0 ? "[" : "\r\n,\r\n"}${data}`;
    events++;
    out.enqueue(encoder.encode(framed));
  };
  const parser = createSseParser({
    onEvent: (e) => {
      if (!e.data.trim()) return;
      let mapped = e.data;
      try {
        mapped = JSON.stringify(VERTEX_METHODS.streamGenerateContent.answer(JSON.parse(e.data)));
      } catch {
        // not JSON: passed on as it came; the reader reports it
      }
      emit(mapped);
    },
    onStray: (line) => void (stray += line + "\n"),
  });
  const body = res.body!.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      start(controller) {
        out = controller;
      },
      transform(chunk) {
        parser.feed(decoder.decode(chunk, { stream: true }));
      },
      flush() {
        parser.feed(decoder.decode() + "\n\n");
        const rest = stray.trim();
        if (o.sse) {
          if (rest) out.enqueue(encoder.encode(rest + "\n"));
          return;
        }
        if (rest) emit(rest);
        out.enqueue(encoder.encode(events === 0 ? "[]" : "]"));
      },
    }),
  );
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  headers.set("content-type", o.sse ? "text/event-stream" : "application/json; charset=UTF-8");
  return new Response(body, { status: res.status, headers });
}
