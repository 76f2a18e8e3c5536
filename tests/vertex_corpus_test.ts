/**
 * Vertex AI's token counts from the recorded-response corpus (`upstream: "vertex"`, method
 * `countTokens` in tests/corpus/manifest.json), served at Vertex's URL to a pool of Vertex express
 * keys: the native route answers them in the Gemini API's shape and @google/genai reads them as it reads
 * the Gemini API's. (The corpus's Vertex answers to generate calls run in tests/corpus_test.ts.)
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { geminiShape, loadCorpus } from "./support/corpus.ts";
import { jsonAnswer, startScripted } from "./support/scripted_upstream.ts";

const counts = (await loadCorpus()).filter((r) => r.upstream === "vertex" && r.method === "countTokens");

Deno.test("the corpus has Vertex token counts", () => {
  assert.ok(counts.length >= 2, `${counts.length} recordings`);
});

for (const r of counts) {
  Deno.test(`corpus ${r.file} via Vertex: countTokens in the Gemini API's shape, native and through @google/genai`, async () => {
    const h = await startScripted(() => jsonAnswer(r.text, { status: r.status }), { vertex: true });
    try {
      const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:countTokens`, {
        method: "POST",
        headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
        body: JSON.stringify({
          generateContentRequest: {
            model: "models/gemini-2.5-flash",
            contents: [{ parts: [{ text: "hi" }] }],
          },
        }),
      });
      assert.equal(res.status, 200);
      const recorded = JSON.parse(r.text);
      assert.deepEqual(await res.json(), geminiShape(recorded));
      assert.deepEqual(h.calls.map((c) => [c.upstream, c.method, c.json]), [
        ["vertex", "countTokens", { contents: [{ parts: [{ text: "hi" }], role: "user" }] }],
      ], "Vertex takes the contents at the top level, each with its role");
      const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
      const sdk = await ai.models.countTokens({ model: "gemini-2.5-flash", contents: "hi" });
      assert.equal(sdk.totalTokens, recorded.totalTokens);
    } finally {
      await h.close();
    }
  });
}
