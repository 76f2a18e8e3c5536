/**
 * Every upstream body the pipeline reads itself is bounded by IDLE_TIMEOUT_MS, not only answers it
 * passes on: an error answer whose body stops moving (a 429 or 5xx: nothing was generated, so another
 * key serves), and a resource answer the gateway scans for the names of what a key created (a file
 * list, a batch) all end, and the stalled upstream socket is closed.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { geminiAnswer } from "./support/fault_upstream.ts";
import { type FaultHarness, startFaultHarness } from "./support/fault_harness.ts";

const keyOf = (h: FaultHarness, i: number) =>
  h.gw.pool.records().find((r) => r.key === h.up.requests[i].headers.get("x-goog-api-key"))!.id;

for (const status of [429, 500, 503]) {
  Deno.test(`a ${status} whose error body stalls ends at IDLE_TIMEOUT_MS and another key serves (@google/genai)`, async () => {
    const h = await startFaultHarness({ env: { IDLE_TIMEOUT_MS: "300" } });
    try {
      h.up.script({
        kind: "stall_after_headers",
        status,
        contentType: "application/json; charset=UTF-8",
        body: `{\n  "error": {\n    "code": ${status},\n`,
      }, { kind: "answer" });
      const ai = new GoogleGenAI({
        apiKey: h.token,
        httpOptions: { baseUrl: h.url, timeout: 8_000 },
      });
      const answer = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
      assert.equal(answer.text, JSON.parse(geminiAnswer()).candidates[0].content.parts[0].text);
      assert.equal(h.up.requests.length, 2, "the second key served");
      assert.notEqual(keyOf(h, 0), keyOf(h, 1));
      assert.ok(await h.up.waitPeerClosed(1), "the stalled socket was closed");
      const rec = h.records.at(-1)!;
      assert.deepEqual(rec.tries!.map((t) => t.status), [status, 200]);
    } finally {
      await h.close();
    }
  });
}

Deno.test("a resource answer the gateway scans (a file list) that stalls ends with 504 at IDLE_TIMEOUT_MS, socket closed", async () => {
  const h = await startFaultHarness({ env: { IDLE_TIMEOUT_MS: "300" } });
  try {
    h.up.script({
      kind: "stall_after_headers",
      contentType: "application/json; charset=UTF-8",
      body: '{\n  "files": [\n',
    });
    const r = await fetch(h.url + "/v1beta/files", {
      headers: { "x-goog-api-key": h.token },
      signal: AbortSignal.timeout(8_000),
    });
    assert.equal(r.status, 504);
    const error = (await r.json()).error;
    assert.equal(error.status, "DEADLINE_EXCEEDED");
    assert.match(error.message, /IDLE_TIMEOUT_MS/);
    assert.ok(await h.up.waitPeerClosed(1), "the stalled socket was closed");
  } finally {
    await h.close();
  }
});

Deno.test("a file list is still scanned: a file it names stays with the key that listed it", async () => {
  const h = await startFaultHarness();
  try {
    h.up.script({
      kind: "answer",
      contentType: "application/json; charset=UTF-8",
      body: ['{"files": [{"name": "files/qa5-listed",', ' "uri": "x"}]}'],
      delayMs: 20,
    });
    const list = await fetch(h.url + "/v1beta/files", { headers: { "x-goog-api-key": h.token } });
    assert.equal((await list.json()).files[0].name, "files/qa5-listed");
    const owner = keyOf(h, 0);
    for (let i = 0; i < 3; i++) {
      h.up.script({ kind: "answer", body: '{"name": "files/qa5-listed"}' });
      const r = await fetch(h.url + "/v1beta/files/qa5-listed", { headers: { "x-goog-api-key": h.token } });
      assert.equal(r.status, 200);
      await r.body?.cancel();
      assert.equal(keyOf(h, i + 1), owner, "the file's owner key is used");
    }
  } finally {
    await h.close();
  }
});
