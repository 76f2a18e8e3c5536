/**
 * A failing state store is never silent: with the KV file locked by another process (writes fail
 * with "database is locked" after SQLite's 5 s busy timeout, reads still work — what a read-only
 * file or a full disk looks like to the gateway), admin changes answer 503 and change nothing,
 * `/health`, `/ready` and the admin panel say so, counters and key state written in the background
 * are kept and stored once the file is free again.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { keyId } from "../lib/pool/key_record.ts";
import { KeyPool } from "../lib/pool/key_pool.ts";
import { KeyCounts } from "../lib/pool/key_counts.ts";
import { pacificDay } from "../lib/pool/quota_clock.ts";
import { ADMIN_TOKEN, adminApi } from "./support/admin_api.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";

/** Holds SQLite's write lock on `path` (as another process would) until `release`. */
function lockWrites(path: string) {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 10000");
  db.exec("BEGIN EXCLUSIVE");
  return {
    release() {
      db.exec("ROLLBACK");
      db.close();
    },
  };
}

Deno.test("a KV that refuses writes: admin changes get 503 and change nothing; health, ready and the panel show it; nothing is lost", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw_kvfail_" });
  const path = `${dir}/kv.sqlite3`;
  const h = await startHarness({ env: { KV_PATH: path, LOGS_ENABLED: "false" } });
  const admin = adminApi(h);
  const k1 = keyId(fakeKey(1));
  const k2 = keyId(fakeKey(2));
  let lock: ReturnType<typeof lockWrites> | undefined;
  try {
    assert.deepEqual((await (await fetch(`${h.url}/ready`)).json()).ready, true);
    assert.equal((await nativeGenerate(h, { token: h.token })).status, 200);
    await h.gw.usage.flush();
    const requestsSoFar = async () => {
      const usage = await h.gw.usage.perKey(pacificDay(Date.now()));
      return [...usage.values()].reduce((n, u) => n + u.requests, 0);
    };
    const before = await requestsSoFar();
    lock = lockWrites(path);

    // A request still works (the hot path never waits for KV); its counters wait in memory.
    assert.equal((await nativeGenerate(h, { token: h.token })).status, 200);

    const [disable, token, settings, del] = await Promise.all([
      admin("POST", "/keys/disable", { ids: [k1] }),
      admin("POST", "/tokens", { name: "during-outage" }),
      admin("PATCH", "/settings", { maxAttempts: 2 }),
      admin("POST", "/keys/delete", { ids: [k2] }),
    ]);
    for (const r of [disable, token, settings, del]) {
      assert.equal(r.status, 503, JSON.stringify(r.json));
      assert.match(
        r.json.error.message,
        /The state store \(Deno KV\) could not save the change.*database is locked/,
      );
    }
    assert.equal(h.gw.pool.get(k1)?.enabled, true, "the disable was not applied");
    assert.ok(h.gw.pool.get(k2), "the key was not deleted");
    assert.notEqual(h.gw.settings.current.maxAttempts, 2);
    const tokens = await admin("GET", "/tokens");
    assert.equal(tokens.status, 200, "reads still work");
    assert.equal(tokens.json.tokens.some((t: { name: string }) => t.name === "during-outage"), false);

    const health = await (await fetch(`${h.url}/health`)).json();
    assert.equal(health.status, "degraded");
    assert.equal(health.store.ok, false);
    assert.equal(health.store.writable, false);
    assert.match(health.store.error, /database is locked/);
    const ready = await fetch(`${h.url}/ready`);
    assert.equal(ready.status, 503);
    assert.match((await ready.json()).reasons[0], /state store \(Deno KV\) fails/);
    const page = await fetch(`${h.url}/admin/keys`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: "text/html" },
    });
    assert.match(await page.text(), /class="page-alert" role="alert">The state store \(Deno KV\) is failing/);

    lock.release();
    lock = undefined;
    assert.equal((await h.gw.storeHealth.probe()).ok, true);
    assert.equal((await fetch(`${h.url}/ready`)).status, 200);
    const page2 = await fetch(`${h.url}/admin/keys`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: "text/html" },
    });
    assert.doesNotMatch(await page2.text(), /page-alert/);
    // The counters of the request served during the outage were kept and are stored now.
    await h.gw.usage.flush();
    assert.equal(await requestsSoFar(), before + 1);
    // The same change now succeeds and is durable.
    assert.equal((await admin("POST", "/keys/disable", { ids: [k1] })).status, 200);
    assert.equal((await h.gw.kv.get<{ enabled: boolean }>(["keys", k1])).value?.enabled, false);
  } finally {
    lock?.release();
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/health answers from maintained counts: it does not walk the pool on every call", async () => {
  const h = await startHarness({ keys: [fakeKey(1), fakeKey(2), fakeKey(3)] });
  try {
    const pool = h.gw.pool;
    const records = pool.records.bind(pool);
    let walks = 0;
    pool.records = () => (walks++, records());
    const first = await (await fetch(`${h.url}/health`)).json();
    assert.deepEqual(first.keys, { total: 3, active: 3, cooling: 0, disabled: 0 });
    for (let i = 0; i < 50; i++) await (await fetch(`${h.url}/health`)).body?.cancel();
    assert.ok(walks <= 1, `walked the pool ${walks} times for 51 health checks`);
  } finally {
    await h.close();
  }
});

Deno.test("/ready: 503 with the reason when no key is enabled", async () => {
  const h = await startHarness({ keys: [fakeKey(1)] });
  try {
    const id = keyId(fakeKey(1));
    assert.equal((await adminApi(h)("POST", "/keys/disable", { ids: [id] })).status, 200);
    const res = await fetch(`${h.url}/ready`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.deepEqual(body.reasons, ["no enabled key in the pool"]);
    assert.deepEqual(body.keys, { total: 1, active: 0, cooling: 0, disabled: 1 });
  } finally {
    await h.close();
  }
});

Deno.test("key counts: recounted at most once a second after pool changes, and when a cooldown ends", () => {
  let now = 1_000_000;
  const pool = new KeyPool({ now: () => now });
  for (const n of [1, 2]) pool.upsert({ id: `k${n}`, key: fakeKey(n), enabled: true, addedAt: 0 });
  const counts = new KeyCounts(pool, { now: () => now });
  assert.deepEqual(counts.current, { total: 2, active: 2, cooling: 0, disabled: 0 });
  pool.report("k1", "m", { kind: "cooldown", window: "minute", until: now + 5_000, reason: "rpm" });
  pool.setEnabled("k2", false);
  assert.deepEqual(
    counts.current,
    { total: 2, active: 2, cooling: 0, disabled: 0 },
    "not yet: within a second",
  );
  now += 1_000;
  assert.deepEqual(counts.current, { total: 2, active: 0, cooling: 1, disabled: 1 });
  now += 4_000;
  assert.deepEqual(counts.current, { total: 2, active: 1, cooling: 0, disabled: 1 }, "the cooldown ended");
});
