import assert from "node:assert/strict";
import { ChangeFeed } from "../lib/kv/change_feed.ts";
import { KeyPool } from "../lib/pool/key_pool.ts";
import { PoolStore } from "../lib/pool/pool_store.ts";
import { newKeyRecord } from "../lib/pool/key_record.ts";

/** Two gateways on one KV database: each its own pool, store and change feed. */
async function twoGateways() {
  const kv = await Deno.openKv(":memory:");
  const gateway = () => {
    const feed = new ChangeFeed(kv, { pollMs: 0 });
    const pool = new KeyPool();
    return { feed, pool, store: new PoolStore({ kv, feed, pool }) };
  };
  const [a, b] = [gateway(), gateway()];
  return {
    kv,
    a,
    b,
    /** Change notices written so far. */
    notices: async () => (await Array.fromAsync(kv.list({ prefix: ["changes"] }))).length,
    async close() {
      for (const g of [a, b]) {
        await g.store.close();
        await g.feed.stop();
      }
      kv.close();
    },
  };
}

const keys = (n: number) =>
  Array.from({ length: n }, (_, i) => newKeyRecord("AIza" + String(i).padStart(35, "k")));

Deno.test("pool store: 250 keys added at once take a few KV writes, and another gateway learns every one", async () => {
  const g = await twoGateways();
  try {
    const records = keys(250);
    const added = await g.a.store.addKeys([...records, records[0]]);
    assert.deepEqual(added, records.map((r) => r.id), "each key is added once, in order");
    assert.equal(g.a.pool.size, 250);
    assert.ok(
      await g.notices() <= 3,
      `one change notice per write of up to 100 keys, got ${await g.notices()}`,
    );
    await g.b.feed.sync();
    for (let i = 0; i < 50 && g.b.pool.size < 250; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(g.b.pool.size, 250, "the other gateway reloaded every added key");
    const again = await g.a.store.addKeys([records[1], ...keys(252).slice(250)]);
    assert.deepEqual(again, keys(252).slice(250).map((r) => r.id), "a key already stored is skipped");
    assert.equal(g.a.pool.size, 252);
  } finally {
    await g.close();
  }
});

Deno.test("pool store: keys judged for the first time in one pass are written together; the others learn them", async () => {
  const g = await twoGateways();
  try {
    const records = keys(600);
    await g.a.store.addKeys(records);
    await g.b.store.load();
    const before = await g.notices();
    for (const r of records) g.a.pool.report(r.id, "gemini-2.5-flash", { kind: "ok" });
    assert.equal(g.a.store.queued, 600);
    await g.a.store.flush();
    assert.equal(g.a.store.queued, 0);
    assert.equal(await g.notices() - before, 2, "600 marks: two writes of up to 500, one notice each");
    const stored = await Array.fromAsync(g.kv.list({ prefix: ["checked"] }));
    assert.equal(stored.length, 600);
    assert.ok(!g.b.pool.isChecked(records[0].id));
    await g.b.feed.sync();
    assert.ok(records.every((r) => g.b.pool.isChecked(r.id)), "the other gateway learned every verdict");
  } finally {
    await g.close();
  }
});

Deno.test("pool store: a cooldown queued after first verdicts is written without waiting for more verdicts", async () => {
  const g = await twoGateways();
  try {
    const [r] = keys(1);
    await g.a.store.addKeys([r]);
    g.a.pool.report(r.id, "gemini-2.5-flash", { kind: "ok" });
    g.a.pool.report(r.id, "gemini-2.5-pro", {
      kind: "cooldown",
      window: "minute",
      until: Date.now() + 30_000,
      reason: "rpm",
    });
    // Written by the write-behind timer alone (no flush): polled, since `queued` is 0 while the write
    // is still committing.
    const stored = () => g.kv.get(["pairs", "gemini-2.5-pro", `k:${r.id}`]);
    for (let i = 0; i < 100 && !(await stored()).value; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(g.a.store.queued, 0);
    assert.ok((await stored()).value, "the cooldown is stored");
    assert.ok((await g.kv.get(["checked", r.id])).value);
  } finally {
    await g.close();
  }
});
