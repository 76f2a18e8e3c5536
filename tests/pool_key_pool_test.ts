import assert from "node:assert/strict";
import type { Verdict } from "../lib/pool/classify.ts";
import { KeyPool, type NoKey } from "../lib/pool/key_pool.ts";
import type { KeyRecord } from "../lib/pool/key_record.ts";
import { extractKeys, keyId } from "../lib/pool/key_record.ts";
import { maskKey, redactKeys } from "../lib/secrets/redact.ts";

function rec(id: string, extra: Partial<KeyRecord> = {}): KeyRecord {
  return { id, key: `secret-${id}`, enabled: true, addedAt: 0, ...extra };
}

function makePool(
  n: number,
  clock = { t: Date.UTC(2026, 10, 26, 12, 0, 0) },
  extra: (i: number) => Partial<KeyRecord> = () => ({}),
) {
  const pool = new KeyPool({ now: () => clock.t });
  for (let i = 0; i < n; i++) pool.upsert(rec(`k${i}`, extra(i)));
  return { pool, clock };
}

function pickId(pool: KeyPool, model: string, exclude?: Set<string>): string {
  const p = pool.pick(model, exclude);
  assert.ok("id" in p, `expected a key, got: ${(p as NoKey).reason}`);
  return p.id;
}

Deno.test("round robin spreads requests evenly over enabled keys", () => {
  const { pool } = makePool(3);
  pool.setEnabled("k1", false, "test");
  const ids = Array.from({ length: 6 }, () => pickId(pool, "m"));
  assert.deepEqual(ids, ["k0", "k2", "k0", "k2", "k0", "k2"]);
});

Deno.test("a 429 cools only that (key, model) pair; other models keep using the key", () => {
  const { pool, clock } = makePool(2);
  pool.report("k0", "pro", { kind: "cooldown", window: "minute", until: clock.t + 30_000, reason: "rpm" });
  for (let i = 0; i < 4; i++) assert.equal(pickId(pool, "pro"), "k1");
  const flash = new Set([pickId(pool, "flash"), pickId(pool, "flash")]);
  assert.deepEqual([...flash].sort(), ["k0", "k1"]);
  clock.t += 30_001;
  const after = new Set([pickId(pool, "pro"), pickId(pool, "pro")]);
  assert.ok(after.has("k0"), "k0 is free again after its cooldown");
});

Deno.test("all keys cooling: NoKey names the model, the count and when the next frees up", () => {
  const { pool, clock } = makePool(12);
  for (let i = 0; i < 12; i++) {
    pool.report(`k${i}`, "gemini-2.5-pro", {
      kind: "cooldown",
      window: "minute",
      until: clock.t + 23_000 + i * 1000,
      reason: "rpm",
    });
  }
  const p = pool.pick("gemini-2.5-pro");
  assert.ok("freeAt" in p);
  assert.equal(p.freeAt, clock.t + 23_000);
  assert.equal(p.reason, "all 12 keys are cooling down for gemini-2.5-pro; the next is free in 23 s");
});

Deno.test("keys of one project share a per-day cooldown; other projects are untouched", () => {
  const { pool, clock } = makePool(4, undefined, (i) => ({ project: i < 3 ? "proj-a" : "proj-b" }));
  pool.report("k0", "pro", { kind: "cooldown", window: "day", until: clock.t + 3600_000, reason: "rpd" });
  for (let i = 0; i < 3; i++) assert.equal(pickId(pool, "pro"), "k3");
  assert.equal(pool.cooldownsOf("k2").length, 1, "k2 shows the project cooldown");
});

Deno.test("no access keeps the pair out until reset; disable keeps the key out of every model", () => {
  const { pool } = makePool(2);
  pool.report("k0", "ultra", { kind: "no_access", reason: "quota 0" });
  assert.equal(pickId(pool, "ultra"), "k1");
  assert.equal(pickId(pool, "ultra"), "k1");
  pool.report("k1", "ultra", { kind: "no_access", reason: "quota 0" });
  const none = pool.pick("ultra");
  assert.ok("freeAt" in none && none.freeAt === Infinity);
  assert.match(none.reason, /none of the 2 enabled keys has access to ultra/);
  pool.reset("k0");
  assert.equal(pickId(pool, "ultra"), "k0");
  pool.report("k1", "flash", { kind: "disable", reason: "API_KEY_INVALID" });
  assert.equal(pool.get("k1")?.enabled, false);
  assert.equal(pool.get("k1")?.disabledReason, "API_KEY_INVALID");
  assert.equal(pickId(pool, "flash"), "k0");
  assert.equal(pickId(pool, "flash"), "k0");
});

Deno.test("transient failures back a key off with growing delays; success clears it; client errors never count", () => {
  const { pool, clock } = makePool(2);
  pool.report("k0", "m", { kind: "transient", reason: "503" });
  assert.equal(pool.cooldownsOf("k0").length, 0, "one failure is not a pattern");
  pool.report("k0", "m", { kind: "transient", reason: "503" });
  assert.equal(pool.cooldownsOf("k0")[0].until, clock.t + 1000);
  pool.report("k0", "m", { kind: "transient", reason: "503" });
  assert.equal(pool.cooldownsOf("k0")[0].until, clock.t + 2000);
  pool.report("k0", "m", { kind: "ok" });
  assert.equal(pool.cooldownsOf("k0").length, 0);
  for (let i = 0; i < 5; i++) pool.report("k1", "m", { kind: "client_error" });
  assert.equal(pool.cooldownsOf("k1").length, 0);
  assert.equal(pool.get("k1")?.enabled, true);
});

