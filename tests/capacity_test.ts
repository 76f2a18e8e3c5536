/**
 * What the pool has learned per key and model (limits, use, time until free) and its capacity per
 * model (requests left this minute and today, project sharing, the next key free, models no key can
 * serve), in the pool, the admin API and as flat samples for `/metrics`.
 */
import assert from "node:assert/strict";
import { KeyPool } from "../lib/pool/key_pool.ts";
import { capacityMetrics, capacityReport, modelCapacity } from "../lib/pool/capacity.ts";
import type { KeyRecord } from "../lib/pool/key_record.ts";
import { adminApi } from "./support/admin_api.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";
import type { ApiKey, CapacityResponse } from "../lib/admin/api_types.ts";

const T = Date.UTC(2026, 2, 3, 18, 0, 10); // 10 s into a minute, a Tuesday in Pacific time

function pool(now: () => number): KeyPool {
  const p = new KeyPool({ now });
  const rec = (id: string, over: Partial<KeyRecord> = {}): KeyRecord => ({
    id,
    key: `key-${id}`,
    enabled: true,
    addedAt: 0,
    ...over,
  });
  const limits = { m: { rpm: 10, rpd: 100 } };
  p.upsert(rec("a", { project: "p1", limits }));
  p.upsert(rec("b", { project: "p1", limits }));
  p.upsert(rec("c"));
  p.upsert(rec("d", { enabled: false, limits }));
  return p;
}

Deno.test("capacity: a project's keys share one quota; unknown limits are counted apart; cooldowns spend the window", () => {
  let now = T;
  const p = pool(() => now);
  for (let i = 0; i < 3; i++) assert.ok("id" in p.pick("m"));
  let m = modelCapacity(p, "m", now);
  assert.deepEqual(
    [m.keys, m.usable, m.scopes, m.servable, m.nextFreeAt],
    [3, 3, 2, true, null],
    "the disabled key does not count; a and b are one scope",
  );
  assert.deepEqual(m.minute, { remaining: 8, limit: 10, unknown: 1 }, "a and b used 2 of p1's 10");
  assert.deepEqual(m.day, { remaining: 98, limit: 100, unknown: 1 });

  // Google tells c it may send 5 a minute and it has spent them: c learns the limit and cools down.
  p.report("c", "m", { kind: "cooldown", window: "minute", until: T + 50_000, limit: 5, reason: "rpm" });
  m = modelCapacity(p, "m", now);
  assert.deepEqual([m.usable, m.cooling], [2, 1]);
  assert.deepEqual(m.minute, { remaining: 8, limit: 15, unknown: 0 });
  const c = p.pairView("c", "m")!;
  assert.deepEqual([c.learned.rpm, c.freeAt, c.coolKind], [5, T + 50_000, "minute"]);

  // p1 spends its minute by pacing: nothing is usable; the next key frees when its window ends.
  for (let i = 0; i < 8; i++) assert.ok("id" in p.pick("m"));
  m = modelCapacity(p, "m", now);
  assert.deepEqual([m.usable, m.minute.remaining, m.day.remaining], [0, 0, 90]);
  assert.equal(m.nextFreeAt, Date.UTC(2026, 2, 3, 18, 1, 0), "p1's window ends at the next full minute");
  assert.equal(p.pairView("a", "m")!.usedThisMinute, 10);
  now = T + 55_000; // c's cooldown is over, p1's window too
  m = modelCapacity(p, "m", now);
  assert.deepEqual([m.usable, m.minute.remaining], [3, 15]);
});

Deno.test("capacity: models no key can serve, the report's order and its metric samples", () => {
  const now = T;
  const p = pool(() => now);
  for (const id of ["a", "c"]) p.report(id, "locked", { kind: "no_access", reason: "quotaValue 0" });
  p.pick("m");
  const report = capacityReport(p, { models: ["gemini-listed"], now });
  assert.deepEqual(report.models.map((x) => x.model), ["locked", "m", "gemini-listed"]);
  const locked = report.models[0];
  assert.deepEqual([locked.servable, locked.noAccess, locked.usable], [false, 3, 0]);
  assert.equal(report.enabledKeys, 3);
  const samples = capacityMetrics(report);
  const value = (name: string, model: string) =>
    samples.find((s) => s.name === name && s.labels.model === model)?.value;
  assert.equal(value("gateway_capacity_minute_remaining", "m"), 9);
  assert.equal(value("gateway_capacity_servable", "locked"), 0);
  assert.equal(value("gateway_capacity_usable_keys", "gemini-listed"), 3);
  assert.ok(samples.every((s) => s.help.length > 10 && /^gateway_capacity_[a-z_]+$/.test(s.name)));
});

Deno.test("admin API: learned limits per key and model with the time until free, and the capacity per model", async () => {
  const keys = [fakeKey(1), fakeKey(2)];
  const h = await startHarness({ keys, env: { MAX_ATTEMPTS: "3" } });
  const admin = adminApi(h);
  try {
    h.mock.setKey(keys[0], { rpm: 2 });
    for (let i = 0; i < 8 && h.mock.stats().rateLimited === 0; i++) {
      const r = await nativeGenerate(h, { token: h.token });
      await r.body?.cancel();
      assert.equal(r.status, 200);
    }
    assert.ok(h.mock.stats().rateLimited >= 1, "key 1 got its 429");
    const listed = (await admin("GET", "/keys")).json.keys as ApiKey[];
    const [first] = listed.filter((k) => k.masked.endsWith(keys[0].slice(-4)));
    const quota = first.quota!.find((q) => q.model === "gemini-2.5-flash")!;
    assert.equal(quota.rpm, 2);
    assert.equal(quota.rpmSource, "learned");
    assert.ok(quota.freeAt! > Date.now(), "it frees at the end of Google's window");

    const cap = (await admin("GET", "/capacity")).json as CapacityResponse;
    const flash = cap.models.find((m) => m.model === "gemini-2.5-flash")!;
    assert.equal(flash.keys, 2);
    assert.equal(flash.usable, 1);
    assert.deepEqual(flash.minute, { remaining: 0, limit: 2, unknown: 1 });
    assert.ok(cap.models.length > 1, "models from Google's list are reported too");
  } finally {
    await h.close();
  }
});
