/**
 * The other OpenAI endpoints through the SDK: embeddings (float and base64), image generation (Imagen and
 * a Gemini image model), the model list, and the malformed-JSON error envelope.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";

function sdk(h: Harness): OpenAI {
  return new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1", maxRetries: 0 });
}

function decodeFloats(b64: string): number[] {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return [...new Float32Array(bytes.buffer)];
}

Deno.test("embeddings: float and base64 (SDK default) carry the same vectors", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const input = ["first text", "second text"];
    const floats = await client.embeddings.create({
      model: "gemini-embedding-001",
      input,
      encoding_format: "float",
    });
    assert.equal(floats.data.length, 2);
    assert.equal(floats.object, "list");
    assert.ok(floats.data.every((d, i) => d.index === i && d.embedding.length > 0));
    assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding);
    // Without encoding_format the SDK asks for base64 and decodes it into numbers itself.
    const viaSdk = await client.embeddings.create({ model: "gemini-embedding-001", input });
    const raw = await fetch(`${h.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gemini-embedding-001", input, encoding_format: "base64" }),
    });
    const b64 = await raw.json() as { data: { embedding: string }[] };
    assert.equal(typeof b64.data[0].embedding, "string");
    for (const i of [0, 1]) {
      const f32 = floats.data[i].embedding.map((v) => Math.fround(v));
      assert.deepEqual(decodeFloats(b64.data[i].embedding), f32);
      assert.deepEqual(viaSdk.data[i].embedding, f32);
    }
    assert.ok(h.mock.requests.some((r) => r.path.endsWith("gemini-embedding-001:batchEmbedContents")));
  } finally {
    await h.close();
  }
});

Deno.test("images: Imagen via :predict and a Gemini image model via :generateContent", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const imagen = await client.images.generate({ model: "imagen-4.0-generate-001", prompt: "a cat", n: 2 });
    assert.equal(imagen.data!.length, 2);
    for (const d of imagen.data!) assert.ok(atob(d.b64_json!).startsWith("\x89PNG"), "PNG bytes");
    const predict = h.mock.requests.at(-1)!;
    assert.equal(predict.path, "/v1beta/models/imagen-4.0-generate-001:predict");
    assert.equal((predict.json as { parameters: { sampleCount: number } }).parameters.sampleCount, 2);

    const gem = await client.images.generate({ model: "gemini-2.5-flash-image", prompt: "a dog" });
    assert.equal(gem.data!.length, 1);
    assert.ok(atob(gem.data![0].b64_json!).startsWith("\x89PNG"));
    const gen = h.mock.requests.at(-1)!;
    assert.equal(gen.path, "/v1beta/models/gemini-2.5-flash-image:generateContent");
    const gc = (gen.json as { generationConfig: { responseModalities: string[] } }).generationConfig;
    assert.ok(gc.responseModalities.includes("IMAGE"));
  } finally {
    await h.close();
  }
});

Deno.test("models: ids without models/, variants listed, retrieve one", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const ids: string[] = [];
    for await (const m of client.models.list()) {
      assert.equal(m.object, "model");
      ids.push(m.id);
    }
    assert.ok(ids.includes("gemini-2.5-flash"), ids.join(","));
    assert.ok(ids.every((id) => !id.startsWith("models/")), ids.join(","));
    assert.ok(ids.includes("gemini-2.5-flash-search"), "search variant listed: " + ids.join(","));
    const one = await client.models.retrieve("gemini-2.5-pro");
    assert.equal(one.id, "gemini-2.5-pro");
  } finally {
    await h.close();
  }
});

Deno.test("malformed JSON gives a 400 in OpenAI's error envelope", async () => {
  const h = await startHarness();
  try {
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
      body: '{"model": "gemini-2.5-flash", "messages": [',
    });
    assert.equal(res.status, 400);
    const body = await res.json() as { error: { message: string; type: string; code: string } };
    assert.equal(body.error.type, "invalid_request_error");
    assert.equal(body.error.code, "invalid_json");
    assert.match(body.error.message, /not valid JSON/);
    assert.equal(h.mock.requests.length, 0, "nothing went upstream");
  } finally {
    await h.close();
  }
});

Deno.test("chat works before any model listing has succeeded (a gateway started with no keys)", async () => {
  const h = await startHarness({ keys: [] });
  try {
    assert.equal(h.gw.catalog.known().size, 0, "no listing yet");
    const added = await h.gw.keys.add(fakeKey(7));
    assert.equal(added.added.length, 1);
    const r = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "Hello" }],
    });
    assert.equal(r.choices[0].message.role, "assistant");
    assert.ok(r.choices[0].message.content);
  } finally {
    await h.close();
  }
});
