/**
 * The in-process harness shared by `bench:inproc` and `bench:profile`: the gateway's `app.fetch` with
 * the upstream `fetch` replaced by canned Gemini answers (unary, and SSE streams of a chosen number of
 * chunks), so what is measured is the gateway's own work (no sockets, no other process).
 *
 * @module
 */

/** The stubbed upstream's base URL (never reached: `fetch` to it is answered in process). */
export const UPSTREAM = "http://127.0.0.1:9";
/** The client token the harness's gateway accepts. */
export const TOKEN = "bench-client-token";

/** The canned unary answer (Google's shape, about 400 bytes). */
export const ANSWER = JSON.stringify({
  candidates: [{
    content: {
      role: "model",
      parts: [{ text: "Hello from the benchmark upstream. This is a short answer." }],
    },
    finishReason: "STOP",
    index: 0,
  }],
  usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 12, totalTokenCount: 20 },
  modelVersion: "gemini-2.5-flash",
  responseId: "bench-response",
});
const MODELS = JSON.stringify({
  models: [{ name: "models/gemini-2.5-flash" }, { name: "models/gemini-2.5-pro" }],
});

/** One SSE event of a streamed answer (Google's framing: `data: {...}\r\n\r\n`), the last with usage. */
export function streamEvent(i: number, last: boolean): string {
  const chunk = {
    candidates: [{
      content: { role: "model", parts: [{ text: `word${i} ` }] },
      index: 0,
      ...(last ? { finishReason: "STOP" } : {}),
    }],
    ...(last
      ? { usageMetadata: { promptTokenCount: 8, candidatesTokenCount: i + 1, totalTokenCount: i + 9 } }
      : {}),
    modelVersion: "gemini-2.5-flash",
    responseId: "bench-stream",
  };
  return `data: ${JSON.stringify(chunk)}\r\n\r\n`;
}

const ANSWER_BYTES = new TextEncoder().encode(ANSWER);
const MODELS_BYTES = new TextEncoder().encode(MODELS);

/** Number of events in a canned streamed answer (`BENCH_CHUNKS`, default 2000). */
export const STREAM_CHUNKS = Number(Deno.env.get("BENCH_CHUNKS") ?? 2000);
const encoder = new TextEncoder();
const STREAM_EVENTS = Array.from(
  { length: STREAM_CHUNKS },
  (_, i) => encoder.encode(streamEvent(i, i === STREAM_CHUNKS - 1)),
);

/**
 * A canned SSE body as `fetch` hands one over (a byte stream): one chunk per event, as a socket
 * delivers a slow stream. Byte streams take over what they enqueue, so each chunk is a copy.
 */
function streamBody(): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (i < STREAM_EVENTS.length) return controller.enqueue(STREAM_EVENTS[i++].slice());
      // A read waiting with its own buffer (BYOB) is answered only by `respond(0)` after `close()`.
      controller.close();
      controller.byobRequest?.respond(0);
    },
  });
}

/** A canned unary body as `fetch` hands one over (a byte stream). */
function wholeBody(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "bytes",
    start(controller) {
      controller.enqueue(bytes.slice());
      controller.close();
    },
  });
}

/** Replaces `fetch` to {@link UPSTREAM} with canned answers (model list, unary, SSE). */
export function stubUpstream(): void {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(UPSTREAM)) return realFetch(input, init);
    if (url.includes(":streamGenerateContent")) {
      return Promise.resolve(
        new Response(streamBody(), { headers: { "content-type": "text/event-stream" } }),
      );
    }
    const body = url.includes("/models?") || url.endsWith("/models") ? MODELS_BYTES : ANSWER_BYTES;
    return Promise.resolve(
      new Response(wholeBody(body), { headers: { "content-type": "application/json; charset=UTF-8" } }),
    );
  };
}

/** The part of a gateway the harness uses. */
export interface BenchGateway {
  app: { fetch(req: Request): Response | Promise<Response> };
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Options for {@link startGateway}. */
export interface StartOptions {
  /** The gateway module (default this checkout's `gateway.ts`). */
  module?: string;
  /** Number of keys in the pool (default 3). */
  keys?: number;
  /** Extra environment (settings). */
  env?: Record<string, string>;
}

/** A gateway in process against the stubbed upstream (call {@link stubUpstream} first). */
export async function startGateway(o: StartOptions = {}): Promise<BenchGateway> {
  const { createGateway } = await import(o.module ?? new URL("../gateway.ts", import.meta.url).href);
  const keys = Array.from({ length: o.keys ?? 3 }, (_, i) => "AIza" + String(i).padStart(35, "b"));
  const gw: BenchGateway = await createGateway({
    env: {
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: keys.join(","),
      ALLOWED_TOKENS: TOKEN,
      ADMIN_TOKEN: "bench-admin-token-123",
      UPSTREAM_BASE_URL: UPSTREAM,
      LOGS_ENABLED: Deno.env.get("BENCH_LOGS") ?? "true",
      ...o.env,
    },
  });
  await gw.ready;
  return gw;
}

const nativeBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Say hello." }] }] });
const chat = (stream: boolean) =>
  JSON.stringify({
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "Say hello." }],
    ...(stream ? { stream: true } : {}),
  });
const anthropicBody = JSON.stringify({
  model: "gemini-2.5-flash",
  max_tokens: 256,
  messages: [{ role: "user", content: "Say hello." }],
});
const responsesBody = JSON.stringify({ model: "gemini-2.5-flash", input: "Say hello." });
const post = (path: string, headers: Record<string, string>, body: string) => () =>
  new Request("http://gw.local" + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

/** Requests per route, as clients send them. */
export const ROUTES: Record<string, () => Request> = {
  native: post("/v1beta/models/gemini-2.5-flash:generateContent", { "x-goog-api-key": TOKEN }, nativeBody),
  openai: post("/v1/chat/completions", { authorization: `Bearer ${TOKEN}` }, chat(false)),
  anthropic: post(
    "/v1/messages",
    { "x-api-key": TOKEN, "anthropic-version": "2023-06-01" },
    anthropicBody,
  ),
  responses: post("/v1/responses", { authorization: `Bearer ${TOKEN}` }, responsesBody),
  "native stream": post(
    "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    { "x-goog-api-key": TOKEN },
    nativeBody,
  ),
  "openai stream": post("/v1/chat/completions", { authorization: `Bearer ${TOKEN}` }, chat(true)),
};

/** Sends one request through the gateway and reads the answer whole. */
export async function one(gw: BenchGateway, make: () => Request): Promise<void> {
  const res: Response = await gw.app.fetch(make());
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

/** Options for {@link measure}. */
export interface MeasureOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Requests measured (after `warmup` unmeasured ones). */
  requests: number;
  warmup?: number;
}

/** Wall-clock µs per request, `concurrency` at a time (the process does nothing else meanwhile). */
export async function measure(gw: BenchGateway, make: () => Request, o: MeasureOptions): Promise<number> {
  for (let i = 0; i < (o.warmup ?? Math.min(2000, o.requests)); i++) await one(gw, make);
  const t0 = performance.now();
  for (let i = 0; i < o.requests; i += o.concurrency) {
    await Promise.all(Array.from({ length: Math.min(o.concurrency, o.requests - i) }, () => one(gw, make)));
  }
  return (performance.now() - t0) * 1000 / o.requests;
}
