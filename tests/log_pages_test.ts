/**
 * The request log's stored pages: every entry comes back as it was recorded (its masked key, non-ASCII
 * text anywhere, page boundaries), and a page the store refuses is written again later, each entry once.
 */
import assert from "node:assert/strict";
import { type LogEntry, LogStore } from "../lib/logs/log_store.ts";
import { requestRecord } from "./support/requests.ts";

const NOW = 1_700_000_000_000;
const MASKS: Record<string, string> = { k1: "AIza…k9Xw", k2: "vertex:AQ.A…zz01", k3: "…" };

function store(kv: Deno.Kv): LogStore {
  return new LogStore({
    kv,
    settings: () => ({ logsEnabled: true, logRetentionHours: 1 }),
    now: () => NOW,
    maskKey: (id) => MASKS[id],
  });
}

async function all(logs: LogStore, kind: "request" | "error" = "request"): Promise<LogEntry[]> {
  return (await logs.query({ kind, limit: 500 })).entries.reverse();
}

Deno.test("log pages: entries come back whole, masked keys and non-ASCII text included, across pages", async () => {
  const kv = await Deno.openKv(":memory:");
  const logs = store(kv);
  try {
    const recorded = Array.from({ length: 450 }, (_, i) =>
      requestRecord(NOW - 100_000 + i * 10, {
        keyId: ["k1", "k2", "k3", undefined][i % 4],
        status: i % 9 === 0 ? 429 : 200,
        error: i % 9 === 0 ? `Quota épuisé — 配额 ${"x".repeat(i * 7)}` : undefined,
        path: i % 5 === 0 ? `/v1beta/ü/${i}` : `/v1beta/${i}`,
        tokenName: i % 2 ? "team-a" : undefined,
      }));
    for (const r of recorded) logs.record(r);
    await logs.flush();
    assert.ok((await Array.fromAsync(kv.list({ prefix: ["logs", "req"] }))).length >= 3, "several pages");
    const back = await all(logs);
    assert.equal(back.length, recorded.length);
    back.forEach((e, i) => {
      const r = recorded[i];
      assert.equal(e.time, r.time);
      assert.equal(e.keyMasked, r.keyId ? MASKS[r.keyId] : undefined, `entry ${i}: its masked key`);
      assert.equal("keyMasked" in e, r.keyId !== undefined);
      assert.equal(e.path, r.path);
      assert.equal(e.error, r.error);
      assert.equal(e.tokenName, r.tokenName);
      assert.match(e.id, /^[0-9a-z]{9}-[0-9a-f]{8}$/);
    });
    const errors = await all(logs, "error");
    assert.deepEqual(errors, back.filter((e) => e.status >= 400), "the error log holds the same entries");
  } finally {
    await logs.close();
    kv.close();
  }
});

for (const [failing, which] of [[2, "a request-log page"], [4, "the error-log page"]] as const) {
  Deno.test(`log pages: when ${which} is refused, it is written again, and every entry is stored once in each log`, async () => {
    const kv = await Deno.openKv(":memory:");
    const realSet = kv.set.bind(kv);
    let sets = 0;
    kv.set = ((...args: Parameters<Deno.Kv["set"]>) =>
      ++sets === failing ? Promise.reject(new Error("disk full")) : realSet(...args)) as Deno.Kv["set"];
    const printed: unknown[] = [];
    const realError = console.error;
    console.error = (...args: unknown[]) =>
      printed.push(args);
    const logs = store(kv);
    try {
      for (let i = 0; i < 450; i++) {
        logs.record(requestRecord(NOW - 100_000 + i * 10, { keyId: "k1", status: i % 7 ? 200 : 503 }));
      }
      await logs.flush();
      assert.equal(sets, failing, "three request-log pages, then the error log's");
      assert.equal(printed.length, 1, "the failure is reported once");
      assert.ok(logs.queued > 0, "the entries of the refused page and after it wait for the retry");
      await logs.flush();
      const back = await all(logs);
      assert.equal(back.length, 450);
      assert.equal(new Set(back.map((e) => e.time)).size, 450, "each entry once");
      assert.equal((await all(logs, "error")).length, Math.ceil(450 / 7));
    } finally {
      console.error = realError;
      await logs.close();
      kv.close();
    }
  });
}
