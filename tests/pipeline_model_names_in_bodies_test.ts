/**
 * QA: the model names the gateway accepts (aliases, feature suffixes) must work wherever a Google
 * call names a model, not only in the `models/{model}:method` path:
 * - `cachedContents.create` names the model in its body (`model: "models/..."`): an alias or a
 *   suffixed name goes to Google unresolved and comes back 404 "models/<alias> is not found", although
 *   `generateContent` with the same name works (and Google requires the cache's model to be the
 *   request's real model);
 * - `:batchGenerateContent` with a suffixed model resolves the path's model but drops what the suffix
 *   asked for: the inline requests go without the thinking config `-nothinking` stands for (a batch
 *   from a file cannot get it: a clear 400 instead of a batch without it);
 * - the inline requests of a batch (`batchGenerateContent`, `asyncBatchEmbedContent`, snake_case
 *   fields too) that name the model name the real one.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { startHarness } from "./support/harness.ts";

const ALIASES = JSON.stringify({ "house-model": "gemini-2.5-flash" });

for (const model of ["house-model", "gemini-2.5-flash-nothinking"]) {
  Deno.test(`caches.create with model "${model}" creates the cache on the real model, as generateContent resolves it`, async () => {
    const h = await startHarness({ env: { ALIASES } });
    try {
      const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
      const answer = await ai.models.generateContent({ model, contents: "hi" });
      assert.equal(answer.text, "echo: hi", "the name works for generateContent");
      const cache = await ai.caches.create({
        model,
        config: { contents: [{ role: "user", parts: [{ text: "long context ".repeat(50) }] }], ttl: "600s" },
      }).catch((e) => ({ error: String(e) }));
      assert.ok(!("error" in cache), JSON.stringify(cache));
      const up = h.mock.requests.at(-1)!;
      assert.equal((up.json as { model?: string }).model, "models/gemini-2.5-flash");
    } finally {
      await h.close();
    }
  });
}

Deno.test("batches.create with a -nothinking model: each inline request carries the thinking config the suffix asks for", async () => {
  const h = await startHarness();
  try {
    const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
    await ai.batches.create({
      model: "gemini-2.5-flash-nothinking",
      src: [{ contents: [{ role: "user", parts: [{ text: "hi" }] }] }],
    });
    const up = h.mock.requests.at(-1)!;
    assert.match(up.path, /\/models\/gemini-2\.5-flash:batchGenerateContent$/);
    type Batch = {
      batch: { inputConfig: { requests: { requests: Array<{ request: Record<string, unknown> }> } } };
    };
    const inline = (up.json as Batch).batch.inputConfig.requests.requests;
    assert.equal(inline.length, 1);
    assert.deepEqual(
      (inline[0].request.generationConfig as { thinkingConfig?: unknown } | undefined)?.thinkingConfig,
      { thinkingBudget: 0, includeThoughts: false },
      JSON.stringify(inline[0].request),
    );
  } finally {
    await h.close();
  }
});

Deno.test("asyncBatchEmbedContent with an alias: the path and each inline request name the real model", async () => {
  const h = await startHarness({
    env: { ALIASES: JSON.stringify({ "house-embed": "gemini-embedding-001" }) },
  });
  try {
    const res = await fetch(`${h.url}/v1beta/models/house-embed:asyncBatchEmbedContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({
        batch: {
          display_name: "embeds",
          input_config: {
            requests: {
              requests: [
                { request: { model: "models/house-embed", content: { parts: [{ text: "a" }] } } },
                { request: { content: { parts: [{ text: "b" }] } }, metadata: { key: "b" } },
              ],
            },
          },
        },
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.match((await res.json()).name, /^batches\//);
    const up = h.mock.requests.at(-1)!;
    assert.equal(up.path, "/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent");
    type Batch = {
      batch: { input_config: { requests: { requests: Array<{ request: { model?: string } }> } } };
    };
    const inline = (up.json as Batch).batch.input_config.requests.requests;
    assert.deepEqual(inline.map((r) => r.request.model), ["models/gemini-embedding-001", undefined]);
  } finally {
    await h.close();
  }
});

Deno.test("batches.create with a suffix on requests in a file: a 400 says the suffix cannot apply, nothing goes upstream", async () => {
  const h = await startHarness();
  try {
    const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash-search:batchGenerateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ batch: { input_config: { file_name: "files/abc" } } }),
    });
    const json = await res.json();
    assert.equal(res.status, 400, JSON.stringify(json));
    assert.match(json.error.message, /-search cannot apply to a batch whose requests are in files\/abc/);
    assert.equal(json.error.details[0].fieldViolations[0].field, "batch.inputConfig.fileName");
    assert.equal(h.mock.requests.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("batchGenerateContent with an alias and inline requests naming it: each names the real model", async () => {
  const h = await startHarness({ env: { ALIASES } });
  try {
    const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
    await ai.batches.create({
      model: "house-model",
      src: [{ model: "house-model", contents: [{ role: "user", parts: [{ text: "hi" }] }] }],
    });
    const up = h.mock.requests.at(-1)!;
    assert.match(up.path, /\/models\/gemini-2\.5-flash:batchGenerateContent$/);
    type Batch = {
      batch: { inputConfig: { requests: { requests: Array<{ request: { model?: string } }> } } };
    };
    const inline = (up.json as Batch).batch.inputConfig.requests.requests;
    assert.equal(inline[0].request.model, "models/gemini-2.5-flash");
  } finally {
    await h.close();
  }
});
