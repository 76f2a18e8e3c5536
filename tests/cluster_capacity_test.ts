/**
 * The admin panel's capacity is the whole pool's when several gateways (workers, processes, instances)
 * serve from one KV: each publishes the figures that are its own (its share of each limit minus its
 * own use) and the admin API adds up those of the active members, ignoring stale and idle ones.
 * Two gateways on one KV file stand in for two workers or processes.
 */
import assert from "node:assert/strict";
import { fakeKey, type Harness } from "./support/harness.ts";
import { adminApi } from "./support/admin_api.ts";
import { idleGateways, limitFirstKey, twoGateways, waitFor } from "./support/two_gateways.ts";
import { nativeGenerate } from "./support/requests.ts";
import { KeyPool } from "../lib/pool/key_pool.ts";
import { capacityReport, modelCapacity } from "../lib/pool/capacity.ts";
import {
  type BoardMembers,
  CapacityBoard,
  countsInPoolSum,
  sumCapacity,
} from "../lib/cluster/capacity_board.ts";
import { EXPIRE_MS, Members } from "../lib/cluster/members.ts";
import { ChangeFeed } from "../lib/kv/change_feed.ts";
import type { CapacityResponse } from "../lib/admin/api_types.ts";

const T = Date.UTC(2026, 2, 3, 18, 0, 10);
const DAY_MS = 86_400_000;

async function served(h: Harness, n: number): Promise<number[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = await nativeGenerate(h, { token: h.token });
    await r.body?.cancel();
    out.push(r.status);
  }
  return out;
}

async function flashCapacity(
  h: Harness,
): Promise<{ cap: CapacityResponse; flash: CapacityResponse["models"][0] }> {
  const cap = (await adminApi(h)("GET", "/capacity")).json as CapacityResponse;
  return { cap, flash: cap.models.find((m) => m.model === "gemini-2.5-flash")! };
}

Deno.test("two gateways on one KV: the admin capacity is the pool's whole remaining, whichever answers", async () => {
  // A "minute" window of a UTC day, so no window ends while the test runs.
  const { a, b, close } = await twoGateways(undefined, { QUOTA_WINDOW_MS: String(DAY_MS) });
  try {
    const model = "gemini-2.5-flash";
    await limitFirstKey(a, b, model, { rpm: 10, rpd: 100 });
    assert.deepEqual(await served(a, 3), [200, 200, 200]);
    // Each gateway paces against half the limit and counts only its own use.
    assert.deepEqual(modelCapacity(a.gw.pool, model).minute, { remaining: 2, limit: 5, unknown: 0 });
    assert.deepEqual(modelCapacity(b.gw.pool, model).minute, { remaining: 5, limit: 5, unknown: 0 });

    // The figures go to KV on the members' heartbeat; here at once.
    const publish = () => Promise.all([a.gw.capacity.publish(), b.gw.capacity.publish()]);
    await publish();
    for (const h of [b, a]) {
      const { cap, flash } = await flashCapacity(h);
      assert.deepEqual(flash.minute, { remaining: 7, limit: 10, unknown: 0 }, "A used 3 of the pool's 10");
      assert.deepEqual(flash.day, { remaining: 97, limit: 100, unknown: 0 });
      assert.deepEqual(
        [
          flash.keys,
          flash.scopes,
          flash.usable,
          flash.cooling,
          flash.noAccess,
          flash.servable,
          flash.nextFreeAt,
        ],
        [1, 1, 1, 0, 0, true, null],
        "the key is counted once",
      );
      assert.deepEqual(cap.members, { counted: 2, active: 2, alive: 2 });
    }

    // A spends its share: the key still serves on B, so it is usable in the pool.
    assert.deepEqual(await served(a, 2), [200, 200]);
    assert.equal(modelCapacity(a.gw.pool, model).usable, 0);
    await publish();
    let { flash } = await flashCapacity(b);
    assert.deepEqual([flash.minute.remaining, flash.usable, flash.cooling, flash.nextFreeAt], [
      5,
      1,
      0,
      null,
    ]);

    // B spends its share too: nothing left, and the key frees when the window ends.
    assert.deepEqual(await served(b, 5), [200, 200, 200, 200, 200]);
    await publish();
    ({ flash } = await flashCapacity(a));
    assert.deepEqual([flash.minute.remaining, flash.day.remaining, flash.usable, flash.cooling], [
      0,
      90,
      0,
      1,
    ]);
    assert.equal(flash.nextFreeAt, (Math.floor(Date.now() / DAY_MS) + 1) * DAY_MS);
  } finally {
    await close();
  }
});