Deno.test("a learned per-minute limit paces the pool: no request is sent past it", () => {
  const clock = { t: Date.UTC(2026, 10, 26, 12, 0, 10) };
  const { pool } = makePool(1, clock);
  // Google said: limit 3 per minute, window resets in 50 s.
  pool.report("k0", "m", {
    kind: "cooldown",
    window: "minute",
    until: clock.t + 50_000,
    reason: "rpm",
    limit: 3,
  });
  assert.ok("freeAt" in pool.pick("m"));
  clock.t += 50_000;
  for (let i = 0; i < 3; i++) pickId(pool, "m");
  const p = pool.pick("m");
  assert.ok("freeAt" in p, "the 4th request in the window is held back");
  assert.equal(p.freeAt, clock.t + 60_000);
});

Deno.test("admin-entered limits pace per day and per minute", () => {
  const clock = { t: Date.UTC(2026, 10, 26, 12, 0, 0) };
  const { pool } = makePool(1, clock, () => ({ limits: { "*": { rpm: 100, rpd: 2 } } }));
  pickId(pool, "m");
  pickId(pool, "m");
  const p = pool.pick("m");
  assert.ok("freeAt" in p);
  assert.equal(p.freeAt, Date.UTC(2026, 10, 27, 8, 0, 0));
});

Deno.test("choice stays cheap at 10,000 keys with most of them cooling", () => {
  const { pool, clock } = makePool(10_000);
  for (let i = 0; i < 9_990; i++) {
    pool.report(`k${i}`, "m", { kind: "cooldown", window: "minute", until: clock.t + 60_000, reason: "x" });
  }
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(pickId(pool, "m"));
  assert.equal(seen.size, 10, "only the 10 free keys are used, evenly");
});

Deno.test("key helpers: ids are stable, masks hide the middle, pasted text is parsed with reasons", () => {
  const k = "AIza" + "A".repeat(35);
  assert.equal(keyId(k), keyId(k));
  assert.equal(keyId(k).length, 16);
  assert.equal(maskKey(k), "AIza…AAAA");
  assert.equal(redactKeys(`bad key ${k} here`), "bad key AIza…AAAA here");
  const k2 = "AIza" + "B".repeat(35);
  const r = extractKeys(`${k}\n${k2}, ${k}  AIzaTOOSHORT hello`);
  assert.deepEqual(r.keys, [k, k2]);
  assert.deepEqual(r.rejected.map((x) => x.reason), [
    "duplicate in the pasted text",
    "not 39 characters of [0-9A-Za-z_-]",
  ]);
});

/** The verdict of a per-minute 429 whose RetryInfo points at `until` and whose quota is `limit`. */
function perMinute429(until: number, limit: number): Verdict {
  return { kind: "cooldown", window: "minute", until, reason: "rpm", limit };
}

Deno.test("a per-minute 429 whose retryDelay is rounded up to whole seconds cools the pair to the window's end, not past it", () => {
  const window = 5_000;
  const clock = { t: 1_000_000 * window + 2_200 }; // 2.8 s before the window ends
  const pool = new KeyPool({ now: () => clock.t, windowMs: () => window });
  pool.upsert(rec("k0"));
  const end = clock.t - 2_200 + window;
  // Google's RetryInfo says "3s" for the 2.8 s left (the mock's and Google's rounding).
  pool.report("k0", "m", perMinute429(clock.t + 3_000, 6));
  clock.t = end - 1;
  assert.ok("freeAt" in pool.pick("m"), "the window is not over yet");
  clock.t = end;
  const ids = Array.from({ length: 6 }, () => pickId(pool, "m"));
  assert.deepEqual(ids, Array(6).fill("k0"), "the next window's six requests go out when it starts");
  assert.ok("freeAt" in pool.pick("m"), "the learned limit still paces the new window");
});

Deno.test("another gateway's pair state for a new window does not carry this gateway's count of the old one", () => {
  const window = 5_000;
  const clock = { t: 1_000_000 * window + 1_000 };
  const pool = new KeyPool({
    now: () => clock.t,
    windowMs: () => window,
    share: () => ({ count: 2, rank: 0 }),
    peers: () => ({ count: 1, rank: 0 }),
  });
  pool.upsert(rec("k0"));
  pool.markChecked("k0");
  const start = clock.t - 1_000;
  pool.restorePair("m", "k:k0", { coolUntil: 0, learned: { rpm: 6 }, windowEnd: start + window });
  for (let i = 0; i < 3; i++) pickId(pool, "m"); // this gateway's share: 3 of 6
  assert.ok("freeAt" in pool.pick("m"), "the share of this window is used");
  // The next window: the other gateway stores the pair with that window's end before this one picks.
  clock.t = start + window + 500;
  pool.restorePair("m", "k:k0", { coolUntil: 0, learned: { rpm: 6 }, windowEnd: start + 2 * window });
  const ids = Array.from({ length: 3 }, () => pickId(pool, "m"));
  assert.deepEqual(ids, ["k0", "k0", "k0"], "the share of the new window is free");
  // A snapshot of an older window does not reset the count of the current one.
  pool.restorePair("m", "k:k0", { coolUntil: 0, learned: { rpm: 6 }, windowEnd: start + window });
  assert.ok("freeAt" in pool.pick("m"), "an older window's snapshot does not free the share again");
});
