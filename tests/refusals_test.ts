/**
 * Requests the gateway refuses itself (tokens, limits, allow-lists, body size) are counted and logged
 * apart from upstream errors; the clients' own mistakes are counted apart from the success rate; a
 * flood is counted one by one but logged aggregated per address and minute; failed authentications are
 * throttled per client address.
 */
import assert from "node:assert/strict";
import { adminApi } from "./support/admin_api.ts";
import { startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";
import type { LogEntry } from "../lib/logs/log_store.ts";

type Admin = ReturnType<typeof adminApi>;

async function refusedEntries(admin: Admin, extra = ""): Promise<LogEntry[]> {
  const r = await admin("GET", `/logs?outcome=refused&limit=500${extra}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.entries;
}

async function send(url: string, init: RequestInit = {}): Promise<Response> {
  const r = await fetch(url, init);
  await r.body?.cancel();
  return r;
}

const JSON_POST = (token: string | undefined, body: string, extra: Record<string, string> = {}) => ({
  method: "POST",
  headers: {
    "content-type": "application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  },
  body,
});
const CHAT = (model = "gemini-2.5-flash") =>
  JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] });

Deno.test("refusals: every kind is refused, counted apart from upstream errors and logged with its reason, address and route", async () => {
  const h = await startHarness({ env: { MAX_BODY_BYTES: "2048" } });
  const admin = adminApi(h);
  try {
    const limited = (await admin("POST", "/tokens", { name: "one-a-minute", rpm: 1 })).json.token;
    const flashOnly = (await admin("POST", "/tokens", { name: "flash-only", models: ["gemini-2.5-flash"] }))
      .json.token;
    const expired = (await admin("POST", "/tokens", { name: "expired", expiresAt: 1 })).json.token;
    const revoked = (await admin("POST", "/tokens", { name: "revoked" })).json;
    await admin("POST", "/tokens/revoke", { id: revoked.info.id });
    const tiny = (await admin("POST", "/tokens", { name: "tiny-quota", dailyTokens: 1 })).json.token;

    const chat = `${h.url}/v1/chat/completions`;
    const expect = async (status: number, init: RequestInit, url = chat) =>
      assert.equal((await send(url, init)).status, status);
    await expect(401, JSON_POST(undefined, CHAT()));
    await expect(401, JSON_POST("not-a-real-token", CHAT()));
    await expect(401, JSON_POST(expired, CHAT()));
    await expect(401, JSON_POST(revoked.token, CHAT()));
    await expect(200, JSON_POST(limited, CHAT()));
    await expect(429, JSON_POST(limited, CHAT()));
    await expect(403, JSON_POST(flashOnly, CHAT("gemini-2.5-pro")));
    await expect(200, JSON_POST(tiny, CHAT()));
    await expect(429, JSON_POST(tiny, CHAT()));
    await expect(413, JSON_POST(h.token, JSON.stringify({ pad: "x".repeat(5000) })));
    const native = await nativeGenerate(h, { token: "wrong-native-token" });
    await native.body?.cancel();
    assert.equal(native.status, 401);

    const m = (await admin("GET", "/metrics?range=1h")).json;
    const sum = (k: string) => m.buckets.reduce((n: number, b: Record<string, number>) => n + b[k], 0);
    const reasons = Object.fromEntries(
      m.refusals.map((r: { reason: string; count: number }) => [r.reason, r.count]),
    );
    assert.equal(sum("refused"), 9, JSON.stringify(reasons));
    assert.equal(sum("rateLimited"), 0, "the gateway's own refusals are not Google's rate limits");
    assert.equal(sum("errors"), 0);
    assert.equal(sum("ok"), 3, "two chats and the model list fetched at start");
    assert.deepEqual(reasons, {
      missing_token: 1,
      invalid_token: 2,
      expired_token: 1,
      revoked_token: 1,
      token_rate_limit: 1,
      model_not_allowed: 1,
      token_quota: 1,
      body_too_large: 1,
    });

    h.gw.refusals.flush();
    const entries = await refusedEntries(admin);
    assert.equal(entries.length, 9);
    for (const e of entries) {
      assert.equal(e.source, "127.0.0.1", JSON.stringify(e));
      assert.equal(e.outcome, "refused");
      assert.ok(e.refusal, JSON.stringify(e));
    }
    const byReason = (r: string) => entries.filter((e) => e.refusal === r);
    assert.equal(byReason("invalid_token").length, 2);
    const quota = byReason("token_quota")[0];
    assert.equal(quota.tokenName, "tiny-quota");
    assert.equal(quota.clientPath, "/v1/chat/completions");
    assert.equal(quota.status, 429);
    const nativeEntry = byReason("invalid_token").find((e) => e.route === "gemini")!;
    assert.equal(nativeEntry.clientPath, "/v1beta/models/gemini-2.5-flash:generateContent");
    const denied = byReason("model_not_allowed")[0];
    assert.equal(denied.tokenName, "flash-only");
    assert.equal(denied.clientModel, "gemini-2.5-pro");
    assert.equal(h.mock.requests.filter((r) => r.path.includes(":generateContent")).length, 2);
  } finally {
    await h.close();
  }
});

Deno.test("client errors (unknown model, bad JSON) are counted apart from the success rate, not as failures", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    assert.equal((await send(`${h.url}/v1/chat/completions`, JSON_POST(h.token, "{not json"))).status, 400);
    const unknown = await nativeGenerate(h, { token: h.token, model: "gemini-no-such-model" });
    await unknown.body?.cancel();
    assert.equal(unknown.status, 404);
    const ok = await nativeGenerate(h, { token: h.token });
    await ok.body?.cancel();
    const m = (await admin("GET", "/metrics?range=1h")).json;
    const sum = (k: string) => m.buckets.reduce((n: number, b: Record<string, number>) => n + b[k], 0);
    // ok: the request above and the model list fetched at start.
    assert.deepEqual([sum("ok"), sum("errors"), sum("clientErrors"), sum("refused")], [2, 0, 2, 0]);
    h.gw.refusals.flush();
    const logged = (await admin("GET", "/logs?outcome=client_error")).json.entries as LogEntry[];
    assert.deepEqual(logged.map((e) => e.status).toSorted(), [400, 404]);
    assert.equal(logged.find((e) => e.status === 404)?.clientModel, "gemini-no-such-model");
  } finally {
    await h.close();
  }
});

Deno.test("a flood of bad tokens is counted one by one but logged as a few aggregated entries", async () => {
  const h = await startHarness({ env: { AUTH_FAILURES_PER_MINUTE: "0", TRUSTED_PROXIES: "127.0.0.1" } });
  const admin = adminApi(h);
  /** Log entries stored in KV (request log pages hold every entry; the error log repeats failures). */
  const storedEntries = async () => {
    let n = 0;
    for await (const page of h.gw.kv.list<{ entries: Uint8Array }>({ prefix: ["logs", "req"] })) {
      n += JSON.parse(new TextDecoder().decode(page.value.entries)).length;
    }
    return n;
  };
  try {
    const chat = `${h.url}/v1/chat/completions`;
    const flood = 600;
    for (let i = 0; i < flood; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () => send(chat, JSON_POST(`guess-${crypto.randomUUID()}`, CHAT()))),
      );
    }
    // 300 more from 300 different addresses (forwarded by a trusted proxy): more than the groups kept.
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, j) =>
            send(
              chat,
              JSON_POST("guess", CHAT(), {
                "x-forwarded-for": `203.0.113.${(i + j) % 250}, 10.9.${i + j}.1`,
              }),
            ),
        ),
      );
    }
    const m = (await admin("GET", "/metrics?range=1h")).json;
    const refused = m.buckets.reduce((n: number, b: { refused: number }) => n + b.refused, 0);
    assert.equal(refused, flood + 300, "every refusal is counted");

    h.gw.refusals.flush();
    const entries = await refusedEntries(admin);
    const total = entries.reduce((n, e) => n + (e.count ?? 1), 0);
    assert.equal(total, flood + 300, "the entries stand for every refusal");
    const local = entries.filter((e) => e.source === "127.0.0.1");
    // The first refusal and one entry for the rest of the minute (twice if a minute ended meanwhile).
    assert.ok(
      local.length >= 2 && local.length <= 4,
      `local entries: ${local.map((e) => e.count).join(",")}`,
    );
    assert.ok(entries.length <= 2 * 101 + 4, `entries: ${entries.length}`);
    assert.ok(entries.some((e) => e.source === "*"), "addresses beyond the kept groups are merged");
    await h.gw.logs.flush();
    const stored = await storedEntries();
    assert.ok(stored <= 2 * 101 + 4 + 1, `log entries in KV: ${stored} for ${flood + 300} refusals`);
  } finally {
    await h.close();
  }
});

Deno.test("failed authentications are throttled per client address; tokens that worked from it keep working", async () => {
  const h = await startHarness({ env: { AUTH_FAILURES_PER_MINUTE: "5", TRUSTED_PROXIES: "127.0.0.1/32" } });
  const admin = adminApi(h);
  try {
    const fresh = (await admin("POST", "/tokens", { name: "fresh" })).json.token;
    const chat = `${h.url}/v1/chat/completions`;
    const from = (addr: string) => ({ "x-forwarded-for": addr });
    assert.equal((await send(chat, JSON_POST(h.token, CHAT(), from("198.51.100.7")))).status, 200);
    for (let i = 0; i < 5; i++) {
      assert.equal((await send(chat, JSON_POST(`guess-${i}`, CHAT(), from("198.51.100.7")))).status, 401);
    }
    const throttled = await send(chat, JSON_POST("guess-5", CHAT(), from("198.51.100.7")));
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get("retry-after")) >= 1);
    // A valid token never used from this address learns nothing either: same answer as a guess.
    assert.equal((await send(chat, JSON_POST(fresh, CHAT(), from("198.51.100.7")))).status, 429);
    // The token that worked from this address before still works; other addresses are not affected.
    assert.equal((await send(chat, JSON_POST(h.token, CHAT(), from("198.51.100.7")))).status, 200);
    assert.equal((await send(chat, JSON_POST("guess-x", CHAT(), from("198.51.100.8")))).status, 401);
    assert.equal((await send(chat, JSON_POST(fresh, CHAT(), from("198.51.100.8")))).status, 200);
    h.gw.refusals.flush();
    const throttledLog = await refusedEntries(admin, "&status=429");
    assert.equal(throttledLog[0].refusal, "auth_throttled");
    assert.equal(throttledLog[0].source, "198.51.100.7");
  } finally {
    await h.close();
  }
});

Deno.test("X-Forwarded-For from an untrusted peer is ignored", async () => {
  const h = await startHarness({ env: { AUTH_FAILURES_PER_MINUTE: "2" } });
  try {
    const chat = `${h.url}/v1/chat/completions`;
    for (let i = 0; i < 2; i++) {
      const spoof = { "x-forwarded-for": `192.0.2.${i}` };
      assert.equal((await send(chat, JSON_POST(`guess-${i}`, CHAT(), spoof))).status, 401);
    }
    const spoofed = await send(chat, JSON_POST("guess-3", CHAT(), { "x-forwarded-for": "192.0.2.99" }));
    assert.equal(spoofed.status, 429, "a new forwarded address does not escape the throttle");
  } finally {
    await h.close();
  }
});

Deno.test("logs name the route the client called, the model it asked for and the model used", async () => {
  const h = await startHarness({ env: { ALIASES: JSON.stringify({ "gpt-4o": "gemini-2.5-flash" }) } });
  const admin = adminApi(h);
  try {
    assert.equal(
      (await send(`${h.url}/v1/chat/completions`, JSON_POST(h.token, CHAT("gpt-4o")))).status,
      200,
    );
    const native = await nativeGenerate(h, { token: h.token, model: "gemini-2.5-flash-nothinking" });
    await native.body?.cancel();
    const entries = (await admin("GET", "/logs")).json.entries as LogEntry[];
    const openai = entries.find((e) => e.route === "openai")!;
    assert.equal(openai.clientMethod, "POST");
    assert.equal(openai.clientPath, "/v1/chat/completions");
    assert.equal(openai.clientModel, "gpt-4o");
    assert.equal(openai.model, "gemini-2.5-flash");
    assert.equal(openai.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    const gemini = entries.find((e) => e.route === "gemini")!;
    assert.equal(gemini.clientPath, "/v1beta/models/gemini-2.5-flash-nothinking:generateContent");
    assert.equal(gemini.clientModel, "gemini-2.5-flash-nothinking");
    assert.equal(gemini.model, "gemini-2.5-flash");
    assert.equal(gemini.source, "127.0.0.1");
  } finally {
    await h.close();
  }
});

Deno.test("the failed-authentication throttle counts an IPv6 client per /64: one host's many addresses share one throttle", async () => {
  const h = await startHarness({ env: { AUTH_FAILURES_PER_MINUTE: "3", TRUSTED_PROXIES: "127.0.0.1/32" } });
  try {
    const chat = `${h.url}/v1/chat/completions`;
    // One host (a /64 is what a single IPv6 subscriber or VM gets) guesses from a fresh address each
    // time: counted per address, it would never be throttled.
    const from = (i: number) => ({ "x-forwarded-for": `2001:db8:1:2::${(i + 1).toString(16)}` });
    for (let i = 0; i < 3; i++) {
      assert.equal((await send(chat, JSON_POST(`guess-${i}`, CHAT(), from(i)))).status, 401);
    }
    const throttled = await send(chat, JSON_POST("guess-3", CHAT(), from(3)));
    assert.equal(throttled.status, 429, "the fourth guess from the same /64");
    // Another /64 and IPv4 clients are not affected.
    const other = { "x-forwarded-for": "2001:db8:1:3::1" };
    assert.equal((await send(chat, JSON_POST("guess-x", CHAT(), other))).status, 401);
    assert.equal(
      (await send(chat, JSON_POST(h.token, CHAT(), { "x-forwarded-for": "198.51.100.9" }))).status,
      200,
    );
  } finally {
    await h.close();
  }
});
