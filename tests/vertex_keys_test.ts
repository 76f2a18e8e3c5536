/**
 * A key's kind from end to end: `GEMINI_API_KEYS` and the admin panel's paste box take Vertex AI
 * express keys as `vertex:<key>`, the keys API and the Keys page show each key's kind, verification
 * and re-checks call each key's own service with calls that spend no generation quota, and Vertex keys
 * (the `AQ.` shape too) are masked wherever text is shown.
 */
import assert from "node:assert/strict";
import { h as el } from "preact";
import { renderToString } from "preact-render-to-string";
import { extractKeys, keyId, newKeyRecord, readKeyEntry } from "../lib/pool/key_record.ts";
import { redactKeys } from "../lib/secrets/redact.ts";
import { KeyAdmin } from "../lib/pool/key_admin.ts";
import { KeyPool } from "../lib/pool/key_pool.ts";
import { Rechecker } from "../lib/pool/recheck.ts";
import { KeyTable } from "../lib/admin/ui/key_table.tsx";
import type { ApiKey } from "../lib/admin/api_types.ts";
import { adminApi } from "./support/admin_api.ts";
import { fakeKey } from "./support/harness.ts";
import { fakeVertexKey } from "./support/mock_vertex.ts";
import { startVertexHarness } from "./support/vertex_harness.ts";

const AQ = "AQ.Ab8RN6" + "x".repeat(44);

Deno.test("key entries: vertex:<key> is a Vertex express key, with its own id; pasted text keeps the kind", () => {
  assert.deepEqual(readKeyEntry(`vertex:${AQ}`), { key: AQ, kind: "vertex" });
  assert.deepEqual(readKeyEntry(` VERTEX:${AQ} `), { key: AQ, kind: "vertex" });
  assert.deepEqual(readKeyEntry(fakeKey(1)), { key: fakeKey(1), kind: "gemini" });
  const asVertex = newKeyRecord(`vertex:${fakeKey(1)}`);
  const asGemini = newKeyRecord(fakeKey(1));
  assert.equal(asVertex.kind, "vertex");
  assert.equal(asGemini.kind, "gemini");
  assert.notEqual(asVertex.id, asGemini.id, "one secret registered as both kinds is two keys");
  assert.equal(asGemini.id, keyId(fakeKey(1)), "a Gemini key keeps the id it always had");
  const r = extractKeys(`${fakeKey(1)}\nvertex:${AQ}, ${AQ} vertex:AQ.short VERTEX:${AQ}`);
  assert.deepEqual(r.keys, [fakeKey(1), `vertex:${AQ}`, AQ]);
  assert.deepEqual(r.rejected.map((x) => x.reason), [
    "not AQ. followed by 30 to 120 characters of [0-9A-Za-z_-]",
    "duplicate in the pasted text",
  ]);
});

Deno.test("Cloud-shaped keys (AQ.…) are masked in any text, like AIza keys", () => {
  assert.equal(
    redactKeys(`Consumer 'api_key:${AQ}' has been suspended; also ${fakeKey(2)}.`),
    `Consumer 'api_key:AQ.A…xxxx' has been suspended; also AIza…xxx2.`,
  );
});

Deno.test("GEMINI_API_KEYS takes vertex:<key>; the keys API takes pasted Vertex keys and shows every key's kind", async () => {
  const h = await startVertexHarness({ gemini: 1, vertex: 1 });
  const admin = adminApi(h);
  try {
    const kinds = h.gw.pool.records().map((r) => [r.key, r.kind]);
    assert.deepEqual(kinds, [[h.geminiKeys[0], "gemini"], [h.vertexKeys[0], "vertex"]]);
    const added = await admin("POST", "/keys", { text: `vertex:${fakeVertexKey(7)}\n${fakeVertexKey(8)}` });
    assert.equal(added.status, 200);
    assert.equal(added.json.added.length, 2);
    const list = await admin("GET", "/keys?limit=10&sort=added");
    const byMask = Object.fromEntries(list.json.keys.map((k: ApiKey) => [k.id, k.kind]));
    assert.equal(byMask[keyId(`vertex:${fakeVertexKey(7)}`)], "vertex");
    assert.equal(
      byMask[keyId(fakeVertexKey(8))],
      "gemini",
      "without the prefix, an AQ. key is a Gemini API key",
    );
    assert.ok(!JSON.stringify(list.json).includes(fakeVertexKey(7)), "no full key in the listing");
    const search = await admin("GET", "/keys?search=vertex");
    assert.deepEqual(
      search.json.keys.map((k: ApiKey) => k.id).sort(),
      [keyId(`vertex:${h.vertexKeys[0]}`), keyId(`vertex:${fakeVertexKey(7)}`)].sort(),
      "searching 'vertex' finds the Vertex keys",
    );
  } finally {
    await h.close();
  }
});