Deno.test("two gateways: when the second starts serving, the first republishes its figures at once (no limit counted 1.5 times)", async () => {
  const { a, b, close } = await idleGateways([fakeKey(1)], { QUOTA_WINDOW_MS: String(DAY_MS) });
  try {
    const model = "gemini-2.5-flash";
    await limitFirstKey(a, b, model, { rpm: 10, rpd: 100 });
    // A serves alone: it paces against the whole limit and publishes that.
    assert.deepEqual(await served(a, 3), [200, 200, 200]);
    await a.gw.capacity.publish();
    // B starts serving: A's share halves as soon as it hears of it.
    assert.deepEqual(await served(b, 1), [200]);
    await waitFor(() => a.gw.members.share().count === 2);
    let flash = (await flashCapacity(b)).flash;
    for (let i = 0; i < 40 && flash.minute.limit !== 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
      flash = (await flashCapacity(b)).flash;
    }
    assert.deepEqual(flash.minute, { remaining: 6, limit: 10, unknown: 0 }, "4 of the pool's 10 used");
    assert.deepEqual(flash.day, { remaining: 96, limit: 100, unknown: 0 });
  } finally {
    await close();
  }
});

/** A pool of one key with `rpm: 10, rpd: 100` for model `m`, paced as member `rank` of `count`. */
function sharedPool(share: { count: number; rank: number }, now: () => number): KeyPool {
  const p = new KeyPool({ now, share: () => share });
  p.upsert({ id: "a", key: "key-a", enabled: true, addedAt: 0, limits: { m: { rpm: 10, rpd: 100 } } });
  p.upsert({ id: "c", key: "key-c", enabled: true, addedAt: 0 });
  return p;
}

Deno.test("capacity board: a stale member's figures are ignored, and so are an idle member's", async () => {
  const kv = await Deno.openKv(":memory:");
  let now = T;
  let active = ["self", "other"];
  const member = (id: string): BoardMembers => ({
    id,
    activeIds: () => active,
    alive: () => 2,
    onHeartbeat: () => {},
  });
  const board = (id: string, rank: number) => {
    const pool = sharedPool({ count: 2, rank }, () => now);
    return {
      pool,
      board: new CapacityBoard({
        kv,
        members: member(id),
        report: () => capacityReport(pool, { now }),
        now: () => now,
      }),
    };
  };
  const self = board("self", 0);
  const other = board("other", 1);
  try {
    // The other member sends 2 requests with key a.
    for (let i = 0; i < 2; i++) assert.ok("id" in other.pool.pick("m", undefined, { prefer: "a" }));
    assert.equal(other.pool.pairView("a", "m")?.usedThisMinute, 2);
    await other.board.publish();
    const minute = async () => {
      const r = await self.board.read();
      return [r.models.find((m) => m.model === "m")!.minute, r.members.counted];
    };
    assert.deepEqual(await minute(), [{ remaining: 8, limit: 10, unknown: 1 }, 2], "both members' shares");

    now += EXPIRE_MS; // the other member stopped heartbeating: its entry is still in KV, but stale
    assert.ok((await kv.get(["capacity", "other"])).value, "KV has not deleted it yet");
    assert.deepEqual(
      await minute(),
      [{ remaining: 5, limit: 5, unknown: 1 }, 1],
      "this member's share alone",
    );

    await other.board.publish(); // back with fresh figures, but idle: its share is not part of the whole
    active = ["self"];
    assert.deepEqual(await minute(), [{ remaining: 5, limit: 5, unknown: 1 }, 1]);
    active = ["self", "other"];
    assert.deepEqual(await minute(), [{ remaining: 8, limit: 10, unknown: 1 }, 2]);

    await other.board.stop();
    assert.equal((await kv.get(["capacity", "other"])).value, null, "a member that stops deletes its entry");
  } finally {
    kv.close();
  }
});

