/**
 * Request and error logs: recorded for every request with the masked key, filtered and paged through
 * the admin API, Google's error body kept with keys redacted, and expired entries swept.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { LogStore } from "../lib/logs/log_store.ts";
import { adminApi } from "./support/admin_api.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";
import { nativeGenerate, requestRecord } from "./support/requests.ts";

async function generate(h: Harness, token: string, model: string) {
  const r = await nativeGenerate(h, { token, model });
  return { status: r.status, text: await r.text() };
}

type Entry = Record<string, unknown> & { id: string; status: number; keyId?: string; keyMasked?: string };

Deno.test("logs API: every request logged with masked key, token and tokens; filters, paging and detail work", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const t0 = Date.now();
    const call = (q: string) => admin("GET", `/logs?from=${t0}${q ? "&" + q : ""}`);
    const named = await admin("POST", "/tokens", { name: "logger", models: ["gemini-2.5-flash"] });
    for (let i = 0; i < 3; i++) assert.equal((await generate(h, h.token, "gemini-2.5-flash")).status, 200);
    assert.equal((await generate(h, named.json.token, "gemini-2.5-flash")).status, 200);
    assert.equal((await generate(h, named.json.token, "gemini-2.5-pro")).status, 403);

    const all = await call("");
    assert.equal(all.status, 200);
    const entries: Entry[] = all.json.entries;
    assert.equal(entries.length, 5);
    assert.equal(entries[0].status, 403, "newest first");
    const ok = entries.find((e) => e.status === 200)!;
    assert.equal(ok.route, "gemini");
    assert.equal(ok.method, "POST");
    assert.equal(ok.model, "gemini-2.5-flash");
    assert.equal(ok.attempts, 1);
    assert.equal(ok.stream, false);
    assert.ok((ok.inputTokens as number) > 0 && (ok.outputTokens as number) > 0);
    assert.match(ok.keyMasked!, /^AIza…x{3}\d$/);
    assert.ok(typeof ok.latencyMs === "number" && typeof ok.time === "number");
    for (let n = 1; n <= 3; n++) assert.ok(!JSON.stringify(all.json).includes(fakeKey(n)), "no full key");

    const byToken = await call("token=logger");
    assert.equal(byToken.json.entries.length, 2);
    const errors = await call("status=error");
    assert.deepEqual(errors.json.entries.map((e: Entry) => e.status), [403]);
    assert.equal((await call("kind=error")).json.entries.length, 1);
    assert.equal((await call("status=200&model=gemini-2.5-flash")).json.entries.length, 4);
    assert.equal((await call("model=gemini-2.5-pro")).json.entries.length, 1);
    const byKey = await call(`keyId=${ok.keyId}`);
    assert.ok(byKey.json.entries.length >= 1);
    assert.ok(byKey.json.entries.every((e: Entry) => e.keyId === ok.keyId));
    assert.equal((await call(`to=${(entries.at(-1)!.time as number) - 1}`)).json.entries.length, 0);

    const p1 = await call("limit=2");
    assert.equal(p1.json.entries.length, 2);
    assert.ok(p1.json.next);
    const p2 = await call(`limit=2&cursor=${encodeURIComponent(p1.json.next)}`);
    const p3 = await call(`limit=2&cursor=${encodeURIComponent(p2.json.next)}`);
    const paged = [...p1.json.entries, ...p2.json.entries, ...p3.json.entries].map((e: Entry) => e.id);
    assert.deepEqual(paged, entries.map((e) => e.id));

    const one = await admin("GET", `/logs/${entries[0].id}`);
    assert.equal(one.status, 200);
    assert.match(String(one.json.error), /may not use model 'gemini-2\.5-pro'/);
    assert.equal((await admin("GET", "/logs/nope")).status, 404);
    const bad = await call("status=weird");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.details[0].fieldViolations[0].field, "status");
  } finally {
    await h.close();
  }
});

Deno.test("logs: a suspended key's 403 quotes the key; the client (both dialects) and the error log only see it masked", async () => {
  const h = await startHarness({ keys: [fakeKey(7)] });
  const admin = adminApi(h);
  try {
    h.mock.setKey(fakeKey(7), { denied: "suspended" });
    const r = await generate(h, h.token, "gemini-2.5-flash");
    assert.equal(r.status, 403);
    assert.match(r.text, /has been suspended/);
    assert.ok(!r.text.includes(fakeKey(7)), "the native client response has no full key");
    assert.ok(r.text.includes("AIza…xxx7"));

    h.gw.pool.setEnabled(h.gw.pool.records()[0].id, true);
    h.gw.pool.reset(h.gw.pool.records()[0].id);
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    await assert.rejects(
      () =>
        client.chat.completions.create({
          model: "gemini-2.5-flash",
          messages: [{ role: "user", content: "x" }],
        }),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.APIError);
        assert.ok(
          !JSON.stringify(e.error).includes(fakeKey(7)),
          "the OpenAI client response has no full key",
        );
        assert.ok(!e.message.includes(fakeKey(7)));
        return true;
      },
    );

    const errs = await admin("GET", "/logs?kind=error");
    assert.ok(errs.json.entries.length >= 1);
    const detail = await admin("GET", `/logs/${errs.json.entries.at(-1).id}`);
    assert.equal(detail.json.status, 403);
    const body = JSON.parse(detail.json.error);
    assert.equal(body.error.status, "PERMISSION_DENIED");
    assert.match(body.error.message, /Consumer 'api_key:AIza…xxx7' has been suspended/);
    const everything = await Array.fromAsync(
      h.gw.kv.list({ prefix: ["logs"] }),
      (e) => JSON.stringify(e.value),
    );
    assert.ok(everything.length > 0);
    assert.ok(everything.every((v) => !v.includes(fakeKey(7))), "no full key stored in the logs");
  } finally {
    await h.close();
  }
});

const rec = (time: number, status = 200) => requestRecord(time, { status, latencyMs: 5 });

Deno.test("log store: the sweeper deletes entries past the retention; logsEnabled=false records nothing", async () => {
  const kv = await Deno.openKv(":memory:");
  let now = 1_700_000_000_000;
  const settings = { logsEnabled: true, logRetentionHours: 1 };
  const logs = new LogStore({ kv, settings: () => settings, now: () => now });
  try {
    logs.record(rec(now - 10_000, 500));
    logs.record(rec(now - 5_000));
    await logs.flush();
    assert.equal((await logs.query()).entries.length, 2);
    assert.equal((await logs.query({ kind: "error" })).entries.length, 1);
    now += 30 * 60_000;
    logs.record(rec(now));
    await logs.flush();
    assert.equal(await logs.sweep(), 0, "nothing is old yet");
    now += 31 * 60_000; // the first two are now 61 minutes old
    assert.equal(
      await logs.sweep(),
      2,
      "the page holding the two old requests and the page of their error entry",
    );
    const left = await Array.fromAsync(kv.list({ prefix: ["logs"] }));
    assert.equal(left.length, 1);
    assert.equal((await logs.query()).entries.length, 1);

    settings.logsEnabled = false;
    logs.record(rec(now));
    await logs.flush();
    assert.equal((await Array.fromAsync(kv.list({ prefix: ["logs"] }))).length, 1);
  } finally {
    await logs.close();
    kv.close();
  }
});

Deno.test("log store: cursor paging walks every entry once, newest first, across stored pages", async () => {
  const kv = await Deno.openKv(":memory:");
  const now = 1_700_000_000_000;
  const logs = new LogStore({
    kv,
    settings: () => ({ logsEnabled: true, logRetentionHours: 1 }),
    now: () => now,
  });
  try {
    for (let i = 0; i < 450; i++) logs.record(rec(now - 100_000 + i * 10, i % 7 === 0 ? 503 : 200));
    await logs.flush();
    assert.ok(
      (await Array.fromAsync(kv.list({ prefix: ["logs", "req"] }))).length >= 3,
      "several pages stored",
    );
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await logs.query({ limit: 70, cursor });
      seen.push(...page.entries.map((e) => e.time));
      cursor = page.next;
    } while (cursor);
    assert.equal(seen.length, 450);
    assert.equal(new Set(seen).size, 450);
    assert.deepEqual(seen, [...seen].sort((a, b) => b - a));
    const errors = await logs.query({ kind: "error", limit: 500 });
    assert.equal(errors.entries.length, Math.ceil(450 / 7));
    const one = seen[123];
    const id = (await logs.query({ from: one, to: one })).entries[0].id;
    assert.equal((await logs.get(id))?.time, one);
  } finally {
    await logs.close();
    kv.close();
  }
});

Deno.test("log store: long non-ASCII errors fit the KV value limit and come back intact", async () => {
  const kv = await Deno.openKv(":memory:");
  const now = 1_700_000_000_000;
  const failures: unknown[] = [];
  const realError = console.error;
  console.error = (...args: unknown[]) => failures.push(args);
  const logs = new LogStore({
    kv,
    settings: () => ({ logsEnabled: true, logRetentionHours: 1 }),
    now: () => now,
  });
  try {
    const message = "配额已用尽 — quota épuisé 🚫 ".repeat(400); // far over 8,000 characters, mostly non-Latin-1
    for (let i = 0; i < 300; i++) {
      logs.record(requestRecord(now - 50_000 + i, { status: 429, error: message, path: `/v1beta/ü/${i}` }));
    }
    await logs.flush();
    assert.deepEqual(failures, [], "every page was stored");
    const back = await logs.query({ kind: "error", limit: 500 });
    assert.equal(back.entries.length, 300);
    assert.equal(back.entries[0].error, message.slice(0, 8_000));
    assert.equal(back.entries[299].path, "/v1beta/ü/0");
  } finally {
    console.error = realError;
    await logs.close();
    kv.close();
  }
});