Deno.test("the Keys page's table shows each key's kind", () => {
  const usageToday = { requests: 0, ok: 0, rateLimited: 0, errors: 0, inputTokens: 0, outputTokens: 0 };
  const row = (id: string, kind?: "vertex" | "gemini"): ApiKey => ({
    id,
    masked: "AQ.A…xxxx",
    kind,
    state: "active",
    cooldowns: [],
    addedAt: 1,
    usageToday,
  });
  const html = renderToString(el(KeyTable, {
    keys: [row("v1", "vertex"), row("g1", "gemini"), row("old")],
    now: 0,
    selected: new Set<string>(),
    busy: new Set<string>(),
    onToggle: () => {},
    onToggleAll: () => {},
    onAction: () => {},
  }));
  const badges = [...html.matchAll(/data-kind="(\w+)"[^>]*>([^<]+)</g)].map((m) => [m[1], m[2].trim()]);
  assert.deepEqual(badges, [["vertex", "Vertex AI express"], ["gemini", "Gemini API"], [
    "gemini",
    "Gemini API",
  ]]);
});

Deno.test("verify: each key is checked by its own service without generation quota (Vertex: countTokens)", async () => {
  const h = await startVertexHarness({ gemini: 1, vertex: 2 });
  const admin = adminApi(h);
  try {
    const [good, bad] = h.vertexKeys;
    h.vertex.setKey(bad, { invalid: true });
    const r = await admin("POST", "/keys/verify", { all: true });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.checked, 3);
    assert.equal(r.json.valid, 2);
    assert.deepEqual(r.json.disabled.map((d: { id: string }) => d.id), [keyId(`vertex:${bad}`)]);
    assert.match(r.json.disabled[0].reason, /API_KEY_INVALID/);
    const vertexCalls = h.vertex.requests.map((q) => [q.method, q.path, q.key, q.keySource]);
    assert.deepEqual(
      vertexCalls.sort(),
      [
        ["POST", "/v1/publishers/google/models/gemini-2.5-flash:countTokens", bad, "header"],
        ["POST", "/v1/publishers/google/models/gemini-2.5-flash:countTokens", good, "header"],
      ].sort(),
    );
    const geminiCalls = h.mock.requests.map((q) => [q.method, q.path, q.key]);
    assert.deepEqual(geminiCalls, [["GET", "/v1beta/models/gemini-2.5-flash", h.geminiKeys[0]]]);
  } finally {
    await h.close();
  }
});

Deno.test("re-check: a disabled Vertex key and a Vertex 'no access' pair are re-checked on Vertex", async () => {
  const h = await startVertexHarness({ vertex: 2 });
  try {
    const [a, b] = h.vertexKeys;
    const [ida, idb] = [keyId(`vertex:${a}`), keyId(`vertex:${b}`)];
    h.gw.pool.setEnabled(ida, false, "API_KEY_INVALID: API key not valid.");
    h.gw.pool.report(idb, "gemini-2.5-pro", { kind: "no_access", reason: "404" });
    const baseUrl = (kind: string) => kind === "vertex" ? h.vertex.url : h.mock.url;
    const admin = new KeyAdmin({ pool: h.gw.pool, store: h.gw.store, usage: h.gw.usage, baseUrl });
    const round = await new Rechecker({
      kv: h.gw.kv,
      pool: h.gw.pool,
      admin,
      intervalMs: () => 60_000,
      baseUrl,
    })
      .tick();
    assert.equal(round.keysRestored, 1);
    assert.equal(round.pairsRestored, 1);
    assert.equal(h.gw.pool.get(ida)!.enabled, true);
    assert.equal(h.gw.pool.cooldownsOf(idb).length, 0);
    assert.ok(
      h.vertex.requests.some((q) => q.path === "/v1/publishers/google/models/gemini-2.5-pro:countTokens"),
    );
    assert.equal(h.mock.requests.length, 0, "nothing was sent to the Gemini API");
  } finally {
    await h.close();
  }
});

Deno.test("the pool counts its keys per kind as keys come, change kind and go", () => {
  const pool = new KeyPool();
  pool.upsert(newKeyRecord(fakeKey(1)));
  const v = newKeyRecord(`vertex:${AQ}`);
  pool.upsert(v);
  pool.upsert({ ...v, label: "again" });
  assert.deepEqual([pool.countOf("gemini"), pool.countOf("vertex")], [1, 1]);
  pool.upsert({ ...v, kind: "gemini" });
  assert.deepEqual([pool.countOf("gemini"), pool.countOf("vertex")], [2, 0]);
  pool.remove(v.id);
  assert.deepEqual([pool.countOf("gemini"), pool.countOf("vertex")], [1, 0]);
});
