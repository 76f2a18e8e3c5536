/**
 * The OpenAI edge driven by the official `openai` SDK through the gateway to the mock Gemini upstream:
 * plain and streamed chat, JSON schema output, images in the prompt, and the shared pipeline.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";

/** An SDK client for the harness's gateway. */
function sdk(h: Harness, prefix = "/v1"): OpenAI {
  return new OpenAI({ apiKey: h.token, baseURL: h.url + prefix, maxRetries: 0 });
}

type Json = Record<string, unknown>;

function lastGenerate(h: Harness): { path: string; json: Json } {
  const r = h.mock.requests.filter((x) => /:(stream)?[gG]enerateContent$/.test(x.path)).at(-1)!;
  return { path: r.path, json: r.json as Json };
}

Deno.test("chat: plain completion through /v1 and /openai/v1, recorded with route openai", async () => {
  const h = await startHarness();
  try {
    for (const prefix of ["/v1", "/openai/v1"]) {
      const res = await sdk(h, prefix).chat.completions.create({
        model: "gemini-2.5-flash",
        messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hello there" }],
      });
      assert.equal(res.object, "chat.completion");
      assert.equal(res.choices[0].message.role, "assistant");
      assert.equal(res.choices[0].message.content, "echo: hello there");
      assert.equal(res.choices[0].finish_reason, "stop");
      assert.ok(res.usage!.prompt_tokens > 0 && res.usage!.completion_tokens > 0);
      const up = lastGenerate(h);
      assert.equal(up.path, "/v1beta/models/gemini-2.5-flash:generateContent");
      assert.deepEqual((up.json.systemInstruction as Json).parts, [{ text: "be brief" }]);
    }
    const recs = h.records.filter((r) => r.route === "openai");
    assert.ok(recs.length >= 2, JSON.stringify(h.records));
    assert.equal(recs.at(-1)!.model, "gemini-2.5-flash");
  } finally {
    await h.close();
  }
});

Deno.test("chat stream: deltas, role first, finish_reason, include_usage chunk, [DONE] ends the SDK loop", async () => {
  const h = await startHarness();
  try {
    const stream = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "one two three four five" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    const texts = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? ""));
    assert.ok(texts.filter((t) => t).length >= 3, `expected several deltas: ${JSON.stringify(texts)}`);
    assert.equal(texts.join(""), "echo: one two three four five");
    assert.equal(chunks[0].choices[0].delta.role, "assistant");
    assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)!.choices[0].finish_reason, "stop");
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage!.total_tokens > 0, JSON.stringify(last));
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), "usage is null on the other chunks");
    assert.equal(h.mock.requests.at(-1)!.query.get("alt"), "sse");
    assert.ok(new Set(chunks.map((c) => c.id)).size === 1, "one id for the whole stream");
  } finally {
    await h.close();
  }
});

Deno.test("chat stream without include_usage has no usage chunk", async () => {
  const h = await startHarness();
  try {
    const stream = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "a b c" }],
      stream: true,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    assert.ok(chunks.every((c) => c.choices.length === 1 && c.usage === undefined));
  } finally {
    await h.close();
  }
});

Deno.test("chat: response_format json_schema gives parseable JSON and a schema upstream", async () => {
  const h = await startHarness();
  try {
    const res = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "a city" }],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "city",
          strict: true,
          schema: {
            type: "object",
            properties: { name: { type: "string" }, people: { type: "number" }, big: { type: "boolean" } },
            required: ["name", "people", "big"],
            additionalProperties: false,
          },
        },
      },
    });
    assert.deepEqual(JSON.parse(res.choices[0].message.content!), { name: "x", people: 1, big: true });
    const gc = lastGenerate(h).json.generationConfig as Json;
    assert.equal(gc.responseMimeType, "application/json");
    assert.ok(gc.responseJsonSchema ?? gc.responseSchema, JSON.stringify(gc));
  } finally {
    await h.close();
  }
});

Deno.test("chat: a data-URL image goes upstream as inlineData", async () => {
  const h = await startHarness();
  try {
    const png =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    const res = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "what is this" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
        ],
      }],
    });
    assert.equal(res.choices[0].message.content, "echo: what is this");
    const parts = ((lastGenerate(h).json.contents as Json[])[0].parts) as Json[];
    assert.deepEqual(parts[1], { inlineData: { mimeType: "image/png", data: png } });
  } finally {
    await h.close();
  }
});

Deno.test("pipeline: a 429 on one key is retried on another key; records name the openai route", async () => {
  const h = await startHarness({ keys: [fakeKey(1), fakeKey(2)] });
  try {
    h.mock.setKey(fakeKey(1), { rpm: 1 });
    h.mock.setKey(fakeKey(2), { rpm: 100 });
    // Pre-consume key 1's only request this minute, directly at the mock.
    const pre = await fetch(`${h.mock.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": fakeKey(1), "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    });
    assert.equal(pre.status, 200);
    await pre.body?.cancel();
    h.mock.requests.length = 0;
    const client = sdk(h);
    for (let i = 0; i < 3; i++) {
      const res = await client.chat.completions.create({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: `q${i}` }],
      });
      assert.equal(res.choices[0].message.content, `echo: q${i}`);
    }
    const stats = h.mock.stats();
    assert.equal(stats.byKey[fakeKey(2)].ok, 3, JSON.stringify(stats));
    assert.equal(stats.byKey[fakeKey(1)]?.rateLimited, 1, "key 1 got one 429, then was benched");
    const recs = h.records.filter((r) => r.route === "openai" && r.method === "POST");
    assert.equal(recs.length, 3, JSON.stringify(h.records));
    assert.ok(recs.every((r) => r.status === 200));
    assert.equal(recs.filter((r) => r.attempts === 2).length, 1, "exactly one request was retried");
  } finally {
    await h.close();
  }
});

Deno.test("pipeline: requests rotate over the keys", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    for (let i = 0; i < 6; i++) {
      await client.chat.completions.create({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: "r" }],
      });
    }
    const used = new Set(h.mock.requests.map((r) => r.key));
    assert.equal(used.size, 3, `all three keys should be used: ${[...used].length}`);
  } finally {
    await h.close();
  }
});
