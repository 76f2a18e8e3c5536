/**
 * Dashboard metrics: per-minute buckets with counters and latency percentiles from a mergeable
 * histogram, persisted to KV (shared by workers, kept across restarts), and the metrics API.
 */
import assert from "node:assert/strict";
import { binOf, emptyHistogram, LATENCY_BOUNDS, percentile } from "../lib/metrics/histogram.ts";
import { Metrics } from "../lib/metrics/metrics.ts";
import { adminApi } from "./support/admin_api.ts";
import { startHarness } from "./support/harness.ts";
import { nativeGenerate, requestRecord } from "./support/requests.ts";

const rec = requestRecord;

Deno.test("histogram: log-spaced bins; percentiles land in the right bin", () => {
  assert.equal(binOf(0), 0);
  assert.equal(binOf(LATENCY_BOUNDS[3]), 3);
  assert.equal(binOf(LATENCY_BOUNDS[3] + 1), 4);
  assert.equal(binOf(10_000_000), LATENCY_BOUNDS.length);
  const h = emptyHistogram();
  for (let i = 0; i < 90; i++) h[binOf(100)]++;
  for (let i = 0; i < 9; i++) h[binOf(2_000)]++;
  h[binOf(30_000)]++;
  const within = (v: number, ms: number) => v >= ms / 1.5 && v <= ms * 1.5;
  assert.ok(within(percentile(h, 0.5), 100), `p50 ${percentile(h, 0.5)}`);
  assert.ok(within(percentile(h, 0.95), 2_000), `p95 ${percentile(h, 0.95)}`);
  assert.ok(within(percentile(h, 0.99), 2_000), `p99 ${percentile(h, 0.99)}`);
  assert.ok(within(percentile(h, 1), 30_000));
  assert.equal(percentile(emptyHistogram(), 0.5), 0);
});

Deno.test("metrics: minute buckets merge over workers and survive a restart; ranges bucket by 1m/15m/1h", async () => {
  const kv = await Deno.openKv(":memory:");
  const base = Date.UTC(2026, 0, 10, 12, 0, 0);
  let now = base + 30 * 60_000;
  const a = new Metrics({ kv, now: () => now });
  const b = new Metrics({ kv, now: () => now });
  try {
    for (let i = 0; i < 10; i++) {
      a.record(rec(base + 5 * 60_000 + i, { latencyMs: 50, inputTokens: 10, outputTokens: 5 }));
    }
    a.record(rec(base + 5 * 60_000 + 20_000, { status: 429, latencyMs: 4_000 }));
    b.record(rec(base + 5 * 60_000 + 30_000, { status: 500, latencyMs: 4_000, model: "other" }));
    b.record(rec(base + 20 * 60_000, { latencyMs: 300, outputTokens: 7 }));
    await a.flush();
    await b.flush();

    const c = new Metrics({ kv, now: () => now }); // a fresh worker (a restart) sees everything
    const hour = await c.query("1h");
    assert.equal(hour.bucketMs, 60_000);
    assert.equal(hour.buckets.length, 60);
    const minute5 = hour.buckets.find((x) => x.t === base + 5 * 60_000)!;
    assert.equal(minute5.requests, 12);
    assert.equal(minute5.ok, 10);
    assert.equal(minute5.errors, 2);
    assert.equal(minute5.rateLimited, 1);
    assert.equal(minute5.inputTokens, 100);
    assert.equal(minute5.outputTokens, 50);
    assert.ok(minute5.p50! >= 50 / 1.5 && minute5.p50! <= 50 * 1.5);
    assert.ok(minute5.p99! >= 4_000 / 1.5 && minute5.p99! <= 4_000 * 1.5);
    const empty = hour.buckets.find((x) => x.t === base)!;
    assert.deepEqual([empty.requests, empty.p50, empty.p95, empty.p99], [0, null, null, null]);
    assert.equal(hour.buckets.reduce((n, x) => n + x.requests, 0), 13);
    assert.deepEqual(hour.byModel.map((m) => [m.model, m.requests, m.errors]), [["m", 12, 1], [
      "other",
      1,
      1,
    ]]);

    now = base + 3 * 3_600_000;
    const day = await c.query("24h");
    assert.equal(day.bucketMs, 900_000);
    assert.equal(day.buckets.length, 96);
    const q0 = day.buckets.find((x) => x.t === base)!;
    const q1 = day.buckets.find((x) => x.t === base + 900_000)!;
    assert.equal(q0.requests, 12);
    assert.equal(q1.requests, 1);
    const week = await c.query("7d");
    assert.equal(week.bucketMs, 3_600_000);
    assert.equal(week.buckets.length, 168);
    assert.equal(week.buckets.find((x) => x.t === base)!.requests, 13);
    assert.equal(
      (await c.query("1h")).buckets.reduce((n, x) => n + x.requests, 0),
      0,
      "out of the last hour",
    );
  } finally {
    await a.close();
    await b.close();
    kv.close();
  }
});

Deno.test("metrics API: requests through the gateway show up; key states and proxies are listed; bad range 400", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await nativeGenerate(h, { token: h.token, text: "hi" });
      await r.body?.cancel();
    }
    h.gw.pool.setEnabled(h.gw.pool.records()[0].id, false, "test");
    const m = await admin("GET", "/metrics?range=1h");
    assert.equal(m.status, 200);
    assert.equal(m.json.range, "1h");
    assert.equal(m.json.bucketMs, 60_000);
    const flash = m.json.byModel.find((x: { model: string }) => x.model === "gemini-2.5-flash");
    assert.equal(flash.requests, 3);
    assert.equal(flash.ok, 3);
    assert.ok(flash.inputTokens > 0);
    const last = m.json.buckets.at(-1);
    for (
      const k of [
        "t",
        "requests",
        "ok",
        "errors",
        "rateLimited",
        "inputTokens",
        "outputTokens",
        "p50",
        "p95",
        "p99",
      ]
    ) {
      assert.ok(k in last, k);
    }
    assert.deepEqual(m.json.keys, { active: 2, cooling: 0, disabled: 1 });
    const p = await admin("GET", "/proxies");
    assert.deepEqual(p.json, { proxies: [] });
    const bad = await admin("GET", "/metrics?range=2y");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.details[0].fieldViolations[0].field, "range");
  } finally {
    await h.close();
  }
});

Deno.test("metrics: a 15-minute block is cached only once settled, so late writes of other workers still count", async () => {
  const kv = await Deno.openKv(":memory:");
  const base = Date.UTC(2026, 0, 10, 12, 0, 0);
  let now = base + 16 * 60_000; // the first block ended a minute ago: not settled yet
  const a = new Metrics({ kv, now: () => now });
  const b = new Metrics({ kv, now: () => now });
  try {
    a.record(rec(base + 60_000));
    assert.equal((await a.query("24h")).buckets.find((x) => x.t === base)!.requests, 1);
    b.record(rec(base + 14 * 60_000)); // another worker's late flush into the same block
    await b.flush();
    assert.equal((await a.query("24h")).buckets.find((x) => x.t === base)!.requests, 2);
    now = base + 60 * 60_000;
    assert.equal((await a.query("24h")).buckets.find((x) => x.t === base)!.requests, 2);
    assert.equal((await a.query("7d")).buckets.find((x) => x.t === base)!.requests, 2);
    assert.equal((await a.query("24h")).byModel[0].requests, 2, "cached blocks still feed byModel");
  } finally {
    await a.close();
    await b.close();
    kv.close();
  }
});
