/**
 * Per-key usage written as batches (lib/pool/usage.ts, usage_batch.ts): a flush of a large pool's counts
 * is a few KV writes; totals read while batches are not folded yet are exact; counters sharing one KV
 * add up; a fold interrupted at any write (or whose write landed but answered an error) never loses or
 * doubles a count; a refused write is retried.
 */
import assert from "node:assert/strict";
import { UsageCounter, type UsageTotals } from "../lib/pool/usage.ts";
import { pacificDay } from "../lib/pool/quota_clock.ts";

const NEVER = 3_600_000; // no timer fires during a test: flush and fold are called
const MODEL = "gemini-2.5-flash";
const atomic = Deno.AtomicOperation.prototype;

/**
 * Counts calls in round robin over `keys` keys, `perFlush` calls (default: every key) before each of
 * `flushes` flushes, with the client token `app` on every call.
 */
async function traffic(
  u: UsageCounter,
  o: { keys: number; flushes: number; perFlush?: number },
): Promise<void> {
  let at = 0;
  for (let r = 0; r < o.flushes; r++) {
    for (let i = 0; i < (o.perFlush ?? o.keys); i++) {
      u.count({ keyId: `k${at++ % o.keys}`, model: MODEL, tokenName: "app" }, {
        requests: 1,
        ok: 1,
        inputTokens: 3,
        outputTokens: 5,
      });
    }
    await u.flush();
  }
}

/** Totals over every key and model. */
function total(m: Map<string, UsageTotals>): UsageTotals {
  const t = { requests: 0, ok: 0, rateLimited: 0, errors: 0, inputTokens: 0, outputTokens: 0 };
  for (const v of m.values()) for (const k of Object.keys(t) as Array<keyof UsageTotals>) t[k] += v[k];
  return t;
}

const expected = (n: number) => ({
  requests: n,
  ok: n,
  rateLimited: 0,
  errors: 0,
  inputTokens: 3 * n,
  outputTokens: 5 * n,
});

async function countKeys(kv: Deno.Kv, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: [prefix] })) n++;
  return n;
}

Deno.test("usage: a flush of 5,000 keys' counts is a few KV writes, not a sum per counter", async () => {
  const kv = await Deno.openKv(":memory:");
  const u = new UsageCounter(kv, { flushMs: NEVER, foldMs: NEVER });
  const commit = atomic.commit;
  const sum = atomic.sum;
  let commits = 0;
  let sums = 0;
  try {
    for (let i = 0; i < 5_000; i++) u.count({ keyId: `key-${i}`, model: MODEL }, { requests: 1 });
    atomic.commit = function (this: Deno.AtomicOperation) {
      commits++;
      return commit.call(this);
    };
    atomic.sum = function (this: Deno.AtomicOperation, ...args: Parameters<Deno.AtomicOperation["sum"]>) {
      sums++;
      return sum.apply(this, args);
    };
    await u.flush();
    assert.ok(commits <= 2, `${commits} atomic writes for one flush`);
    assert.equal(sums, 0);
  } finally {
    atomic.commit = commit;
    atomic.sum = sum;
  }
  const day = pacificDay(Date.now());
  const byKey = await u.perKey(day);
  assert.equal(byKey.size, 5_000);
  assert.deepEqual({ ...byKey.get("key-4321") }, { ...expected(0), requests: 1 });
  await u.close();
  kv.close();
});

Deno.test("usage: totals are exact while batches wait, after a fold, and a fold leaves no batch behind", async () => {
  const kv = await Deno.openKv(":memory:");
  const u = new UsageCounter(kv, { flushMs: NEVER, foldMs: NEVER });
  const day = pacificDay(Date.now());
  await traffic(u, { keys: 300, flushes: 7 });
  assert.ok(await countKeys(kv, "usagebatch") > 0);
  assert.equal(await countKeys(kv, "usage"), 0);
  assert.deepEqual(total(await u.perKeyAndModel(day)), expected(2_100));
  assert.deepEqual({ ...(await u.perKey(day)).get("k17") }, expected(7));
  assert.deepEqual({ ...(await u.perToken(day)).get("app") }, expected(2_100));
  await u.fold();
  assert.equal(await countKeys(kv, "usagebatch"), 0);
  assert.deepEqual(total(await u.perKeyAndModel(day)), expected(2_100));
  assert.deepEqual({ ...(await u.perKeyAndModel(day)).get(`k17|${MODEL}`) }, expected(7));
  await u.close();
  kv.close();
});

