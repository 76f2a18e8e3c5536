/**
 * The pool's answers that are computed without walking every key (capacity per model, keys by state)
 * agree with the key-by-key definitions, over random pools: projects, disabled keys, limits entered per
 * model and for `*`, cooldowns of every kind, error backoffs, pacing counts, several gateways.
 */
import assert from "node:assert/strict";
import { KeyPool, type PairView } from "../lib/pool/key_pool.ts";
import { type CapacityWindow, modelCapacity } from "../lib/pool/capacity.ts";
import { KeyCounts } from "../lib/pool/key_counts.ts";
import type { KeyRecord } from "../lib/pool/key_record.ts";
import type { MemberShare } from "../lib/cluster/members.ts";

const T = Date.UTC(2026, 2, 3, 18, 0, 10);
const MODELS = ["m1", "m2", "m3"];

/** A small deterministic random generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPool(seed: number) {
  const r = random(seed);
  const clock = { t: T };
  const share: MemberShare = r() < 0.3 ? { count: 3, rank: Math.floor(r() * 3) } : { count: 1, rank: 0 };
  const pool = new KeyPool({ now: () => clock.t, share: () => share, peers: () => ({ count: 1, rank: 0 }) });
  const n = 5 + Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    const limits: KeyRecord["limits"] = {};
    if (r() < 0.2) limits["*"] = { rpm: 1 + Math.floor(r() * 5) };
    if (r() < 0.2) {
      limits[MODELS[Math.floor(r() * 3)]] = { rpm: 1 + Math.floor(r() * 5), rpd: 3 + Math.floor(r() * 9) };
    }
    pool.upsert({
      id: `k${i}`,
      key: `key-${i}`,
      enabled: r() > 0.15,
      addedAt: 0,
      ...(r() < 0.4 ? { project: `p${Math.floor(r() * 4)}` } : {}),
      ...(Object.keys(limits).length ? { limits } : {}),
    });
  }
  for (let i = 0; i < n * 2; i++) {
    const id = `k${Math.floor(r() * n)}`;
    const model = MODELS[Math.floor(r() * 3)];
    const x = r();
    if (x < 0.15) {
      pool.report(id, model, {
        kind: "cooldown",
        window: "minute",
        until: T + r() * 60_000,
        reason: "rpm",
        limit: 4,
      });
    } else if (x < 0.25) {
      pool.report(id, model, { kind: "cooldown", window: "day", until: T + 3_600_000, reason: "rpd" });
    } else if (x < 0.3) pool.report(id, model, { kind: "no_access", reason: "no access" });
    else if (x < 0.4) {
      pool.report(id, model, { kind: "transient", reason: "503" });
      pool.report(id, model, { kind: "transient", reason: "503" });
    } else pool.pick(model);
  }
  clock.t += Math.floor(r() * 20_000);
  return { pool, clock };
}

/** Capacity as defined key by key: every enabled key's view, one view per scope (the first usable one). */
function referenceCapacity(pool: KeyPool, model: string, now: number) {
  const scopes = new Map<string, PairView>();
  let [keys, usable, cooling, noAccess, earliest] = [0, 0, 0, 0, Infinity];
  for (const r of pool.records()) {
    if (!r.enabled) continue;
    const v = pool.pairView(r.id, model)!;
    keys++;
    if (v.freeAt <= now) usable++;
    else if (v.coolKind === "no_access" || v.freeAt === Infinity) noAccess++;
    else {
      cooling++;
      earliest = Math.min(earliest, v.freeAt);
    }
    const known = scopes.get(v.scope);
    if (!known || (known.freeAt > now && v.freeAt <= now)) scopes.set(v.scope, v);
  }
  const open = [...scopes.values()].filter((v) => v.freeAt !== Infinity);
  const window = (
    limit: (v: PairView) => number | undefined,
    used: (v: PairView) => number,
    spent: (v: PairView) => boolean,
  ) => {
    const out: CapacityWindow = { remaining: 0, limit: 0, unknown: 0 };
    for (const v of open) {
      const l = limit(v);
      if (l !== undefined) out.limit += l;
      if (spent(v)) continue;
      if (l === undefined) out.unknown++;
      else out.remaining += Math.max(0, l - used(v));
    }
    return out;
  };
  return {
    model,
    keys,
    usable,
    cooling,
    noAccess,
    scopes: scopes.size,
    minute: window(
      (v) => v.paced.rpm,
      (v) => v.usedThisMinute,
      (v) => v.freeAt > now && (v.coolKind === "minute" || v.coolKind === "day"),
    ),
    day: window((v) => v.paced.rpd, (v) => v.usedToday, (v) => v.freeAt > now && v.coolKind === "day"),
    nextFreeAt: !usable && Number.isFinite(earliest) ? earliest : null,
    servable: usable + cooling > 0,
  };
}

