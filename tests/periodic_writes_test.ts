/**
 * Periodic KV writers never pile up (lib/util/one_at_a_time.ts): while a write waits (another process
 * holds the KV file: each commit waits SQLite's 5 s, and commits run one after another), the members'
 * heartbeat skips its ticks instead of queueing a write per tick, so the store's queue, and every read
 * waiting behind it, cannot grow for as long as the outage lasts.
 */
import assert from "node:assert/strict";
import { Members } from "../lib/cluster/members.ts";
import { ChangeFeed } from "../lib/kv/change_feed.ts";
import { oneAtATime } from "../lib/util/one_at_a_time.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `kv` whose commits wait for `release` while `hold` is on; counts the commits started. */
function holdableKv(kv: Deno.Kv) {
  const state = { hold: false, commits: 0, waiting: [] as Array<() => void> };
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => {
            state.commits++;
            if (!state.hold) return commit();
            return new Promise((resolve) => state.waiting.push(() => resolve(commit())));
          };
          return op;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    kv: proxy,
    state,
    release() {
      state.hold = false;
      for (const go of state.waiting.splice(0)) go();
    },
  };
}

Deno.test("members heartbeat: while a KV write hangs, later beats are skipped, not queued; beats resume after", async () => {
  const kv = await Deno.openKv(":memory:");
  const held = holdableKv(kv);
  const feed = new ChangeFeed(held.kv, { pollMs: 0 });
  const members = new Members({ kv: held.kv, feed, heartbeatMs: 10 });
  try {
    await members.start();
    held.state.hold = true;
    const before = held.state.commits;
    await sleep(250); // about 25 ticks
    assert.equal(held.state.commits - before, 1, "one heartbeat write in flight; the other ticks skipped");
    held.release();
    await sleep(150);
    assert.ok(held.state.commits - before >= 3, `beats resume: ${held.state.commits - before} writes`);
  } finally {
    held.release();
    await members.stop();
    await feed.stop();
    kv.close();
  }
});

Deno.test("oneAtATime: a tick while the task runs is skipped; a failed run ends it", async () => {
  let runs = 0;
  let finish: (() => void) | undefined;
  const tick = oneAtATime(() => {
    runs++;
    return new Promise<void>((resolve, reject) =>
      finish = runs === 1 ? resolve : () => reject(new Error("x"))
    );
  });
  tick();
  tick();
  tick();
  assert.equal(runs, 1);
  finish!();
  await sleep(0);
  tick();
  assert.equal(runs, 2);
  finish!(); // rejects
  await sleep(0);
  tick();
  assert.equal(runs, 3);
});