Deno.test("usage: a compaction merges a shard's batches into a few, writes no sums, and keeps totals exact", async () => {
  const kv = await Deno.openKv(":memory:");
  const u = new UsageCounter(kv, { flushMs: NEVER, foldMs: NEVER, compactMs: NEVER });
  const day = pacificDay(Date.now());
  await traffic(u, { keys: 3_200, perFlush: 400, flushes: 24 });
  const before = await countKeys(kv, "usagebatch");
  await u.compact();
  const after = await countKeys(kv, "usagebatch");
  assert.ok(after * 4 < before, `${before} batches compacted into ${after}`);
  assert.equal(await countKeys(kv, "usage"), 0);
  assert.deepEqual(total(await u.perKeyAndModel(day)), expected(9_600));
  assert.deepEqual({ ...(await u.perKey(day)).get("k3199") }, expected(3));
  await u.close();
  assert.equal(await countKeys(kv, "usagebatch"), 0);
  assert.deepEqual(total(await u.perKeyAndModel(day)), expected(9_600));
  kv.close();
});

Deno.test("usage: two counters on one KV file add up, folded or not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw_usage_" });
  const [kvA, kvB] = [await Deno.openKv(`${dir}/kv.sqlite3`), await Deno.openKv(`${dir}/kv.sqlite3`)];
  const a = new UsageCounter(kvA, { flushMs: NEVER, foldMs: NEVER });
  const b = new UsageCounter(kvB, { flushMs: NEVER, foldMs: NEVER });
  const day = pacificDay(Date.now());
  try {
    await traffic(a, { keys: 50, flushes: 3 });
    await traffic(b, { keys: 80, flushes: 2 });
    for (const u of [a, b]) assert.deepEqual(total(await u.perKeyAndModel(day)), expected(310));
    await a.fold();
    assert.deepEqual(total(await b.perKeyAndModel(day)), expected(310));
    assert.deepEqual({ ...(await b.perKey(day)).get("k10") }, expected(5));
    await b.fold();
    assert.deepEqual(total(await a.perKeyAndModel(day)), expected(310));
    assert.deepEqual({ ...(await a.perToken(day)).get("app") }, expected(310));
    assert.equal(await countKeys(kvA, "usagebatch"), 0);
  } finally {
    await a.close();
    await b.close();
    kvA.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** The atomic writes of one fold of a large pool's batches (compacted, then folded). */
async function foldWrites(): Promise<number> {
  const kv = await Deno.openKv(":memory:");
  const u = new UsageCounter(kv, { flushMs: NEVER, foldMs: NEVER });
  await traffic(u, { keys: 3_200, perFlush: 400, flushes: 24 });
  const commit = atomic.commit;
  let n = 0;
  atomic.commit = function (this: Deno.AtomicOperation) {
    n++;
    return commit.call(this);
  };
  try {
    await u.fold();
  } finally {
    atomic.commit = commit;
  }
  await u.close();
  kv.close();
  return n;
}

for (const landed of [false, true]) {
  Deno.test(`usage: a fold interrupted at any of its writes (${landed ? "landed but" : "not"} written) loses and doubles nothing`, async () => {
    const writes = await foldWrites();
    assert.ok(writes > SHARD_WRITES, `a fold of 3,200 keys' batches took ${writes} writes`);
    const day = pacificDay(Date.now());
    const commit = atomic.commit;
    const printed: string[] = [];
    const realError = console.error;
    for (let stop = 1; stop <= writes; stop += Math.max(1, Math.floor(writes / 7))) {
      const kv = await Deno.openKv(":memory:");
      const u = new UsageCounter(kv, { flushMs: NEVER, foldMs: NEVER });
      await traffic(u, { keys: 3_200, perFlush: 400, flushes: 24 });
      let n = 0;
      atomic.commit = async function (this: Deno.AtomicOperation) {
        if (++n !== stop) return commit.call(this);
        if (landed) await commit.call(this);
        throw new Error("database is locked");
      };
      console.error = (...args: unknown[]) => printed.push(args.map(String).join(" "));
      try {
        await u.fold();
      } finally {
        atomic.commit = commit;
        console.error = realError;
      }
      assert.deepEqual(total(await u.perKeyAndModel(day)), expected(9_600), `stopped at write ${stop}`);
      assert.deepEqual({ ...(await u.perKey(day)).get("k3199") }, expected(3));
      await u.fold(); // the retry
      assert.equal(await countKeys(kv, "usagebatch"), 0);
      assert.deepEqual(total(await u.perKeyAndModel(day)), expected(9_600), `retried after write ${stop}`);
      await u.close();
      kv.close();
    }
    assert.ok(printed.some((l) => /usage: fold failed \(will retry\): database is locked/.test(l)));
  });
}
/** More writes than one per shard: the fold above compacts and folds in several writes a shard. */
const SHARD_WRITES = 16;

Deno.test("usage: a reader racing a fold of another counter still reads exact totals", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw_usage_" });
  const [kvA, kvB] = [await Deno.openKv(`${dir}/kv.sqlite3`), await Deno.openKv(`${dir}/kv.sqlite3`)];
  const writer = new UsageCounter(kvA, { flushMs: NEVER, foldMs: NEVER });
  let raced = false;
  // The reader's KV runs the other counter's fold just before the reader lists the batches.
  const racing = new Proxy(kvB, {
    get(target, prop) {
      if (prop === "list") {
        return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
          const prefix = "prefix" in selector ? selector.prefix : [];
          if (prefix[0] !== "usagebatch" || raced) return target.list(selector, options);
          raced = true;
          return (async function* () {
            await writer.fold();
            yield* target.list(selector, options);
          })();
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const reader = new UsageCounter(racing, { flushMs: NEVER, foldMs: NEVER });
  try {
    await traffic(writer, { keys: 40, flushes: 5 });
    const day = pacificDay(Date.now());
    assert.deepEqual(total(await reader.perKeyAndModel(day)), expected(200));
    assert.ok(raced);
    assert.equal(await countKeys(kvA, "usagebatch"), 0);
  } finally {
    await writer.close();
    await reader.close();
    kvA.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage: a flush the store refuses is kept and written by the retry, exactly once", async () => {
  const kv = await Deno.openKv(":memory:");
  const u = new UsageCounter(kv, { flushMs: NEVER, foldMs: NEVER });
  const day = pacificDay(Date.now());
  const commit = atomic.commit;
  const realError = console.error;
  const printed: string[] = [];
  await traffic(u, { keys: 1_000, flushes: 1 });
  for (let i = 0; i < 1_000; i++) u.count({ keyId: `k${i}`, model: MODEL, tokenName: "app" }, expected(1));
  atomic.commit = () => Promise.reject(new Error("database is locked"));
  console.error = (...args: unknown[]) => printed.push(args.map(String).join(" "));
  try {
    await u.flush();
  } finally {
    atomic.commit = commit;
    console.error = realError;
  }
  assert.ok(u.queued >= 1_000);
  assert.deepEqual(total(await u.perKeyAndModel(day)), expected(1_000));
  await u.flush();
  assert.equal(u.queued, 0);
  assert.ok(await countKeys(kv, "usagebatch") > 0, "the retried counts were written as batches");
  assert.deepEqual(total(await u.perKeyAndModel(day)), expected(2_000));
  assert.deepEqual({ ...(await u.perToken(day)).get("app") }, expected(2_000));
  assert.deepEqual(printed, ["usage: flush failed (will retry): database is locked"]);
  await u.close();
  assert.deepEqual(total(await u.perKeyAndModel(day)), expected(2_000));
  kv.close();
});