Deno.test("pool at scale: capacity per model, viewing only keys with state, equals the key-by-key count", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const { pool, clock } = randomPool(seed);
    for (const model of [...MODELS, "unseen"]) {
      assert.deepEqual(
        modelCapacity(pool, model, clock.t),
        referenceCapacity(pool, model, clock.t),
        `seed ${seed}, ${model}`,
      );
    }
  }
});

Deno.test("pool at scale: keys by state, counted from the pairs, equal each key's state", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const { pool, clock } = randomPool(seed);
    const records = pool.records();
    const states = records.map((r) => pool.stateOf(r.id));
    const ends = records.filter((r) => r.enabled).flatMap((r) => pool.cooldownsOf(r.id).map((c) => c.until));
    const counts = new KeyCounts(pool, { now: () => clock.t }).current;
    assert.deepEqual(counts, {
      total: records.length,
      active: states.filter((s) => s === "active").length,
      cooling: states.filter((s) => s === "cooling").length,
      disabled: states.filter((s) => s === "disabled").length,
    }, `seed ${seed}`);
    const { nextExpiry } = pool.stateCounts(clock.t);
    assert.equal(nextExpiry, Math.min(Infinity, ...ends.filter((u) => u > clock.t)), `seed ${seed}`);
  }
});

Deno.test("pool at scale: keys judged for the first time, one per request, do not make the state counts walk the pool", () => {
  const clock = { t: T };
  const pool = new KeyPool({ now: () => clock.t });
  for (let i = 0; i < 10_000; i++) pool.upsert({ id: `k${i}`, key: `key-${i}`, enabled: true, addedAt: 0 });
  const stateCounts = pool.stateCounts.bind(pool);
  let walks = 0;
  pool.stateCounts = (after) => (walks++, stateCounts(after));
  const counts = new KeyCounts(pool, { now: () => clock.t });
  assert.equal(counts.current.active, 10_000);
  // Round robin over 10,000 keys: every request is a key's first verdict for a while.
  for (let i = 0; i < 5_000; i++) {
    const choice = pool.pick("m1");
    assert.ok("id" in choice);
    pool.report(choice.id, "m1", { kind: "ok" });
    assert.ok(pool.isChecked(choice.id));
    if (i % 100 === 99) {
      clock.t += 1_000; // a health check or a metrics snapshot every second
      assert.equal(counts.current.active, 10_000);
    }
  }
  assert.equal(walks, 1, `the state counts walked 10,000 keys ${walks} times for 50 reads`);
  pool.report("k1", "m1", { kind: "cooldown", window: "minute", until: clock.t + 30_000, reason: "rpm" });
  clock.t += 1_000;
  assert.deepEqual(counts.current, { total: 10_000, active: 9_999, cooling: 1, disabled: 0 });
});

/** Every key of a pool cooling down for `model` until `until` (one key later than the others). */
function exhausted(n: number, model: string) {
  const clock = { t: T };
  let share: MemberShare = { count: 1, rank: 0 };
  const pool = new KeyPool({ now: () => clock.t, share: () => share });
  for (let i = 0; i < n; i++) pool.upsert({ id: `k${i}`, key: `key-${i}`, enabled: true, addedAt: 0 });
  for (let i = 0; i < n; i++) {
    pool.report(`k${i}`, model, {
      kind: "cooldown",
      window: "day",
      until: clock.t + 20_000 + (i === 0 ? 10_000 : 0),
      reason: "rpd",
    });
  }
  return { pool, clock, setShare: (s: MemberShare) => share = s };
}

