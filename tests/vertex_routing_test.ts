/**
 * Which kind of key serves what: requests that need the Gemini API (files, cached contents, batches,
 * Imagen, multimodal embeddings, ...) never reach a Vertex express key, and get a clear 400 when the
 * pool has no Gemini API key; the model list of a Vertex-only pool comes from the maintained table;
 * `KEY_KIND_ROUTING` prefers one kind; a model Vertex express does not list goes to Gemini keys first;
 * Live sessions use Gemini API keys only.
 */
import assert from "node:assert/strict";
import { ApiError, GoogleGenAI } from "./support/sdk/genai.ts";
import OpenAI from "./support/sdk/openai.ts";
import { coolDown } from "./support/harness.ts";
import { startVertexHarness, type VertexHarness } from "./support/vertex_harness.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { EXPRESS_MODELS } from "../lib/vertex/express_models.ts";
import { TINY_PNG_BASE64 } from "./support/mock_gemini_util.ts";
import { connectRaw, liveUrl } from "./support/live_client.ts";

const genai = (h: VertexHarness) => new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
const headers = (h: VertexHarness) => ({ "x-goog-api-key": h.token, "content-type": "application/json" });

function post(h: VertexHarness, path: string, body: unknown): Promise<Response> {
  return fetch(`${h.url}${path}`, { method: "POST", headers: headers(h), body: JSON.stringify(body) });
}

const user = (text: string) => [{ role: "user", parts: [{ text }] }];

/** Requests that only the Gemini API serves, each answering the gateway's response. */
const GEMINI_ONLY: Record<string, (h: VertexHarness) => Promise<Response>> = {
  "a cached content": (h) =>
    post(h, "/v1beta/cachedContents", {
      model: "models/gemini-2.5-flash",
      contents: user("context"),
      ttl: "60s",
    }),
  "a generate call naming a cached content": (h) =>
    post(h, "/v1beta/models/gemini-2.5-flash:generateContent", {
      cachedContent: "cachedContents/abc123",
      contents: user("q"),
    }),
  "a generate call naming a Files API file": (h) =>
    post(h, "/v1beta/models/gemini-2.5-flash:generateContent", {
      contents: [{
        role: "user",
        parts: [{
          fileData: {
            fileUri: "https://generativelanguage.googleapis.com/v1beta/files/abc123",
            mimeType: "text/plain",
          },
        }, { text: "summarize" }],
      }],
    }),
  "a batch": (h) =>
    post(h, "/v1beta/models/gemini-2.5-flash:batchGenerateContent", {
      batch: {
        displayName: "b",
        inputConfig: { requests: { requests: [{ request: { contents: user("x") } }] } },
      },
    }),
  "Imagen's :predict": (h) =>
    post(h, "/v1beta/models/imagen-4.0-generate-001:predict", { instances: [{ prompt: "a cat" }] }),
  "a multimodal embedding": (h) =>
    post(h, "/v1beta/models/gemini-embedding-001:embedContent", {
      content: { parts: [{ inlineData: { mimeType: "image/png", data: TINY_PNG_BASE64 } }] },
    }),
  "the files list": (h) => fetch(`${h.url}/v1beta/files`, { headers: headers(h) }),
};

Deno.test("a mixed pool sends what only the Gemini API serves to its Gemini API key, never to a Vertex key", async () => {
  const h = await startVertexHarness({ gemini: 1, vertex: 2 });
  try {
    const ai = genai(h);
    const file = await ai.files.upload({
      file: new Blob(["some notes"], { type: "text/plain" }),
      config: { mimeType: "text/plain" },
    });
    for (let i = 0; i < 3; i++) {
      const res = await ai.models.generateContent({
        model: "gemini-2.5-flash",
        contents: [{
          role: "user",
          parts: [{ fileData: { fileUri: file.uri!, mimeType: "text/plain" } }, { text: "sum" }],
        }],
      });
      assert.equal(res.text, "echo: sum");
    }
    for (const send of Object.values(GEMINI_ONLY)) await (await send(h)).body?.cancel();
    assert.equal(h.vertex.requests.length, 0, "no Vertex key was used");
    assert.ok(h.mock.requests.length >= 8);
    assert.ok(
      h.mock.requests.every((r) => r.key === h.geminiKeys[0] || r.key === null),
      "all on the Gemini key",
    );
  } finally {
    await h.close();
  }
});

Deno.test("a pool of only Vertex keys answers a clear 400 for what needs a Gemini API key", async () => {
  const h = await startVertexHarness({ vertex: 2 });
  try {
    for (const [name, send] of Object.entries(GEMINI_ONLY)) {
      const r = await send(h);
      const body = await r.json();
      assert.equal(r.status, 400, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.error.status, "FAILED_PRECONDITION", name);
      assert.match(body.error.message, /only Gemini API keys serve.*only Vertex AI express keys/, name);
    }
    const upload = await genai(h).files.upload({ file: new Blob(["x"], { type: "text/plain" }) }).catch((e) =>
      e
    );
    assert.ok(upload instanceof ApiError && upload.status === 400, String(upload));
    assert.match(upload.message, /file uploads, which only Gemini API keys serve/);
    const images = await new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 }).images
      .generate({ model: "imagen-4.0-generate-001", prompt: "a cat" }).catch((e) => e);
    assert.ok(images instanceof OpenAI.BadRequestError, String(images));
    assert.match(images.message, /Imagen \(:predict\), which only Gemini API keys serve/);
    assert.equal(h.vertex.requests.length, 0, "nothing went to Vertex");
    assert.equal(h.mock.requests.length, 0, "nor to the Gemini API");
  } finally {
    await h.close();
  }
});

