/**
 * A mock of Vertex AI in express mode (`aiplatform.googleapis.com`) for gateway tests. It serves what
 * express mode serves, at its URLs: `POST /{v1|v1beta1}/publishers/google/models/{model}:{method}` for
 * `generateContent`, `streamGenerateContent` (SSE with `alt=sse`, else a JSON array), `countTokens` and
 * `predict` (text embeddings). The key comes in `x-goog-api-key` or `?key=`. Replies are the Gemini
 * mock's (`mock_gemini_generate.ts`, same text, tokens and embeddings for the same request) in Vertex's
 * shape (`mock_vertex_wire.ts`), and Vertex's refusals are reproduced: a turn without a role, Gemini API
 * fields Vertex lacks (`serviceTier`, `generateContentRequest`), Files API URIs and cached contents, a
 * second embedding instance for gemini-embedding-001, unknown models (404 Publisher Model), and the key
 * errors of {@link MockVertexKey}.
 *
 * @module
 */
import { generateReply, validateGenerateRequest } from "./mock_gemini_generate.ts";
import { invalidJsonError, jsonResponse, notFoundError, unknownFieldsError } from "./mock_gemini_http.ts";
import { streamResponse, toStreamChunks } from "./mock_gemini_stream.ts";
import type { RecordedRequest } from "./mock_gemini_types.ts";
import {
  arrayField,
  contentsText,
  embeddingValues,
  field,
  hash32,
  isObject,
  type Json,
  numberField,
  stringField,
  wordCount,
} from "./mock_gemini_util.ts";
import {
  asVertexAnswer,
  vertexInvalid,
  vertexInvalidKey,
  vertexKeysNotSupported,
  vertexModelNotFound,
  vertexNoCredential,
  vertexProjectQuota,
  vertexRpcMethod,
  vertexServiceDisabled,
  vertexSharedQuota,
  vertexSuspended,
} from "./mock_vertex_wire.ts";

/** How the mock treats one key (unknown keys are valid express keys without limits). */
export interface MockVertexKey {
  /** 400 API_KEY_INVALID. */
  invalid?: boolean;
  /** 401 CREDENTIALS_MISSING: a Cloud key not enabled for express mode. */
  notExpress?: boolean;
  /** 403 SERVICE_DISABLED. */
  serviceDisabled?: boolean;
  /** 403 CONSUMER_SUSPENDED, quoting the key in its message as Google does. */
  suspended?: boolean;
  /** Requests per window per model; over it, a 429 in the style of `quotaStyle`. */
  rpm?: number;
  /** `shared` (default): the dynamic shared quota's 429; `minute` / `day`: a project quota's sentence. */
  quotaStyle?: "shared" | "minute" | "day";
  /** Models this key's project cannot use (404 Publisher Model). */
  noAccess?: string[];
  /** `:predict` refused to API keys (401 CREDENTIALS_MISSING naming PredictionService.Predict). */
  predictNeedsOAuth?: boolean;
}

/** The models the mock serves, and how many embedding instances one `:predict` call may carry. */
const MODELS: Readonly<Record<string, { embedInstances?: number }>> = {
  "gemini-2.5-flash": {},
  "gemini-2.5-pro": {},
  "gemini-2.5-flash-lite": {},
  "gemini-3-pro-preview": {},
  "gemini-3-flash-preview": {},
  "gemini-3.1-pro-preview": {},
  "gemini-embedding-001": { embedInstances: 1 },
  "text-embedding-005": { embedInstances: 250 },
};

const ROUTE = /^\/(v1|v1beta1)\/publishers\/google\/models\/([^/:]+):([A-Za-z]+)$/;
/** Top-level fields of Vertex's GenerateContentRequest. */
const GENERATE_FIELDS = new Set([
  "contents",
  "systemInstruction",
  "system_instruction",
  "tools",
  "toolConfig",
  "tool_config",
  "safetySettings",
  "safety_settings",
  "generationConfig",
  "generation_config",
  "labels",
  "cachedContent",
]);
const COUNT_FIELDS = new Set([
  "contents",
  "systemInstruction",
  "tools",
  "generationConfig",
  "instances",
  "model",
]);

