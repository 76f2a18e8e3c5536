/**
 * QA (issue 18: embeddings on Vertex keys "with the same cooldown, disable and retry logic"; README: a
 * batch of N inputs to gemini-embedding-001 "is N calls"). One client batch becomes N Vertex calls on
 * one key, but the pool counts and paces it as one request: a batch larger than what one key may send
 * in a minute fails on every key in turn (each attempt starts over and spends that key's quota), even
 * when the pool as a whole has the capacity, and a key's entered per-minute limit is overrun.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { adminApi } from "./support/admin_api.ts";
import { startVertexHarness } from "./support/vertex_harness.ts";

const inputs = (n: number) => Array.from({ length: n }, (_, i) => `passage number ${i}`);

Deno.test("qa: an embeddings batch the pool has capacity for is served, not failed key after key", async () => {
  const h = await startVertexHarness({ gemini: 0, vertex: 2 });
  try {
    // Each key's project may make 5 gemini-embedding-001 calls a minute: 10 for the pool.
    for (const k of h.vertexKeys) h.vertex.setKey(k, { rpm: 5, quotaStyle: "minute" });
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    let error: unknown;
    let served = 0;
    try {
      served =
        (await client.embeddings.create({ model: "gemini-embedding-001", input: inputs(8) })).data.length;
    } catch (e) {
      error = e;
    }
    const calls = h.vertex.requests.length;
    assert.equal(
      error,
      undefined,
      `8 inputs with capacity for 10 calls failed after ${calls} Vertex calls: ${error}`,
    );
    assert.equal(served, 8);
  } finally {
    await h.close();
  }
});

Deno.test("qa: a key's entered per-minute limit holds for fanned-out embedding batches", async () => {
  const h = await startVertexHarness({ gemini: 0, vertex: 1 });
  try {
    const id = keyId(`vertex:${h.vertexKeys[0]}`);
    const set = await adminApi(h)("POST", "/keys/update", { ids: [id], limits: { "*": { rpm: 5 } } });
    assert.equal(set.status, 200);
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    for (let i = 0; i < 2; i++) {
      await client.embeddings.create({ model: "gemini-embedding-001", input: inputs(6) }).catch(() => {});
    }
    assert.ok(
      h.vertex.requests.length <= 5,
      `a key limited to 5 requests a minute was sent ${h.vertex.requests.length} within the minute`,
    );
  } finally {
    await h.close();
  }
});
