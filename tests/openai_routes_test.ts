import assert from "node:assert/strict";
import { Hono, type MiddlewareHandler } from "hono";
import { GatewayError } from "../lib/http/errors.ts";
import { base64ToBytes } from "../lib/util/base64.ts";
import type { ForwardRequest, ForwardResult } from "../lib/pipeline/types.ts";
import type { AuthVariables } from "../lib/http/client_auth.ts";
import { createOpenAIEdge, type OpenAIEdgeOptions } from "../routes/openai.ts";
import { edgeApp } from "../routes/mod.ts";
import { edgeDeps, type EdgeDepsOptions } from "./support/edge.ts";

type Handler = (req: ForwardRequest) => Response | Promise<Response>;

/** The edge as main mounts it (a stand-in auth sets the token name), at /v1, fake forward recording calls. */
function setup(handler: Handler, extra: EdgeDepsOptions & { options?: OpenAIEdgeOptions } = {}) {
  const calls: Array<ForwardRequest & { json?: Record<string, unknown> }> = [];
  const forward = async (req: ForwardRequest): Promise<ForwardResult> => {
    const json = req.body ? JSON.parse(new TextDecoder().decode(req.body)) : undefined;
    calls.push({ ...req, json });
    return { response: await handler(req), keyId: "k1", attempts: 1 };
  };
  const edge = createOpenAIEdge(extra.options);
  const auth: MiddlewareHandler<{ Variables: AuthVariables }> = async (c, next) => {
    c.set("tokenName", "tester");
    await next();
  };
  const app = new Hono();
  app.onError(() => new Response("parent handler must not see edge errors", { status: 599 }));
  app.route("/v1", edgeApp(edge, edgeDeps(forward, extra), [auth]));
  const post = (path: string, body: unknown) =>
    app.request(`/v1${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  return { app, calls, post };
}

/** A plain text answer (an empty one would be tried again on another key). */
const TEXT_ANSWER = {
  candidates: [{ content: { role: "model", parts: [{ text: "ok" }] }, finishReason: "STOP" }],
};

const json = (v: unknown) =>
  new Response(JSON.stringify(v), { headers: { "content-type": "application/json" } });

Deno.test("POST /chat/completions maps request and response", async () => {
  const { calls, post } = setup(() =>
    json({
      candidates: [{ content: { role: "model", parts: [{ text: "Hi!" }] }, finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 1, totalTokenCount: 3 },
    })
  );
  const res = await post("/chat/completions", {
    model: "models/gemini-2.5-flash",
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }],
    temperature: 0.5,
    presence_penalty: 0.3,
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.object, "chat.completion");
  assert.equal(body.model, "models/gemini-2.5-flash");
  assert.equal(body.choices[0].message.content, "Hi!");
  assert.equal(body.choices[0].finish_reason, "stop");
  assert.equal(body.usage.total_tokens, 3);
  assert.equal(calls.length, 1);
  const call = calls[0];
  assert.equal(call.path, "/v1beta/models/gemini-2.5-flash:generateContent");
  assert.equal(call.method, "POST");
  assert.equal(call.model, "gemini-2.5-flash");
  assert.equal(call.route, "openai");
  assert.equal(call.tokenName, "tester");
  assert.ok(call.signal);
  assert.deepEqual(call.json, {
    contents: [{ role: "user", parts: [{ text: "Hello" }] }],
    systemInstruction: { role: "user", parts: [{ text: "Be brief." }] },
    generationConfig: { temperature: 0.5 },
  });
});

Deno.test("POST /chat/completions streams OpenAI chunks", async () => {
  const sseText = [
    { candidates: [{ content: { role: "model", parts: [{ text: "Hel" }] } }] },
    { candidates: [{ content: { role: "model", parts: [{ text: "lo" }] }, finishReason: "STOP" }] },
  ].map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join("");
  const { calls, post } = setup(() =>
    new Response(sseText, { headers: { "content-type": "text/event-stream" } })
  );
  const res = await post("/chat/completions", {
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "Hello" }],
    stream: true,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  assert.equal(res.headers.get("cache-control"), "no-cache");
  const text = await res.text();
  const events = text.split("\n\n").filter(Boolean).map((f) => f.replace(/^data: /, ""));
  assert.equal(events.at(-1), "[DONE]");
  const content = events.slice(0, -1).map((e) => JSON.parse(e).choices[0].delta.content ?? "").join("");
  assert.equal(content, "Hello");
  assert.equal(calls[0].path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent");
  assert.equal(calls[0].query?.get("alt"), "sse");
  assert.equal(calls[0].stream, true);
});

Deno.test("upstream 429 becomes an OpenAI rate-limit error with Retry-After", async () => {
  const { post } = setup(() => {
    throw new GatewayError(429, "All keys are rate limited.", {
      headers: { "Retry-After": "30" },
      upstream: {
        error: {
          code: 429,
          message: "You exceeded your current quota.",
          status: "RESOURCE_EXHAUSTED",
          details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "30s" }],
        },
      },
    });
  });
  const res = await post("/chat/completions", {
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "x" }],
  });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "30");
  assert.deepEqual(await res.json(), {
    error: {
      message: "You exceeded your current quota.",
      type: "requests",
      param: null,
      code: "rate_limit_exceeded",
    },
  });
});

Deno.test("malformed JSON and invalid fields are OpenAI 400s", async () => {
  const { calls, post } = setup(() => json({}));
  const bad = await post("/chat/completions", "{not json");
  assert.equal(bad.status, 400);
  const badBody = await bad.json();
  assert.equal(badBody.error.type, "invalid_request_error");
  assert.match(badBody.error.message, /not valid JSON/);
  const invalid = await post("/chat/completions", {
    model: "m",
    messages: [{ role: "robot", content: "x" }],
  });
  assert.equal(invalid.status, 400);
  assert.equal((await invalid.json()).error.param, "messages[0].role");
  const escape = await post("/chat/completions", {
    model: "../files/x",
    messages: [{ role: "user", content: "x" }],
  });
  assert.equal(escape.status, 400);
  assert.equal((await escape.json()).error.param, "model");
  assert.equal(calls.length, 0);
});

Deno.test("GET /models follows pages, caches, adds extras; GET /models/:id", async () => {
  const pages: Record<string, unknown> = {
    "": { models: [{ name: "models/gemini-2.5-flash" }], nextPageToken: "p2" },
    p2: { models: [{ name: "models/gemini-2.5-pro" }, { name: "models/gemini-2.0-hidden" }] },
  };
  const { app, calls } = setup((req) => json(pages[req.query?.get("pageToken") ?? ""]), {
    settings: {
      listVariants: false,
      aliases: { "my-alias": "gemini-2.5-flash-search" },
      hiddenModels: ["gemini-2.0-hidden"],
    },
  });
  const list = await (await app.request("/v1/models")).json();
  assert.deepEqual(list.data.map((m: { id: string }) => m.id), [
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "my-alias",
  ]);
  assert.deepEqual(list.data[0], { id: "gemini-2.5-flash", object: "model", created: 0, owned_by: "google" });
  assert.equal(calls.length, 2);
  assert.equal(calls[0].method, "GET");
  assert.equal(calls[0].path, "/v1beta/models");
  const one = await app.request("/v1/models/gemini-2.5-pro");
  assert.equal((await one.json()).id, "gemini-2.5-pro");
  assert.equal(calls.length, 2, "second listing is served from the cache");
  for (const id of ["gpt-4", "gemini-2.0-hidden"]) {
    const missing = await app.request(`/v1/models/${id}`);
    assert.equal(missing.status, 404);
  }
  const missing = await app.request("/v1/models/gpt-4");
  assert.equal((await missing.json()).error.code, "model_not_found");
});

Deno.test("POST /embeddings batches by 100 in order, base64 and float", async () => {
  const { calls, post } = setup((req) => {
    const body = JSON.parse(new TextDecoder().decode(req.body!));
    return json({
      embeddings: body.requests.map((r: { content: { parts: [{ text: string }] } }) => ({
        values: [Number(r.content.parts[0].text), 0.5],
      })),
    });
  });
  const input = Array.from({ length: 150 }, (_, i) => String(i));
  const res = await post("/embeddings", {
    model: "gemini-embedding-001",
    input,
    dimensions: 2,
    encoding_format: "base64",
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(calls.length, 2);
  assert.deepEqual(calls.map((c) => (c.json!.requests as unknown[]).length), [100, 50]);
  assert.equal(calls[0].path, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
  const first = (calls[0].json!.requests as Array<Record<string, unknown>>)[0];
  assert.deepEqual(first, {
    model: "models/gemini-embedding-001",
    content: { parts: [{ text: "0" }] },
    outputDimensionality: 2,
  });
  assert.equal(body.data.length, 150);
  const decoded = body.data.map((d: { embedding: string; index: number }) => {
    const v = new DataView(base64ToBytes(d.embedding).buffer);
    return [d.index, v.getFloat32(0, true)];
  });
  // Cut to `dimensions`, the vector comes back L2-normalised.
  assert.deepEqual(decoded[149], [149, Math.fround(149 / Math.hypot(149, 0.5))]);
  assert.deepEqual(body.usage, { prompt_tokens: 0, total_tokens: 0 });
  const floats =
    await (await post("/embeddings", { model: "gemini-embedding-001", input: "7", encoding_format: "float" }))
      .json();
  assert.deepEqual(floats.data[0].embedding, [7, 0.5]);
  const tokens = await post("/embeddings", { model: "gemini-embedding-001", input: [1, 2, 3] });
  assert.equal(tokens.status, 400);
  assert.equal((await tokens.json()).error.param, "input");
  const before = calls.length;
  const empty = await post("/embeddings", { model: "gemini-embedding-001", input: [] });
  assert.equal(empty.status, 400, "an empty input is refused, as OpenAI does");
  const emptyError = (await empty.json()).error;
  assert.equal(emptyError.param, "input");
  assert.match(emptyError.message, /non-empty array/);
  assert.equal(calls.length, before, "nothing went upstream");
});

Deno.test("POST /images/generations with Imagen and Gemini image models", async () => {
  const { calls, post } = setup((req) =>
    req.path.endsWith(":predict")
      ? json({
        predictions: [{ bytesBase64Encoded: "SU1H", mimeType: "image/png" }, {
          contentType: "Positive Prompt",
        }],
      })
      : json({
        candidates: [{
          content: { parts: [{ text: "here" }, { inlineData: { mimeType: "image/png", data: "R0VN" } }] },
        }],
      })
  );
  const imagen = await (await post("/images/generations", {
    model: "imagen-4.0-generate-001",
    prompt: "a cat",
    size: "1792x1024",
  })).json();
  assert.deepEqual(imagen.data, [{ b64_json: "SU1H" }]);
  assert.deepEqual(calls[0].json, {
    instances: [{ prompt: "a cat" }],
    parameters: { sampleCount: 1, aspectRatio: "16:9" },
  });
  const gem = await (await post("/images/generations", {
    model: "gemini-2.5-flash-image",
    prompt: "a dog",
    n: 2,
    response_format: "url",
  })).json();
  assert.deepEqual(gem.data, [{ url: "data:image/png;base64,R0VN" }, { url: "data:image/png;base64,R0VN" }]);
  assert.equal(calls.length, 3);
  assert.equal(calls[1].path, "/v1beta/models/gemini-2.5-flash-image:generateContent");
  assert.deepEqual((calls[1].json!.generationConfig as Record<string, unknown>).responseModalities, [
    "TEXT",
    "IMAGE",
  ]);
});

Deno.test("the prepare step applies features to the mapped body before it is sent (-search)", async () => {
  const { calls, post } = setup(() => json({ candidates: [] }));
  const res = await post("/chat/completions", {
    model: "gemini-2.5-flash-search",
    messages: [{ role: "user", content: "x" }],
  });
  assert.equal(res.status, 200);
  assert.equal(calls[0].path, "/v1beta/models/gemini-2.5-flash:generateContent");
  assert.deepEqual(calls[0].json!.tools, [{ googleSearch: {} }]);
});

Deno.test("the edge places the stream decorators around the translation; search links follow the setting", async () => {
  const event = (v: unknown) => new TextEncoder().encode(`data: ${JSON.stringify(v)}\r\n\r\n`);
  const long = "Answer in several smoothed pieces";
  // The upstream pauses between its two events: long enough for keep-alives, ended by a finish reason.
  const sse = () =>
    new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(event({ candidates: [{ content: { parts: [{ text: long }] } }] }));
        await new Promise((r) => setTimeout(r, 150));
        controller.enqueue(event({
          candidates: [{
            content: { parts: [{ text: "." }] },
            finishReason: "STOP",
            groundingMetadata: { groundingChunks: [{ web: { uri: "https://s.example", title: "S" } }] },
          }],
        }));
        controller.close();
      },
    });
  const { post } = setup(() => new Response(sse(), { headers: { "content-type": "text/event-stream" } }), {
    settings: {
      searchLinks: true,
      smoother: true,
      smootherChunkChars: 8,
      smootherMaxDelayMs: 0,
      keepAliveMs: 20,
    },
  });
  const res = await post("/chat/completions", {
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "q" }],
    stream: true,
  });
  const text = await res.text();
  const lines = text.split("\n").filter(Boolean);
  const contents = lines.filter((l) => l.startsWith("data: {"))
    .map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content).filter((c) => c);
  // Smoothed before the translation: the long text arrives as several chunks of at most 8 characters.
  assert.ok(contents.indexOf(".") > 3, text);
  assert.equal(contents.slice(0, contents.indexOf(".")).join(""), long);
  assert.ok(contents.slice(0, contents.indexOf(".")).every((c) => c.length <= 8), text);
  // The keep-alive after the translation: whole comment lines between the chunks, during the pause.
  const firstComment = lines.indexOf(": keep-alive");
  assert.ok(firstComment > 0 && firstComment < lines.findIndex((l) => l.includes('"content":"."')), text);
  assert.ok(lines.every((l) => l === ": keep-alive" || l.startsWith("data: ")), text);
  assert.ok(text.includes(JSON.stringify("\n\nSources:\n1. [S](https://s.example)")), text);
  assert.ok(text.endsWith("data: [DONE]\n\n"), text);
});

Deno.test("oversized bodies get a 413 in OpenAI's envelope", async () => {
  const { post } = setup(() => json({}), { settings: { maxBodyBytes: 1024 } });
  const res = await post("/chat/completions", {
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "x".repeat(2000) }],
  });
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error.type, "invalid_request_error");
});

Deno.test("http image URLs are downloaded by the default fetcher, with a size limit", async () => {
  const png = new Uint8Array(64).fill(7);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/big.png"
        ? new Response(new Uint8Array(5000), { headers: { "content-type": "image/png" } })
        : new Response(png, { headers: { "content-type": "image/png; charset=binary" } }),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const { calls, post } = setup(() => json(TEXT_ANSWER), {
      settings: { allowPrivateImageHosts: true },
      options: { maxImageBytes: 1000, imageTimeoutMs: 5000 },
    });
    const ask = (path: string) =>
      post("/chat/completions", {
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: base + path } }] }],
      });
    const ok = await ask("/small.png");
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const parts = (calls[0].json!.contents as Array<
      { parts: Array<{ inlineData: { mimeType: string; data: string } }> }
    >)[0]
      .parts;
    assert.equal(parts[0].inlineData.mimeType, "image/png");
    assert.deepEqual(base64ToBytes(parts[0].inlineData.data), png);
    const big = await ask("/big.png");
    assert.equal(big.status, 400);
    const err = (await big.json()).error;
    assert.equal(err.param, "messages[0].content[0]");
    assert.match(err.message, /larger than 1000 bytes/);
    assert.equal(calls.length, 1);
    const strict = setup(() => json(TEXT_ANSWER));
    const blocked = await strict.post("/chat/completions", {
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: base + "/small.png" } }] }],
    });
    assert.equal(blocked.status, 400);
    // The issue asks for one neutral error (no hint which hosts or ports exist): no longer "private".
    assert.match((await blocked.json()).error.message, /must be public http\(s\) addresses/);
    assert.equal(strict.calls.length, 0);
  } finally {
    await server.shutdown();
  }
});

const ALIASES: Record<string, string> = {
  "text-embedding-3-small": "gemini-embedding-001",
  smart: "gemini-3-pro-preview",
};

Deno.test("aliases reach embeddings and pick the chat thinking family", async () => {
  const { calls, post } = setup(
    (req) => json(req.path.endsWith(":batchEmbedContents") ? { embeddings: [{ values: [1] }] } : TEXT_ANSWER),
    {
      settings: { aliases: ALIASES },
    },
  );
  await post("/chat/completions", {
    model: "smart",
    messages: [{ role: "user", content: "x" }],
    reasoning_effort: "low",
  });
  const chatCall = calls.shift()!;
  assert.equal(chatCall.path, "/v1beta/models/gemini-3-pro-preview:generateContent");
  assert.deepEqual((chatCall.json!.generationConfig as Record<string, unknown>).thinkingConfig, {
    thinkingLevel: "LOW",
    includeThoughts: true,
  });
  const res = await post("/embeddings", {
    model: "text-embedding-3-small",
    input: "a",
    encoding_format: "float",
  });
  assert.equal(res.status, 200);
  assert.equal(calls[0].path, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
});