Deno.test("the model list of a Vertex-only pool comes from the maintained table; a mixed pool lists Google's", async () => {
  const h = await startVertexHarness({ vertex: 1 });
  try {
    const ai = genai(h);
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name!);
    assert.deepEqual(names, EXPRESS_MODELS.map((m) => `models/${m.id}`));
    const flash = await ai.models.get({ model: "gemini-2.5-flash" });
    assert.equal(flash.displayName, "Gemini 2.5 Flash");
    const missing = await ai.models.get({ model: "imagen-4.0-generate-001" }).catch((e) => e);
    assert.ok(missing instanceof ApiError && missing.status === 404, String(missing));
    const openaiIds = (await new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1` }).models.list()).data
      .map((m) => m.id);
    assert.ok(
      openaiIds.includes("gemini-2.5-flash") && openaiIds.includes("gemini-2.5-flash-search"),
      "with variants",
    );
    assert.equal(h.vertex.requests.length, 0, "express mode has no list call: none was made");
  } finally {
    await h.close();
  }
  const mixed = await startVertexHarness({ gemini: 1, vertex: 1 });
  try {
    const names: string[] = [];
    for await (const m of await genai(mixed).models.list()) names.push(m.name!);
    assert.ok(names.includes("models/imagen-4.0-generate-001"), "Google's own list, from the Gemini API key");
    assert.equal(mixed.vertex.requests.length, 0);
  } finally {
    await mixed.close();
  }
});

async function generateOnce(h: VertexHarness): Promise<"gemini" | "vertex"> {
  const before = h.vertex.requests.length;
  const r = await post(h, "/v1beta/models/gemini-2.5-flash:generateContent", { contents: user("hi") });
  assert.equal(r.status, 200, await r.clone().text());
  await r.body?.cancel();
  return h.vertex.requests.length > before ? "vertex" : "gemini";
}

Deno.test("KEY_KIND_ROUTING=vertex_first uses Vertex keys while one can serve, then Gemini API keys", async () => {
  const h = await startVertexHarness({ gemini: 1, vertex: 2, env: { KEY_KIND_ROUTING: "vertex_first" } });
  try {
    for (let i = 0; i < 4; i++) assert.equal(await generateOnce(h), "vertex");
    for (const k of h.vertexKeys) coolDown(h, keyId(`vertex:${k}`), "gemini-2.5-flash", { ms: 60_000 });
    assert.equal(await generateOnce(h), "gemini");
  } finally {
    await h.close();
  }
});

Deno.test("KEY_KIND_ROUTING=gemini_first uses Gemini API keys while one can serve, then Vertex keys", async () => {
  const h = await startVertexHarness({ gemini: 1, vertex: 1, env: { KEY_KIND_ROUTING: "gemini_first" } });
  try {
    for (let i = 0; i < 3; i++) assert.equal(await generateOnce(h), "gemini");
    coolDown(h, keyId(h.geminiKeys[0]), "gemini-2.5-flash", { ms: 60_000 });
    assert.equal(await generateOnce(h), "vertex");
  } finally {
    await h.close();
  }
});

Deno.test("a model Vertex express does not list goes to Gemini API keys first in a mixed pool", async () => {
  const h = await startVertexHarness({ gemini: 1, vertex: 2 });
  try {
    for (let i = 0; i < 4; i++) {
      const r = await post(h, "/v1beta/models/gemini-2.0-flash:generateContent", { contents: user("hi") });
      assert.equal(r.status, 200);
      await r.body?.cancel();
    }
    assert.equal(h.vertex.requests.length, 0);
    const generate = h.mock.requests.filter((r) => r.path.endsWith(":generateContent"));
    assert.deepEqual(generate.map((r) => r.key), Array(4).fill(h.geminiKeys[0]), "all on the Gemini API key");
  } finally {
    await h.close();
  }
});

/** Opens a raw Live session (setup sent); resolves with whether setup completed, or how it closed. */
async function openLive(h: VertexHarness) {
  const raw = await connectRaw(liveUrl(h.url, { query: { key: h.token } }));
  raw.send({ setup: { model: "models/gemini-live-2.5-flash-preview" } });
  const outcome = await Promise.race([
    raw.waitFor((f) => "setupComplete" in f.json, "setupComplete").then(() => "ok" as const),
    raw.closed,
  ]);
  raw.ws.close();
  await raw.closed;
  return outcome;
}

Deno.test("Live sessions are served by Gemini API keys only; a Vertex-only pool closes them with the pool's reason", async () => {
  const mixed = await startVertexHarness({ gemini: 1, vertex: 2 });
  try {
    for (let i = 0; i < 3; i++) assert.equal(await openLive(mixed), "ok");
    assert.deepEqual(mixed.mock.live.connections.map((c) => c.key), Array(3).fill(mixed.geminiKeys[0]));
    assert.equal(mixed.vertex.requests.length, 0);
  } finally {
    await mixed.close();
  }
  const vertexOnly = await startVertexHarness({ vertex: 2 });
  try {
    const outcome = await openLive(vertexOnly);
    assert.notEqual(outcome, "ok");
    assert.equal((outcome as { code: number }).code, 1013);
    assert.match((outcome as { reason: string }).reason, /None of the 2 keys is a Gemini API key/);
    assert.equal(vertexOnly.mock.live.connections.length, 0);
    assert.equal(vertexOnly.vertex.requests.length, 0);
  } finally {
    await vertexOnly.close();
  }
});
