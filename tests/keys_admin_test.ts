/**
 * Admin operations on keys through the JSON API, and scheduled re-checks with a lease.
 */
import assert from "node:assert/strict";
import { KeyAdmin } from "../lib/pool/key_admin.ts";
import { Rechecker } from "../lib/pool/recheck.ts";
import { createKeysApi } from "../routes/api/keys_api.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { adminApi } from "./support/admin_api.ts";
import { coolDown, fakeKey, startHarness } from "./support/harness.ts";

const validKey = (c: string) => "AIza" + c.repeat(35);

async function setup() {
  const h = await startHarness({ keys: [validKey("a"), validKey("b")] });
  const admin = new KeyAdmin({
    pool: h.gw.pool,
    store: h.gw.store,
    usage: h.gw.usage,
    baseUrl: () => h.mock.url,
  });
  const api = createKeysApi({ admin });
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await api.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: await r.json() };
  };
  return { h, admin, call };
}

Deno.test("keys API: paste many keys; duplicates and malformed ones are reported; full keys never returned", async () => {
  const { h, call } = await setup();
  try {
    const text = `${validKey("c")}\n${validKey("d")}, ${validKey("c")} AIzaTooShort ${validKey("a")}`;
    const r = await call("POST", "/keys", { text, label: "batch-1" });
    assert.equal(r.status, 200);
    assert.equal(r.json.added.length, 2);
    assert.deepEqual(r.json.rejected.map((x: { reason: string }) => x.reason).sort(), [
      "already in the pool",
      "duplicate in the pasted text",
      "not 39 characters of [0-9A-Za-z_-]",
    ]);
    const list = await call("GET", "/keys?limit=10");
    assert.equal(list.json.total, 4);
    const raw = JSON.stringify(list.json);
    for (const c of "abcd") assert.ok(!raw.includes(validKey(c)), "no full key in the listing");
    assert.ok(list.json.keys.some((k: { label?: string }) => k.label === "batch-1"));
    const bad = await call("POST", "/keys", { text: "" });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /^text: paste at least one key/);
  } finally {
    await h.close();
  }
});

Deno.test("keys API: a text (or imported file) with nothing key-like is a 400 that says so; nothing stored", async () => {
  const { h, call } = await setup();
  try {
    const r = await call("POST", "/keys", { text: "name,comment\nmy keys,see the other file\n" });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /^text: nothing in it looks like a key; paste Gemini API keys/);
    const list = await call("GET", "/keys?limit=10");
    assert.equal(list.json.total, 2, "the stored keys are untouched");
  } finally {
    await h.close();
  }
});