/** A running mock Vertex AI on 127.0.0.1 (random port). */
export class MockVertex {
  /** Base URL, e.g. `http://127.0.0.1:PORT` (the gateway's `VERTEX_BASE_URL`). */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  #server: Deno.HttpServer<Deno.NetAddr>;
  #keys = new Map<string, MockVertexKey>();
  #counts = new Map<string, number>();
  #signatures = new Set<string>();
  #closing = new AbortController();

  private constructor(server: Deno.HttpServer<Deno.NetAddr>) {
    this.#server = server;
    this.url = `http://127.0.0.1:${server.addr.port}`;
  }

  /** Starts a mock on a random loopback port. */
  static start(): Promise<MockVertex> {
    const holder: { mock?: MockVertex } = {};
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => holder.mock!.#handle(req),
    );
    holder.mock = new MockVertex(server);
    return Promise.resolve(holder.mock);
  }

  /** Sets how a key behaves. */
  setKey(key: string, behaviour: MockVertexKey): void {
    this.#keys.set(key, behaviour);
  }

  /** Model calls received with `key`. */
  callsFor(key: string): number {
    return this.requests.filter((r) => r.key === key).length;
  }

  /** Forgets recorded requests and quota counts. */
  reset(): void {
    this.requests.length = 0;
    this.#counts.clear();
  }

  /** Stops the server (open streams end). */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.#server.shutdown();
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const bodyText = await req.text();
    const key = req.headers.get("x-goog-api-key") ?? url.searchParams.get("key");
    const m = ROUTE.exec(url.pathname);
    let json: unknown;
    try {
      json = bodyText ? JSON.parse(bodyText) : undefined;
    } catch {
      json = undefined;
    }
    this.requests.push({
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      key,
      keySource: req.headers.has("x-goog-api-key") ? "header" : url.searchParams.has("key") ? "query" : null,
      bodyText,
      ...(json !== undefined ? { json } : {}),
      ...(m ? { model: decodeURIComponent(m[2]) } : {}),
    });
    if (!m || req.method !== "POST") {
      return notFoundError(`The mock Vertex has no route for ${req.method} ${url.pathname}.`);
    }
    const [, version, rawModel, method] = m;
    const model = decodeURIComponent(rawModel);
    const rpc = vertexRpcMethod(version, method);
    if (!key) return vertexNoCredential(rpc);
    const b = this.#keys.get(key) ?? {};
    const project = String(100000000000 + (hash32(key) % 899999999999));
    if (b.invalid) return vertexInvalidKey();
    if (b.notExpress || (method === "predict" && b.predictNeedsOAuth)) return vertexKeysNotSupported(rpc);
    if (b.serviceDisabled) return vertexServiceDisabled(project);
    if (b.suspended) return vertexSuspended({ key, project });
    if (!(model in MODELS) || b.noAccess?.includes(model)) return vertexModelNotFound(project, model);
    if (!isObject(json)) return invalidJsonError("Expected a JSON object as the request body.");
    if (b.rpm !== undefined && method !== "countTokens") {
      const id = `${key}\u0000${model}`;
      const used = this.#counts.get(id) ?? 0;
      if (used >= b.rpm) {
        const style = b.quotaStyle ?? "shared";
        return style === "shared" ? vertexSharedQuota() : vertexProjectQuota(model, style);
      }
      this.#counts.set(id, used + 1);
    }
    switch (method) {
      case "generateContent":
      case "streamGenerateContent":
        return this.#generate({ body: json, model, stream: method === "streamGenerateContent", url });
      case "countTokens":
        return countTokens(json);
      case "predict":
        return predict(json, model);
      default:
        return notFoundError(`Method not found: ${method}.`);
    }
  }

  #generate(o: { body: Json; model: string; stream: boolean; url: URL }): Response {
    const refused = refusedByVertex(o.body);
    if (refused) return refused;
    const invalid = validateGenerateRequest(o.body, { model: o.model, signatures: this.#signatures });
    if (invalid) return invalid;
    const reply = generateReply(o.body, {
      model: o.model,
      signatures: this.#signatures,
      functionCallIds: false,
      cachedTokens: 0,
    });
    const createTime = new Date().toISOString();
    if (!o.stream) return jsonResponse(asVertexAnswer(reply, { createTime, finalUsage: true }));
    const chunks = toStreamChunks(reply);
    return streamResponse({
      chunks: chunks.map((c, i) => asVertexAnswer(c, { createTime, finalUsage: i === chunks.length - 1 })),
      sse: o.url.searchParams.get("alt") === "sse",
      delayMs: 0,
      closing: this.#closing.signal,
      onDone: () => {},
    });
  }
}

