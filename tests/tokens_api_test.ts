/**
 * Named client tokens end to end: created through the admin API, used with the official SDKs, and
 * refused in the caller's dialect when over their rpm, quota, allow-list, expiry, or revoked.
 */
import assert from "node:assert/strict";
import { ApiError, GoogleGenAI } from "./support/sdk/genai.ts";
import OpenAI from "./support/sdk/openai.ts";
import { adminApi } from "./support/admin_api.ts";
import { type Harness, startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";
import { envTokenName } from "../lib/tokens/token_store.ts";

const native = (h: Harness, token: string, model?: string) => nativeGenerate(h, { token, model });

Deno.test("tokens API: create shows the token once, lists a prefix and usage; names are unique; 400 names the field", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const c = await admin("POST", "/tokens", { name: "app-1", rpm: 5, models: ["gemini-2.5-flash"] });
    assert.equal(c.status, 200);
    assert.match(c.json.token, /^gwt_[0-9A-Za-z]{32}$/);
    assert.equal(c.json.info.name, "app-1");
    assert.equal(c.json.info.prefix, c.json.token.slice(0, 8));
    assert.equal(c.json.info.revoked, false);
    assert.deepEqual(c.json.info.usageToday, { requests: 0, inputTokens: 0, outputTokens: 0 });
    const all = await Array.fromAsync(h.gw.kv.list({ prefix: [] }), (e) => e.value);
    const stored = JSON.stringify(all, (_, v) => typeof v === "bigint" ? String(v) : v);
    assert.ok(!stored.includes(c.json.token), "the token itself is never stored");

    const ai = new GoogleGenAI({ apiKey: c.json.token, httpOptions: { baseUrl: h.url } });
    const res = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
    assert.equal(res.text, "echo: hi");

    const list = await admin("GET", "/tokens");
    assert.equal(list.status, 200);
    assert.equal(list.json.tokens.length, 1);
    const t = list.json.tokens[0];
    assert.equal(t.usageToday.requests, 1);
    assert.ok(t.usageToday.inputTokens > 0);
    assert.ok(!JSON.stringify(list.json).includes(c.json.token));

    const dup = await admin("POST", "/tokens", { name: "app-1" });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.status, "ALREADY_EXISTS");
    const bad = await admin("POST", "/tokens", { name: "x", rpm: -1 });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /^rpm: /);
    assert.equal(bad.json.error.details[0].fieldViolations[0].field, "rpm");
  } finally {
    await h.close();
  }
});

Deno.test("tokens: over the rpm -> 429 with Retry-After in both dialects; ALLOWED_TOKENS stay unlimited", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const { json } = await admin("POST", "/tokens", { name: "slow", rpm: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await native(h, json.token);
      assert.equal(r.status, 200);
      await r.body?.cancel();
    }
    const r = await native(h, json.token);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
    const body = await r.json();
    assert.equal(body.error.status, "RESOURCE_EXHAUSTED");
    assert.match(body.error.message, /'slow' is limited to 2 requests per minute/);

    const oa = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${json.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(oa.status, 429);
    assert.ok(oa.headers.get("retry-after"));
    assert.equal((await oa.json()).error.code, "rate_limit_exceeded");

    for (let i = 0; i < 4; i++) {
      const ok = await native(h, h.token);
      assert.equal(ok.status, 200, "the env token has no limits");
      await ok.body?.cancel();
    }
  } finally {
    await h.close();
  }
});

Deno.test("tokens: a model outside the allow-list -> 403 in Google's envelope (native) and OpenAI's (/v1/chat/completions)", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const { json } = await admin("POST", "/tokens", { name: "flash-only", models: ["gemini-2.5-flash"] });
    const ai = new GoogleGenAI({ apiKey: json.token, httpOptions: { baseUrl: h.url } });
    const ok = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" });
    assert.equal(ok.text, "echo: x");
    const before = h.mock.requests.length;
    await assert.rejects(
      () => ai.models.generateContent({ model: "gemini-2.5-pro", contents: "x" }),
      (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 403);
        assert.match(e.message, /may not use model 'gemini-2\.5-pro'; allowed models: gemini-2\.5-flash/);
        return true;
      },
    );
    const raw = await native(h, json.token, "gemini-2.5-pro");
    assert.equal(raw.status, 403);
    assert.equal((await raw.json()).error.status, "PERMISSION_DENIED");

    const client = new OpenAI({ apiKey: json.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    await assert.rejects(
      () =>
        client.chat.completions.create({
          model: "gemini-2.5-pro",
          messages: [{ role: "user", content: "x" }],
        }),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.PermissionDeniedError);
        assert.match(e.message, /may not use model 'gemini-2\.5-pro'/);
        return true;
      },
    );
    assert.equal(h.mock.requests.length, before, "refused requests never go upstream");
    const chat = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "y" }],
    });
    assert.equal(chat.choices[0].message.content, "echo: y");
  } finally {
    await h.close();
  }
});