Deno.test("pool at scale: a remembered 'no key' answer ends when a key frees, is reset, added or changed", () => {
  const { pool, clock } = exhausted(5, "pro");
  const first = pool.pick("pro");
  assert.ok("freeAt" in first);
  assert.equal(first.reason, "all 5 keys are cooling down for pro; the next is free in 20 s");
  assert.equal(pool.nextFreeAt("pro"), T + 20_000);
  clock.t += 5_000;
  const again = pool.pick("pro");
  assert.ok("freeAt" in again);
  assert.equal(
    again.reason,
    "all 5 keys are cooling down for pro; the next is free in 15 s",
    "the wait counts down",
  );
  assert.equal(pool.noKeyReason("pro"), again.reason);
  assert.ok("id" in pool.pick("flash"), "other models are not affected");

  pool.reset("k3", "pro");
  const reset = pool.pick("pro");
  assert.ok("id" in reset && reset.id === "k3", "a reset key serves at once");
  assert.equal(pool.nextFreeAt("pro"), clock.t);

  pool.report("k3", "pro", { kind: "cooldown", window: "day", until: clock.t + 15_000, reason: "rpd" });
  assert.ok("freeAt" in pool.pick("pro"));
  pool.upsert({ id: "new", key: "key-new", enabled: true, addedAt: 0 });
  const added = pool.pick("pro");
  assert.ok("id" in added && added.id === "new", "a key added to the pool serves at once");

  pool.setEnabled("new", false);
  assert.ok("freeAt" in pool.pick("pro"));
  assert.ok(pool.nextFreeAt("pro") > clock.t);
  pool.setEnabled("new", true);
  assert.ok("id" in pool.pick("pro"), "a key enabled again serves at once");
  pool.setEnabled("new", false);

  assert.ok("freeAt" in pool.pick("pro"));
  clock.t = T + 20_000;
  const freed = pool.pick("pro");
  assert.ok("id" in freed && freed.id !== "k0", "keys whose cooldown ended serve");
  assert.equal(pool.nextFreeAt("pro"), clock.t);
});

Deno.test("pool at scale: a remembered 'no key' answer ends when the pacing window rolls, and with the gateways' shares", () => {
  const clock = { t: T };
  let share: MemberShare = { count: 1, rank: 0 };
  const pool = new KeyPool({ now: () => clock.t, share: () => share });
  pool.upsert({ id: "a", key: "key-a", enabled: true, addedAt: 0, limits: { m: { rpm: 2 } } });
  assert.ok("id" in pool.pick("m"));
  assert.ok("id" in pool.pick("m"));
  const paced = pool.pick("m");
  assert.ok("freeAt" in paced && paced.why === "quota");
  assert.equal(pool.nextFreeAt("m"), paced.freeAt);
  share = { count: 1, rank: 0 }; // the same share, as a new reading: nothing changes
  assert.ok("freeAt" in pool.pick("m"));
  pool.patch("a", { limits: { m: { rpm: 3 } } });
  assert.ok("id" in pool.pick("m"), "a higher limit entered by the admin serves at once");
  assert.ok("freeAt" in pool.pick("m"));
  clock.t = paced.freeAt;
  assert.ok("id" in pool.pick("m"), "the next window serves");
  share = { count: 2, rank: 0 };
  const split = pool.pick("m");
  assert.ok("freeAt" in split, "with another gateway, this one's share of 3 is spent");
  share = { count: 1, rank: 0 };
  assert.ok("id" in pool.pick("m"), "alone again, the whole limit serves");
});

Deno.test("pool at scale: a 'no key' answer for keys backing off, without access or all tried is the same when asked again", () => {
  const { pool, clock } = exhausted(3, "pro");
  for (let i = 0; i < 3; i++) {
    pool.report(`k${i}`, "flash", { kind: "transient", reason: "503" });
    pool.report(`k${i}`, "flash", { kind: "transient", reason: "503" });
  }
  const backoff = pool.pick("flash");
  assert.ok("freeAt" in backoff && backoff.why === "backoff");
  assert.deepEqual(pool.pick("flash"), backoff);
  assert.equal(pool.noKeyReason("flash"), backoff.reason);
  pool.report("k1", "flash", { kind: "ok" });
  const ok = pool.pick("flash");
  assert.ok("id" in ok && ok.id === "k1", "a success ends the key's backoff at once");

  for (let i = 0; i < 3; i++) pool.report(`k${i}`, "vision", { kind: "no_access", reason: "no access" });
  const none = pool.pick("vision");
  assert.ok("freeAt" in none && none.why === "no_access" && none.freeAt === Infinity);
  clock.t += 3_600_000;
  assert.deepEqual(pool.pick("vision"), none, "no access stays until a re-check");
  pool.reset("k2");
  assert.ok("id" in pool.pick("vision"));
  const tried = pool.pick("m", new Set(["k0", "k1", "k2"]));
  assert.ok("freeAt" in tried && tried.why === "disabled");
  assert.ok("id" in pool.pick("m"), "a pick that excludes keys is not remembered for the others");
});

