import assert from "node:assert/strict";
import { ChangeFeed } from "../lib/kv/change_feed.ts";
import { KeyPool } from "../lib/pool/key_pool.ts";
import { CHECKED_PACKS, PoolStore } from "../lib/pool/pool_store.ts";
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

/** The stored "checked" marks: KV entries holding them, and the ids they name. */
async function storedMarks(kv: Deno.Kv): Promise<{ entries: number; ids: string[] }> {
  const legacy = await Array.fromAsync(kv.list({ prefix: ["checked"] }));
  const packs = await Array.fromAsync(kv.list<string>({ prefix: [CHECKED_PACKS] }));
  return {
    entries: legacy.length + packs.length,
    ids: [...legacy.map((e) => String(e.key[1])), ...packs.flatMap((e) => e.value.split(","))],
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
    const stored = await storedMarks(g.kv);
    assert.deepEqual(stored.ids.toSorted(), records.map((r) => r.id).toSorted(), "every verdict is stored");
    assert.equal(
      stored.entries,
      2,
      "600 marks are stored in 2 KV entries (packs of up to 500), not one per key",
    );
    assert.ok(!g.b.pool.isChecked(records[0].id));
    const notices = await Array.fromAsync(g.kv.list<{ topic: string }>({ prefix: ["changes"] }));
    const verdicts = notices.filter((e) => e.value.topic !== "key"); // the keys' own notices name 100 ids
    assert.equal(verdicts.length, 2);
    const longest = Math.max(...verdicts.map((e) => JSON.stringify(e.value).length));
    assert.ok(longest < 200, `a notice names its pack, not its 500 ids (${longest} characters)`);
    await g.b.feed.sync();
    for (let i = 0; i < 50 && !records.every((r) => g.b.pool.isChecked(r.id)); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
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
    assert.deepEqual((await storedMarks(g.kv)).ids, [r.id]);
  } finally {
    await g.close();
  }
});

Deno.test("pool store: a gateway starting later learns the stored verdicts, packed or in the older layout", async () => {
  const g = await twoGateways();
  try {
    const records = keys(3);
    await g.a.store.addKeys(records);
    await g.kv.set(["checked", records[2].id], true); // an older gateway's mark: one entry per key
    g.a.pool.report(records[0].id, "gemini-2.5-flash", { kind: "ok" });
    await g.a.store.flush();
    await g.b.store.load();
    assert.deepEqual(records.map((r) => g.b.pool.isChecked(r.id)), [true, false, true]);
  } finally {
    await g.close();
  }
});

Deno.test("pool store: deleting keys takes their verdicts out of the packs, so a key added again is judged again", async () => {
  const g = await twoGateways();
  try {
    const records = keys(4);
    await g.a.store.addKeys(records);
    await g.kv.set(["checked", records[3].id], true);
    for (const r of records.slice(0, 3)) g.a.pool.report(r.id, "gemini-2.5-flash", { kind: "ok" });
    await g.a.store.flush();
    g.a.pool.report(records[2].id, "gemini-2.5-flash", { kind: "ok" }); // already judged: not written again
    assert.equal(g.a.store.queued, 0);
    assert.equal(await g.a.store.deleteKeys([records[0].id, records[3].id, "no-such-key"]), 2);
    assert.deepEqual((await storedMarks(g.kv)).ids.toSorted(), [records[1].id, records[2].id].toSorted());
    assert.ok(await g.a.store.deleteKey(records[1].id));
    assert.ok(await g.a.store.deleteKey(records[2].id));
    assert.deepEqual(await storedMarks(g.kv), { entries: 0, ids: [] }, "a pack left empty is deleted");
    await g.a.store.addKeys([records[0]]);
    await g.b.store.load();
    assert.equal(g.b.pool.isChecked(records[0].id), false, "the key added again waits for a new verdict");
  } finally {
    await g.close();
  }
});
