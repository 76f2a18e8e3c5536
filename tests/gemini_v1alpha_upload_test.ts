/**
 * QA: the native edge serves `/v1alpha/...` (and `/gemini/v1alpha/...`), but not the upload and
 * download paths of that version: `@google/genai` with `apiVersion: "v1alpha"` (needed for some preview
 * features) generates through the gateway, then `files.upload` gets the gateway's own 404 "No route for
 * POST /upload/v1alpha/files" (GEMINI_PREFIXES lists /upload and /download only for v1beta and v1).
 * Google serves all three versions under /upload/ and /download/.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { startHarness } from "./support/harness.ts";

Deno.test("@google/genai on v1alpha: generate and a resumable files.upload both work through the gateway", async () => {
  const h = await startHarness();
  try {
    const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url, apiVersion: "v1alpha" } });
    const answer = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" });
    assert.equal(answer.text, "echo: x");
    const file = await ai.files.upload({ file: new Blob(["abc"], { type: "text/plain" }) })
      .catch((e) => ({ error: String(e) }));
    assert.ok(!("error" in file), JSON.stringify(file));
    assert.match(String(file.name), /^files\//);
    assert.ok(h.mock.requests.some((r) => r.path === "/upload/v1alpha/files"));
  } finally {
    await h.close();
  }
});

Deno.test("the v1alpha media download path is routed like v1beta's", async () => {
  const h = await startHarness();
  try {
    for (const prefix of ["/download/v1alpha", "/gemini/download/v1alpha"]) {
      const res = await fetch(`${h.url}${prefix}/files/abc:download?alt=media`, {
        headers: { "x-goog-api-key": h.token },
      });
      const text = await res.text();
      assert.doesNotMatch(text, /No route for/, `${prefix}: ${text}`);
      assert.ok(h.mock.requests.some((r) => r.path === "/download/v1alpha/files/abc:download"), prefix);
    }
  } finally {
    await h.close();
  }
});