Deno.test("pool at scale: the secrets' version moves when keys come or go, not when a key is disabled or labelled", () => {
  const pool = new KeyPool();
  for (let i = 0; i < 3; i++) pool.upsert({ id: `k${i}`, key: `key-${i}`, enabled: true, addedAt: 0 });
  const v = pool.secretsVersion;
  pool.setEnabled("k1", false, "suspended");
  pool.patch("k2", { label: "team", lastError: "quota" });
  assert.equal(pool.secretsVersion, v, "no secret changed: a redactor keeps its index");
  pool.upsert({ id: "k3", key: "key-3", enabled: true, addedAt: 0 });
  assert.ok(pool.secretsVersion > v);
  const w = pool.secretsVersion;
  assert.ok(pool.remove("k0"));
  assert.ok(pool.secretsVersion > w);
  assert.deepEqual(pool.records().map((r) => r.id), ["k1", "k2", "k3"], "pool order kept");
  pool.setEnabled("k3", false);
  assert.deepEqual(pool.records().map((r) => r.id), ["k1", "k2", "k3"], "a replaced record keeps its place");
  assert.ok(pool.remove("k2"));
  pool.setEnabled("k3", true);
  assert.deepEqual(pool.records().map((r) => [r.id, r.enabled]), [["k1", false], ["k3", true]]);
});

Deno.test("pool at scale: the round robin skips keys known to be out and still picks what a walk over every key picks", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = random(seed);
    const clock = { t: T };
    const pool = new KeyPool({ now: () => clock.t });
    let added = 0;
    const add = () => {
      const limits = r() < 0.3 ? { m1: { rpm: 1 + Math.floor(r() * 3) } } : undefined;
      pool.upsert({
        id: `k${added}`,
        key: `key-${added++}`,
        enabled: true,
        addedAt: 0,
        ...(limits ? { limits } : {}),
      });
    };
    for (let i = 0; i < 40 + Math.floor(r() * 40); i++) add();
    const last = new Map<string, number>();
    for (let step = 0; step < 400; step++) {
      const records = pool.records();
      const id = records[Math.floor(r() * records.length)]?.id ?? "none";
      const model = MODELS[Math.floor(r() * 2)];
      const x = r();
      if (x < 0.55) {
        // The definition: the first enabled key after the last one chosen (pool order, wrapping) that is free.
        const n = records.length;
        const start = ((last.get(model) ?? -1) + 1) % n;
        let expected: string | undefined;
        for (let i = 0; i < n && expected === undefined; i++) {
          const rec = records[(start + i) % n];
          if (rec.enabled && pool.pairView(rec.id, model)!.freeAt <= clock.t) expected = rec.id;
        }
        const got = pool.pick(model);
        assert.equal("id" in got ? got.id : undefined, expected, `seed ${seed}, step ${step}`);
        if ("id" in got) last.set(model, records.findIndex((rec) => rec.id === got.id));
      } else if (x < 0.75) {
        pool.report(id, model, {
          kind: "cooldown",
          window: "minute",
          until: clock.t + r() * 8_000,
          reason: "rpm",
        });
      } else if (x < 0.79) pool.report(id, model, { kind: "transient", reason: "503" });
      else if (x < 0.82) pool.report(id, model, { kind: "ok" });
      else if (x < 0.822) pool.report(id, model, { kind: "no_access", reason: "no access" });
      else if (x < 0.826) pool.reset(id, r() < 0.5 ? model : undefined);
      else if (x < 0.83) pool.setEnabled(id, !pool.get(id)?.enabled);
      else if (x < 0.834) add();
      else if (x < 0.838 && records.length > 2) {
        pool.remove(id); // the round robin keeps its place as an index into the pool
      } else if (x < 0.84) pool.patch(id, { limits: { m1: { rpm: 1 + Math.floor(r() * 3) } } });
      else clock.t += Math.floor(r() * 2_000);
    }
  }
});
