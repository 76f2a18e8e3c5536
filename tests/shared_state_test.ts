/**
 * Key state survives a restart and is shared between gateways on one KV file (by polling) and
 * settings changes apply without a restart.
 */
import assert from "node:assert/strict";
import { createGateway } from "../gateway.ts";
import { MockGemini } from "./support/mock_gemini.ts";
import { fakeKey } from "./support/harness.ts";

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

function envFor(path: string, mockUrl: string) {
  return {
    KV_PATH: path,
    GEMINI_API_KEYS: [fakeKey(1), fakeKey(2)].join(","),
    ALLOWED_TOKENS: "client-token-abcdef",
    ADMIN_TOKEN: "admin-token-abcdef-123",
    UPSTREAM_BASE_URL: mockUrl,
    SYNC_INTERVAL_MS: "50",
  };
}

Deno.test("cooldowns and disabled keys survive a restart; two processes on one KV file share them", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite3`;
  const mock = await MockGemini.start();
  try {
    const a = await createGateway({ env: envFor(path, mock.url) });
    const b = await createGateway({ env: envFor(path, mock.url) }); // a second process on the same file
    const id1 = a.pool.records().find((r) => r.key === fakeKey(1))!.id;
    const id2 = a.pool.records().find((r) => r.key === fakeKey(2))!.id;
    a.pool.report(id1, "gemini-2.5-pro", {
      kind: "cooldown",
      window: "minute",
      until: Date.now() + 60_000,
      reason: "rpm",
      limit: 5,
    });
    a.pool.report(id2, "gemini-2.5-pro", { kind: "disable", reason: "API_KEY_INVALID: API key not valid." });
    await a.store.flush();
    await waitFor(() => b.pool.get(id2)?.enabled === false && b.pool.cooldownsOf(id1).length === 1);
    assert.equal(b.pool.get(id2)?.disabledReason, "API_KEY_INVALID: API key not valid.");
    // A settings change in one is applied by the other.
    await a.settings.update({ maxAttempts: 7 });
    await waitFor(() => b.settings.current.maxAttempts === 7);
    await a.close();
    await b.close();
    const c = await createGateway({ env: envFor(path, mock.url) });
    try {
      assert.equal(c.pool.get(id2)?.enabled, false, "disabled after restart");
      const cd = c.pool.cooldownsOf(id1);
      assert.equal(cd.length, 1, "cooldown after restart");
      assert.equal(cd[0].model, "gemini-2.5-pro");
      assert.equal(c.settings.current.maxAttempts, 7);
    } finally {
      await c.close();
    }
  } finally {
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("settings: environment pins win and cannot be changed; bad values are refused and nothing is lost", async () => {
  const mock = await MockGemini.start();
  const gw = await createGateway({ env: { ...envFor(":memory:", mock.url), MAX_ATTEMPTS: "4" } });
  try {
    assert.equal(gw.settings.current.maxAttempts, 4);
    await assert.rejects(gw.settings.update({ maxAttempts: 9 }), /MAX_ATTEMPTS/);
    await gw.settings.update({ maxWaitMs: 1234 });
    await assert.rejects(gw.settings.update({ maxWaitMs: -5, requestTimeoutMs: 10 }), /maxWaitMs/);
    assert.equal(gw.settings.current.maxWaitMs, 1234, "the stored value is kept after a refused change");
    assert.equal(gw.settings.current.requestTimeoutMs, 600_000, "a refused change stores none of its fields");
    await assert.rejects(gw.settings.update({ nope: 1 }), /not a setting/);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("a bad environment value stops the start with the variable, the problem and an example", async () => {
  await assert.rejects(createGateway({ env: { KV_PATH: ":memory:", PORT: "eighty" } }), (e: Error) => {
    assert.match(e.message, /^PORT: "eighty" is not a number\. Example of a good value: PORT=8000$/);
    return true;
  });
  await assert.rejects(
    createGateway({ env: { KV_PATH: ":memory:", UPSTREAM_BASE_URL: "ftp://x" } }),
    /UPSTREAM_BASE_URL: .*http/,
  );
});
