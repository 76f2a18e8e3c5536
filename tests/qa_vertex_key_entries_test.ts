/**
 * QA (issue 18): the `vertex:` prefix in GEMINI_API_KEYS and the admin panel's paste box. A space after
 * the prefix (`vertex: AQ.…`, as people write `key: value`) must not turn the user's Vertex key into a
 * Gemini API key, and no entry may put a key without a secret into the pool.
 */
import assert from "node:assert/strict";
import { createGateway } from "../gateway.ts";
import { adminApi } from "./support/admin_api.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { fakeVertexKey } from "./support/mock_vertex.ts";

Deno.test("qa: GEMINI_API_KEYS='vertex: AQ.…' adds a Vertex key (or stops the start), never a Gemini key plus an empty Vertex key", async () => {
  let gw;
  try {
    gw = await createGateway({
      env: {
        KV_PATH: ":memory:",
        GEMINI_API_KEYS: `${fakeKey(1)}, vertex: ${fakeVertexKey(1)}`,
        ADMIN_TOKEN: "qa-admin-token-123456",
        SYNC_INTERVAL_MS: "0",
      },
    });
  } catch (e) {
    // Refusing the entry at start, with a message naming the variable, is a fine answer too.
    assert.match(String(e), /GEMINI_API_KEYS/);
    return;
  }
  try {
    const records = gw.pool.records().map((r) => ({ kind: r.kind ?? "gemini", key: r.key }));
    assert.deepEqual(records.filter((r) => r.key === ""), [], "a key without a secret is in the pool");
    assert.deepEqual(
      records.filter((r) => r.key === fakeVertexKey(1)),
      [{ kind: "vertex", key: fakeVertexKey(1) }],
      `the Vertex key was added as: ${JSON.stringify(records)}`,
    );
  } finally {
    await gw.close();
  }
});

Deno.test("qa: a pasted 'vertex: AQ.…' is added as a Vertex key or rejected, never added as a Gemini API key", async () => {
  const h = await startHarness();
  try {
    const r = await adminApi(h)("POST", "/keys", { text: `vertex: ${fakeVertexKey(2)}` });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const added = h.gw.pool.records().filter((k) => k.key === fakeVertexKey(2));
    assert.ok(
      added.every((k) => k.kind === "vertex"),
      `pasted as a Vertex key, added as ${JSON.stringify(added.map((k) => k.kind ?? "gemini"))}; ` +
        `answer: ${JSON.stringify(r.json)}`,
    );
  } finally {
    await h.close();
  }
});