Deno.test("tokens: daily token quota -> 429 until Pacific midnight; expired and revoked -> 401", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const q = await admin("POST", "/tokens", { name: "tiny", dailyTokens: 1 });
    const first = await native(h, q.json.token);
    assert.equal(first.status, 200, "under the quota before the first answer");
    await first.json();
    const over = await native(h, q.json.token);
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get("retry-after")) >= 1);
    assert.match((await over.json()).error.message, /'tiny' used its 1 tokens for today/);

    const e = await admin("POST", "/tokens", { name: "old", expiresAt: Date.now() - 1000 });
    const expired = await native(h, e.json.token);
    assert.equal(expired.status, 401);
    assert.match((await expired.json()).error.message, /'old' has expired/);

    const v = await admin("POST", "/tokens", { name: "gone" });
    const before = await native(h, v.json.token);
    assert.equal(before.status, 200);
    await before.body?.cancel();
    const rv = await admin("POST", "/tokens/revoke", { id: v.json.info.id });
    assert.deepEqual(rv.json, { revoked: true });
    const after = await native(h, v.json.token);
    assert.equal(after.status, 401);
    assert.match((await after.json()).error.message, /'gone' was revoked/);
    const oa = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${v.json.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(oa.status, 401);
    assert.equal((await oa.json()).error.code, "invalid_api_key");
    const list = await admin("GET", "/tokens");
    assert.equal(list.json.tokens.find((t: { name: string }) => t.name === "gone").revoked, true);
    assert.equal((await admin("POST", "/tokens/revoke", { id: "nope" })).status, 404);
  } finally {
    await h.close();
  }
});

Deno.test("tokens: a second gateway on the same KV learns a new token and a revocation through the change feed", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  const a = await startHarness({ env: { KV_PATH: path, SYNC_INTERVAL_MS: "50" } });
  const b = await startHarness({ env: { KV_PATH: path, SYNC_INTERVAL_MS: "50" }, useMock: a.mock });
  try {
    const { json } = await adminApi(a)("POST", "/tokens", { name: "shared" });
    // b loaded its tokens before this one existed: only the change feed can tell it.
    await b.gw.feed.sync();
    await waitFor(() => b.gw.tokens.list().length === 1);
    const r = await native(b, json.token);
    assert.equal(r.status, 200);
    await r.body?.cancel();
    await adminApi(a)("POST", "/tokens/revoke", { id: json.info.id });
    await b.gw.feed.sync();
    await waitFor(() => b.gw.tokens.list()[0].revoked);
    assert.equal((await native(b, json.token)).status, 401);
  } finally {
    await b.close();
    await a.close();
    await Deno.remove(path).catch(() => {});
  }
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), "condition never became true");
}

Deno.test("tokens: ALLOWED_TOKENS tokens that end alike never share a name in logs and usage; admin names cannot take their shape", async () => {
  // Two tokens with the same last four characters whose SHA-256 also share their first 8 hex digits
  // (dd7424b0): the fingerprint grows until the names differ.
  const [a, b, c] = ["collide-9210-9999", "collide-97535-9999", "other-app-secret-9999"];
  const h = await startHarness({ env: { ALLOWED_TOKENS: [a, b, c].join(",") } });
  const admin = adminApi(h);
  try {
    for (const token of [a, b, c]) assert.equal((await native(h, token)).status, 200);
    const names = h.records.filter((r) => r.path.includes(":generateContent")).map((r) => r.tokenName!);
    assert.equal(new Set(names).size, 3, `three tokens, three names: ${names}`);
    for (const name of names) assert.match(name, /^token-9999-[0-9a-f]{8,}$/);
    assert.equal(names[2], envTokenName(c), "a token alone with its fingerprint keeps 8 hex digits");
    assert.ok(names[0].length > names[2].length, `the shared fingerprint grew: ${names}`);
    for (const name of names) assert.equal(h.gw.limits.usageToday(name).requests, 1, name);

    const taken = await admin("POST", "/tokens", { name: envTokenName(c) });
    assert.equal(taken.status, 400);
    const lookalike = await admin("POST", "/tokens", { name: "token-abcd-0123456789" });
    assert.equal(lookalike.status, 400, "the shape is reserved even when no env token has that name");
    assert.equal((await admin("POST", "/tokens", { name: "token-app" })).status, 200);
  } finally {
    await h.close();
  }
});
