/**
 * Two gateways on one KV file and one mock upstream, standing in for two workers (`WORKERS=2`) or two
 * processes serving from the same KV.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fakeKey, type Harness, startHarness } from "./harness.ts";
import { MockGemini } from "./mock_gemini.ts";
import { nativeGenerate } from "./requests.ts";
import { adminApi } from "./admin_api.ts";

/** Waits until `cond` holds, polling every 20 ms; throws after `ms`. */
export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Two gateways on one KV file and one mock upstream, neither serving yet (both idle: each would pace
 * against the whole of every limit). `keys` and `env` go to both.
 */
export async function idleGateways(
  keys = [fakeKey(1)],
  env: Record<string, string> = {},
): Promise<{ a: Harness; b: Harness; mock: MockGemini; close(): Promise<void> }> {
  const dir = await Deno.makeTempDir();
  const mock = await MockGemini.start();
  const shared = { KV_PATH: `${dir}/kv.sqlite3`, SYNC_INTERVAL_MS: "50", ...env };
  const a = await startHarness({ keys, env: shared, useMock: mock });
  const b = await startHarness({ keys, env: shared, useMock: mock });
  return {
    a,
    b,
    mock,
    async close() {
      await a.close();
      await b.close();
      await mock.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * Sets `limits` on `model` for A's first key through the admin API and waits until B has them too.
 * Answers the key's id.
 */
export async function limitFirstKey(
  a: Harness,
  b: Harness,
  model: string,
  limits: { rpm: number; rpd: number },
): Promise<string> {
  const id = a.gw.pool.records()[0].id;
  const set = await adminApi(a)("POST", "/keys/update", { ids: [id], limits: { [model]: limits } });
  assert.equal(set.status, 200, JSON.stringify(set.json));
  await a.gw.store.flush();
  await waitFor(() => b.gw.pool.get(id)?.limits?.[model]?.rpm === limits.rpm);
  return id;
}

/**
 * Two gateways on one KV file and one mock upstream, both serving already (so both are active and
 * each paces against half of every limit). `env` adds settings to both.
 */
export async function twoGateways(
  keys = [fakeKey(1)],
  env: Record<string, string> = {},
): Promise<{ a: Harness; b: Harness; close(): Promise<void> }> {
  const { a, b, mock, close } = await idleGateways(keys, env);
  for (const h of [a, b]) {
    assert.equal((await nativeGenerate(h, { token: h.token, model: "gemini-2.0-flash" })).status, 200);
  }
  // Each announced itself when it started serving; the other hears of it through the change feed.
  await waitFor(() => a.gw.members.share().count === 2 && b.gw.members.share().count === 2);
  mock.reset();
  return { a, b, close };
}
