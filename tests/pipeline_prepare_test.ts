/**
 * The one prepare step, for every method that names a model: aliases reach native embeddings and
 * predict (Google's SDK), a body the features leave alone goes upstream byte for byte (an alias only
 * renames the path), and a countTokens body gets the real model inside.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { startHarness } from "./support/harness.ts";
import { CallPreparer } from "../lib/pipeline/prepare.ts";
import { defaultFeatureSettings } from "../lib/features/settings.ts";

const ALIASES = JSON.stringify({
  "text-embedding-3-small": "gemini-embedding-001",
  "my-imagen": "imagen-4.0-generate-001",
  fast: "gemini-2.5-flash",
});

Deno.test("aliases reach native embeddings (the Google SDK) and predict", async () => {
  const h = await startHarness({ env: { ALIASES } });
  try {
    const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
    const emb = await ai.models.embedContent({ model: "text-embedding-3-small", contents: ["a", "b"] });
    assert.equal(emb.embeddings?.length, 2);
    const call = h.mock.requests.at(-1)!;
    assert.match(call.path, /\/models\/gemini-embedding-001:(batchEmbedContents|embedContent)$/);

    const img = await fetch(`${h.url}/v1beta/models/my-imagen:predict`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ instances: [{ prompt: "a cat" }], parameters: { sampleCount: 1 } }),
    });
    assert.equal(img.status, 200, await img.clone().text());
    assert.ok((await img.json()).predictions?.length);
    assert.match(h.mock.requests.at(-1)!.path, /\/models\/imagen-4\.0-generate-001:predict$/);
  } finally {
    await h.close();
  }
});

Deno.test("an alias on a native generate renames the path and sends the client's bytes unchanged", async () => {
  const h = await startHarness({ env: { ALIASES } });
  try {
    // Unusual but valid JSON formatting: a re-serialized body would lose it.
    const raw = '{ "contents" : [ {"role":"user", "parts":[{"text":"hi"}]} ] }';
    const r = await fetch(`${h.url}/v1beta/models/fast:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: raw,
    });
    assert.equal(r.status, 200, await r.text());
    const call = h.mock.requests.at(-1)!;
    assert.equal(call.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert.equal(call.bodyText, raw);
  } finally {
    await h.close();
  }
});

Deno.test("prepare: countTokens gets the real model inside; a non-JSON native body is refused with 400", () => {
  const settings = defaultFeatureSettings({ aliases: { fast: "gemini-2.5-flash" } });
  const p = new CallPreparer({ settings: () => settings, knownModels: () => new Set(["gemini-2.5-flash"]) });
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const body = { generateContentRequest: { model: "models/fast", contents: [] } };
  const out = p.prepare({ method: "countTokens", model: "fast", body: enc(body) });
  assert.equal(out.path, "/v1beta/models/gemini-2.5-flash:countTokens");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.body!)), {
    generateContentRequest: { model: "models/gemini-2.5-flash", contents: [] },
  });
  assert.throws(
    () => p.prepare({ method: "countTokens", model: "fast", body: new TextEncoder().encode("{oops") }),
    /Invalid JSON payload/,
  );
  assert.throws(
    () => p.prepare({ method: "generateContent", model: "../x", body: null }),
    /Invalid model name/,
  );
});
