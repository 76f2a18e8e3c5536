/**
 * QA: a native model path with a malformed percent-encoding (`%E0%A4%A`, a truncated UTF-8 escape) is
 * the client's mistake and must get Google's 400 INVALID_ARGUMENT, not the gateway's 500 "Internal
 * gateway error" (routes/gemini.ts calls `decodeURIComponent` on the model id without a guard, and
 * the URIError escapes to the edge's error handler with a stack on the console).
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";

const BODY = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });

for (
  const [label, method, path] of [
    ["POST models/{id}:generateContent", "POST", "/v1beta/models/gemini%E0%A4%A:generateContent"],
    ["GET models/{id}", "GET", "/v1beta/models/gemini%E0%A4%A"],
    ["GET models/{id}/operations/{op}", "GET", "/v1beta/models/veo%E0%A4%A/operations/abc"],
  ] as const
) {
  Deno.test(`a malformed percent-encoding in the model (${label}) gets Google's 400, not a 500`, async () => {
    const h = await startHarness();
    try {
      const res = await fetch(`${h.url}${path}`, {
        method,
        headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
        body: method === "POST" ? BODY : undefined,
      });
      const json = await res.json();
      assert.equal(res.status, 400, JSON.stringify(json));
      assert.equal(json.error.status, "INVALID_ARGUMENT");
      assert.equal(h.mock.requests.length, 0, "nothing goes upstream");
    } finally {
      await h.close();
    }
  });
}