Deno.test("keys API: disable, enable, reset, update limits, delete; search, filter and paging", async () => {
  const { h, call } = await setup();
  try {
    const ids = h.gw.pool.records().map((r) => r.id);
    assert.equal((await call("POST", "/keys/disable", { ids: [ids[0]] })).json.changed, 1);
    let list = await call("GET", "/keys?state=disabled");
    assert.equal(list.json.total, 1);
    assert.equal(list.json.keys[0].disabledReason, "disabled by admin");
    await call("POST", "/keys/enable", { ids: [ids[0]] });
    h.gw.pool.report(ids[1], "gemini-2.5-pro", {
      kind: "cooldown",
      window: "minute",
      until: Date.now() + 60_000,
      reason: "rpm",
    });
    list = await call("GET", "/keys?state=cooling");
    assert.equal(list.json.total, 1);
    assert.equal(list.json.keys[0].cooldowns[0].model, "gemini-2.5-pro");
    await call("POST", "/keys/reset", { ids: [ids[1]] });
    assert.equal((await call("GET", "/keys?state=cooling")).json.total, 0);
    await call("POST", "/keys/update", {
      ids,
      label: "team-a",
      project: "p1",
      limits: { "gemini-2.5-pro": { rpm: 5, rpd: 100 } },
    });
    assert.equal(h.gw.pool.get(ids[0])?.project, "p1");
    assert.deepEqual(h.gw.pool.get(ids[1])?.limits, { "gemini-2.5-pro": { rpm: 5, rpd: 100 } });
    assert.equal((await call("GET", "/keys?search=team-a&limit=1")).json.keys.length, 1);
    assert.equal((await call("GET", "/keys?search=team-a&limit=1")).json.total, 2);
    const bad = await call("POST", "/keys/update", { ids, limits: { m: { rpm: -1 } } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /limits\.m\.rpm/);
    assert.equal((await call("POST", "/keys/delete", { ids: [ids[0]] })).json.deleted, 1);
    await h.gw.store.flush();
    assert.equal((await h.gw.kv.get(["keys", ids[0]])).value, null);
  } finally {
    await h.close();
  }
});

Deno.test("verify: invalid keys are disabled with Google's reason; a repaired key comes back", async () => {
  const { h, call } = await setup();
  try {
    h.mock.setKey(validKey("a"), { invalid: true });
    const r = await call("POST", "/keys/verify", { all: true, concurrency: 2 });
    assert.equal(r.json.checked, 2);
    assert.equal(r.json.valid, 1);
    assert.match(r.json.disabled[0].reason, /API_KEY_INVALID/);
    const id = h.gw.pool.records().find((k) => k.key === validKey("a"))!.id;
    assert.equal(h.gw.pool.get(id)?.enabled, false);
    // Google says it is fine again: a scheduled re-check restores it (once, under the lease).
    h.mock.setKey(validKey("a"), {});
    const admin = new KeyAdmin({
      pool: h.gw.pool,
      store: h.gw.store,
      usage: h.gw.usage,
      baseUrl: () => h.mock.url,
    });
    const opts = { kv: h.gw.kv, pool: h.gw.pool, admin, intervalMs: () => 60_000, baseUrl: () => h.mock.url };
    const a = new Rechecker(opts);
    const b = new Rechecker(opts);
    const [ra, rb] = [await a.tick(), await b.tick()];
    assert.equal(ra.ran, true);
    assert.equal(rb.ran, false, "the second instance does not run while the lease is held");
    assert.equal(ra.keysRestored, 1);
    assert.equal(h.gw.pool.get(id)?.enabled, true);
    assert.equal((await a.tick()).ran, false, "not again in the same period");
  } finally {
    await h.close();
  }
});

Deno.test("re-check: a 'no access' pair is re-checked with countTokens and comes back", async () => {
  const h = await startHarness();
  try {
    h.mock.setKey(fakeKey(1), { noAccess: ["gemini-2.5-pro"] });
    const ai = await fetch(`${h.url}/v1beta/models/gemini-2.5-pro:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
    });
    assert.equal(ai.status, 200);
    await ai.body?.cancel();
    const id = h.gw.pool.records().find((k) => k.key === fakeKey(1))!.id;
    assert.equal(h.gw.pool.cooldownsOf(id)[0]?.kind, "no_access");
    h.mock.setKey(fakeKey(1), {});
    const admin = new KeyAdmin({
      pool: h.gw.pool,
      store: h.gw.store,
      usage: h.gw.usage,
      baseUrl: () => h.mock.url,
    });
    const r = await new Rechecker({
      kv: h.gw.kv,
      pool: h.gw.pool,
      admin,
      intervalMs: () => 60_000,
      baseUrl: () => h.mock.url,
    }).tick();
    assert.equal(r.pairsRestored, 1);
    assert.equal(h.gw.pool.cooldownsOf(id).length, 0);
    assert.ok(
      h.mock.requests.some((q) => q.path.endsWith("gemini-2.5-pro:countTokens") && q.key === fakeKey(1)),
    );
  } finally {
    await h.close();
  }
});

Deno.test("keys list on a real gateway: case-insensitive search over labels, ids and reasons, sort, paging, counts over the whole pool", async () => {
  const h = await startHarness({ keys: [fakeKey(1), fakeKey(2), fakeKey(3)] });
  const admin = adminApi(h);
  try {
    const [a, b, c] = [fakeKey(1), fakeKey(2), fakeKey(3)].map(keyId);
    h.gw.pool.patch(a, { label: "Prod", addedAt: 3 });
    h.gw.pool.patch(b, { addedAt: 1 });
    h.gw.pool.setEnabled(b, false, "API key invalid");
    h.gw.pool.patch(c, { label: "prod batch", addedAt: 2 });
    coolDown(h, c, "gemini-2.5-flash", { ms: 60_000 });
    // Only key a is free for this model: five requests make it the busiest key today.
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-goog-api-key": h.token },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
      });
      assert.equal(r.status, 200);
      await r.body?.cancel();
    }
    await h.gw.usage.flush();
    const ids = async (query: string) => {
      const r = await admin("GET", `/keys?${query}`);
      assert.equal(r.status, 200);
      return r.json as { total: number; keys: Array<{ id: string }>; counts: unknown };
    };
    const page = await ids("search=PROD&sort=added");
    assert.deepEqual(page.keys.map((k) => k.id), [c, a], "search is case-insensitive, sorted by date added");
    assert.equal(page.total, 2);
    assert.deepEqual(page.counts, { active: 1, cooling: 1, disabled: 1 }, "counts cover the whole pool");
    assert.deepEqual((await ids("search=invalid")).keys.map((k) => k.id), [b]);
    assert.deepEqual((await ids(`search=${c.slice(2, 10).toUpperCase()}`)).keys.map((k) => k.id), [c]);
    assert.deepEqual((await ids("sort=state")).keys.map((k) => k.id), [b, c, a]);
    assert.equal((await ids("sort=requests")).keys[0].id, a);
    const paged = await ids("sort=added&offset=2&limit=25");
    assert.deepEqual(paged.keys.map((k) => k.id), [a]);
    assert.equal(paged.total, 3);
  } finally {
    await h.close();
  }
});