Deno.test("capacity board: with one member the answer is its own report; members publish on their heartbeat", async () => {
  const kv = await Deno.openKv(":memory:");
  const feed = new ChangeFeed(kv, { pollMs: 0 });
  const members = new Members({ kv, feed, heartbeatMs: 20 });
  const pool = sharedPool({ count: 1, rank: 0 }, () => T);
  const local = () => capacityReport(pool, { now: T });
  const board = new CapacityBoard({ kv, members, report: local });
  try {
    await members.start();
    board.start();
    assert.deepEqual(await board.read(), { ...local(), members: { counted: 1, active: 1, alive: 1 } });
    members.touch(); // active now
    assert.deepEqual(await board.read(), { ...local(), members: { counted: 1, active: 1, alive: 1 } });
    const entry = async () => (await kv.get<{ models: { model: string }[] }>(["capacity", members.id])).value;
    const end = Date.now() + 5_000;
    while (!await entry() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      (await entry())?.models.map((m) => m.model),
      ["m"],
      "only models with limits are published",
    );
  } finally {
    await board.stop();
    await members.stop();
    await feed.stop();
    kv.close();
  }
});

Deno.test("capacity sum: windows add up, pool-wide facts count once, usable is the best member's, next free the earliest", () => {
  const base = {
    model: "m",
    keys: 4,
    noAccess: 1,
    scopes: 3,
    servable: true,
    usable: 1,
    cooling: 2,
    minute: { remaining: 1, limit: 5, unknown: 1 },
    day: { remaining: 40, limit: 50, unknown: 1 },
    nextFreeAt: null,
  };
  const local = {
    time: T,
    enabledKeys: 4,
    models: [base, { ...base, model: "plain", cooling: 0, usable: 3 }],
  };
  const other = {
    model: "m",
    usable: 0,
    cooling: 3,
    minute: { remaining: 0, limit: 5 },
    day: { remaining: 45, limit: 50 },
  };
  const spent = { models: [{ ...other, nextFreeAt: T + 9_000 }] };
  const sooner = { models: [{ ...other, nextFreeAt: T + 4_000 }] };
  const summed = sumCapacity(local, [local, spent]);
  assert.deepEqual(summed.models[0], {
    ...base,
    minute: { remaining: 1, limit: 10, unknown: 1 },
    day: { remaining: 85, limit: 100, unknown: 1 },
  });
  assert.deepEqual(
    summed.models[1],
    local.models[1],
    "a model the other member does not list adds nothing there",
  );
  const none = sumCapacity(local, [spent, sooner]).models[0];
  assert.deepEqual([none.usable, none.cooling, none.nextFreeAt], [0, 3, T + 4_000]);
  assert.deepEqual([none.keys, none.noAccess, none.scopes, none.minute.unknown], [4, 1, 3, 1]);
});

Deno.test("capacity in a sum over members: serving members count; with none serving, exactly one", () => {
  const members = (id: string, active: string[], alive: string[]) => ({
    id,
    activeIds: () => active,
    aliveIds: () => [id, ...alive.filter((x) => x !== id)],
  });
  assert.equal(countsInPoolSum(members("b", ["b"], ["a", "b"])), true);
  assert.equal(countsInPoolSum(members("a", ["b"], ["a", "b"])), false, "idle while another serves");
  const idle = ["c", "a", "b"].map((id) => countsInPoolSum(members(id, [], ["a", "b", "c"])));
  assert.deepEqual(idle, [false, true, false], "none serves: the smallest id stands for the pool");
  assert.equal(countsInPoolSum(members("z", [], [])), true, "alone");
});
