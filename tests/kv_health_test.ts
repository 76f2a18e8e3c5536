/**
 * While the state store refuses writes, at most one write at a time waits on it: a local KV file runs
 * its operations one after another and a refused write waits SQLite's 5 s busy timeout, so reads would
 * otherwise queue behind every background writer's retry (see `lib/kv/kv_health.ts`).
 */
import assert from "node:assert/strict";
import { KvHealth } from "../lib/kv/kv_health.ts";
import { GatewayError } from "../lib/http/errors.ts";

/** A stand-in for a KV file another process holds: each commit waits until `release()`, then fails. */
function lockedKv() {
  const waiting: Array<() => void> = [];
  let commits = 0;
  const kv = {
    atomic() {
      return {
        set() {
          return this;
        },
        commit() {
          commits++;
          return new Promise((_, reject) => waiting.push(() => reject(new Error("database is locked"))));
        },
      };
    },
    get: () => Promise.resolve({ key: ["a"], value: 1, versionstamp: "1" }),
  } as unknown as Deno.Kv;
  return {
    kv,
    get commits() {
      return commits;
    },
    /** Ends every waiting commit (as SQLite's busy timeout does). */
    timeOut() {
      for (const w of waiting.splice(0)) w();
    },
  };
}

Deno.test("a store refusing writes: while one write waits on it, further writes fail at once with the 503", async () => {
  const health = new KvHealth({ probeMs: 0 });
  const file = lockedKv();
  const kv = health.track(file.kv);

  // The first write learns that the store refuses writes.
  const first = kv.atomic().set(["a"], 1).commit();
  file.timeOut();
  await assert.rejects(first, (e) => e instanceof GatewayError && e.status === 503);
  assert.equal(health.status.writable, false);

  // Five background writers retry: one goes to the store, four fail at once without queueing.
  const retries = Array.from({ length: 5 }, () => kv.atomic().set(["a"], 1).commit());
  const settled: PromiseSettledResult<unknown>[] = [];
  const fast = Promise.allSettled(retries.slice(1)).then((r) => settled.push(...r));
  await fast;
  assert.equal(file.commits, 2, "only one retry reached the store");
  for (const r of settled) {
    assert.equal(r.status, "rejected");
    const e = (r as PromiseRejectedResult).reason;
    assert.ok(e instanceof GatewayError && e.status === 503);
    assert.match(e.message, /could not save the change.*database is locked/);
  }
  // Reads are not held back.
  assert.equal((await kv.get(["a"])).value, 1);
  file.timeOut();
  await assert.rejects(retries[0]);

  // With nothing waiting, the next write is tried again (that is how the store is seen to work again).
  const again = kv.atomic().set(["a"], 1).commit();
  assert.equal(file.commits, 3);
  file.timeOut();
  await assert.rejects(again);
});

Deno.test("a working store: concurrent writes all go to it", async () => {
  const health = new KvHealth({ probeMs: 0 });
  let commits = 0;
  const kv = health.track({
    atomic: () => ({
      commit: () => (commits++, new Promise((r) => setTimeout(() => r({ ok: true, versionstamp: "1" }), 5))),
    }),
  } as unknown as Deno.Kv);
  const results = await Promise.all(Array.from({ length: 5 }, () => kv.atomic().commit()));
  assert.equal(commits, 5);
  assert.ok(results.every((r) => r.ok));
});

Deno.test("a store refusing writes: the probe's write always goes to it (that is how recovery is seen)", async () => {
  const health = new KvHealth({ probeMs: 0 });
  let locked = true;
  const held: Array<() => void> = [];
  let commits = 0;
  const kv = health.track({
    set: () => (commits++,
      locked
        ? new Promise((_, reject) =>
          held.push(() => reject(new Error("database is locked")))
        )
        : Promise.resolve({ ok: true, versionstamp: "2" })),
    get: () => Promise.resolve({ key: ["health", "probe"], value: 1, versionstamp: "2" }),
  } as unknown as Deno.Kv);
  const first = kv.set(["a"], 1);
  for (const h of held.splice(0)) h();
  await assert.rejects(first);
  const waiting = kv.set(["a"], 1); // a background write waiting on the store
  assert.equal(commits, 2);
  locked = false;
  const status = await health.probe();
  assert.equal(commits, 3, "the probe wrote although another write was waiting");
  assert.equal(status.ok, true);
  for (const h of held.splice(0)) h();
  await assert.rejects(waiting);
});

Deno.test("a store refusing writes: a read that does not answer fails with the 503 after stalledReadMs", async () => {
  const health = new KvHealth({ probeMs: 0, stalledReadMs: 50 });
  let fail: (e: Error) => void = () => {};
  const kv = health.track({
    set: () => new Promise((_, reject) => (fail = reject)),
    get: () => new Promise(() => {}), // a read stuck behind a write that waits for the file
  } as unknown as Deno.Kv);
  const write = kv.set(["a"], 1);
  fail(new Error("database is locked"));
  await assert.rejects(write);
  const outcome = await Promise.race([
    kv.get(["a"]).then(() => "answered", (e) => e),
    new Promise((r) => setTimeout(() => r("still waiting after 2 s"), 2_000)),
  ]);
  assert.ok(outcome instanceof GatewayError, String(outcome));
  assert.equal(outcome.status, 503);
  assert.match(outcome.message, /could not be read: no answer within 0.05 s/);
});

Deno.test("a read stuck before any write has failed (an outage's first seconds) fails after stalledReadMs too; a slow one that answers in time is waited for", async () => {
  const health = new KvHealth({ probeMs: 0, stalledReadMs: 200 });
  const kv = health.track({
    get: (key: Deno.KvKey) =>
      key[0] === "stuck"
        ? new Promise(() => {})
        : new Promise((r) => setTimeout(() => r({ key, value: 1, versionstamp: "1" }), 60)),
  } as unknown as Deno.Kv);
  assert.equal((await kv.get(["slow"])).value, 1);
  await assert.rejects(kv.get(["stuck"]), (e) => e instanceof GatewayError && e.status === 503);
  assert.equal(health.status.readable, false, "/health says reads fail");
  assert.equal((await kv.get(["slow"])).value, 1);
  assert.equal(health.status.readable, true);
});