/** What Vertex refuses in a GenerateContentRequest that the Gemini API accepts, in Vertex's words. */
function refusedByVertex(body: Json): Response | null {
  const unknown = Object.keys(body).filter((k) => !GENERATE_FIELDS.has(k));
  if (unknown.length) return unknownFieldsError(unknown);
  const contents = arrayField(body, "contents");
  if (contents.some((c) => stringField(c, "role") === undefined)) {
    return vertexInvalid("Please use a valid role: user, model.");
  }
  if (field(body, "cachedContent") !== undefined) {
    return vertexInvalid(`Invalid CachedContent name: ${String(field(body, "cachedContent"))}.`);
  }
  for (const part of contents.flatMap((c) => arrayField(c, "parts"))) {
    const uri = stringField(field(part, "fileData"), "fileUri");
    if (uri && /generativelanguage\.googleapis\.com|^files\//.test(uri)) {
      return vertexInvalid(`Invalid or unsupported file uri: ${uri}`);
    }
  }
  return null;
}

function countTokens(body: Json): Response {
  const unknown = Object.keys(body).filter((k) => !COUNT_FIELDS.has(k));
  if (unknown.length) return unknownFieldsError(unknown);
  const contents = arrayField(body, "contents");
  if (contents.length === 0) return vertexInvalid("contents is not specified");
  const system = field(body, "systemInstruction");
  const totalTokens = wordCount(contentsText(contents)) + wordCount(contentsText(system ? [system] : []));
  return jsonResponse({
    totalTokens,
    totalBillableCharacters: contentsText(contents).length,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: totalTokens }],
  });
}

function predict(body: Json, model: string): Response {
  const limit = MODELS[model].embedInstances;
  if (limit === undefined) return vertexInvalid(`${model} does not support predict.`);
  const instances = arrayField(body, "instances");
  if (instances.length === 0) return vertexInvalid("instances is not specified");
  if (instances.length > limit) {
    return vertexInvalid(
      `Unable to submit request because ${model} supports at most ${limit} instance(s) per request.`,
    );
  }
  const dims = numberField(field(body, "parameters"), "outputDimensionality") ?? 8;
  return jsonResponse({
    predictions: instances.map((i) => {
      const content = stringField(i, "content") ?? "";
      return {
        embeddings: {
          statistics: { truncated: false, token_count: wordCount(content) },
          values: embeddingValues(content, dims),
        },
      };
    }),
    metadata: {
      billableCharacterCount: instances.reduce(
        (n: number, i) => n + (stringField(i, "content") ?? "").length,
        0,
      ),
    },
  });
}

/** A syntactically valid fake Vertex express key (the `AQ.` shape), distinct per `n`. */
export function fakeVertexKey(n: number): string {
  return "AQ.Ab8RN6" + String(n).padStart(44, "v");
}
