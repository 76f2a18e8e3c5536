/**
 * Limits hold in total when several gateways (workers, processes, instances) serve from one KV:
 * a key's learned requests per minute, a client token's requests per minute and its daily tokens.
 * Two gateways on one KV file stand in for two workers or processes.
 */
import assert from "node:assert/strict";
import { fakeKey, type Harness } from "./support/harness.ts";
import { adminApi } from "./support/admin_api.ts";
import { twoGateways, waitFor } from "./support/two_gateways.ts";
import { nativeGenerate } from "./support/requests.ts";
import { shareOf } from "../lib/cluster/members.ts";
import { retryWhenBusy } from "../lib/kv/busy_retry.ts";

async function statuses(h: Harness, n: number, token = h.token): Promise<number[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = await nativeGenerate(h, { token });
    await r.body?.cancel();
    out.push(r.status);
  }
  return out;
}

Deno.test("shares: the split of a limit adds up to the limit for any number of gateways", () => {
  for (const limit of [1, 2, 5, 15, 30, 1000]) {
    for (const count of [1, 2, 3, 7]) {
      for (const salt of [0, 1, 12345]) {
        let sum = 0;
        for (let rank = 0; rank < count; rank++) sum += shareOf(limit, { count, rank }, salt);
        assert.equal(sum, limit, `limit ${limit}, ${count} gateways, salt ${salt}`);
      }
    }
  }
});

Deno.test("two gateways on one KV send no more than a key's learned per-minute limit in total", async () => {
  const { a, b, close } = await twoGateways();
  try {
    const model = "gemini-2.5-flash";
    const id = a.gw.pool.records()[0].id;
    // Google's 429 taught gateway A the limit (4 a minute); the window it named ends in 50 ms.
    const until = Date.now() + 50;
    a.gw.pool.report(id, model, { kind: "cooldown", window: "minute", until, reason: "rpm", limit: 4 });
    await a.gw.store.flush();
    await waitFor(() => b.gw.pool.pairs().some((p) => p.model === model && p.state.learned.rpm === 4));
    await waitFor(() => Date.now() > until + 5);
    const served = [...await statuses(a, 6), ...await statuses(b, 6)];
    assert.equal(a.mock.callsFor(fakeKey(1)), 4, `upstream calls in the new window: ${served.join(",")}`);
    assert.equal(served.filter((s) => s === 200).length, 4);
    assert.equal(served.filter((s) => s === 429).length, 8);
  } finally {
    await close();
  }
});

Deno.test("a client token's rpm holds across two gateways on one KV", async () => {
  const { a, b, close } = await twoGateways([fakeKey(1), fakeKey(2)]);
  try {
    const { json } = await adminApi(a)("POST", "/tokens", { name: "shared-rpm", rpm: 4 });
    await waitFor(() => !!b.gw.tokens.byName("shared-rpm"));
    const served = [...await statuses(a, 5, json.token), ...await statuses(b, 5, json.token)];
    assert.equal(served.filter((s) => s === 200).length, 4, served.join(","));
  } finally {
    await close();
  }
});

Deno.test("a client token's daily tokens count every gateway's usage, flushed or not yet", async () => {
  const { a, b, close } = await twoGateways([fakeKey(1), fakeKey(2)]);
  try {
    const probe = await nativeGenerate(a, { token: a.token });
    await probe.body?.cancel();
    const last = a.records.at(-1)!;
    const perRequest = (last.inputTokens ?? 0) + (last.outputTokens ?? 0);
    assert.ok(perRequest > 0);
    // Room for 5 requests in total; A serves 3 (written to KV), B serves 2 (not written yet).
    const { json } = await adminApi(a)("POST", "/tokens", {
      name: "shared-day",
      dailyTokens: 5 * perRequest,
    });
    await waitFor(() => !!b.gw.tokens.byName("shared-day"));
    assert.deepEqual(await statuses(a, 3, json.token), [200, 200, 200]);
    await a.gw.usage.flush();
    assert.deepEqual(await statuses(b, 2, json.token), [200, 200]);
    await a.gw.limits.seed(["shared-day"]);
    await b.gw.limits.seed(["shared-day"]);
    assert.equal(
      b.gw.limits.usageToday("shared-day").inputTokens + b.gw.limits.usageToday("shared-day").outputTokens,
      5 * perRequest,
    );
    assert.deepEqual(await statuses(b, 1, json.token), [429], "B counts A's usage and its own");
    await b.gw.usage.flush();
    await a.gw.limits.seed(["shared-day"]);
    assert.deepEqual(await statuses(a, 1, json.token), [429], "A counts B's usage");
  } finally {
    await close();
  }
});

Deno.test("a key Google has not judged yet is tried by one gateway only: an invalid key costs one call in all", async () => {
  const { a, b, close } = await twoGateways([fakeKey(1), fakeKey(2)]);
  try {
    a.mock.setKey(fakeKey(9), { invalid: true });
    const added = await adminApi(a)("POST", "/keys", { text: fakeKey(9) });
    assert.equal(added.status, 200);
    await waitFor(() => b.gw.pool.size === 3);
    // Both gateways serve at once: each would try the new key in its first round.
    const burst = (h: Harness) => Promise.all(Array.from({ length: 6 }, () => statuses(h, 1)));
    const served = (await Promise.all([burst(a), burst(b)])).flat(2);
    assert.deepEqual(served, Array(12).fill(200));
    assert.equal(a.mock.callsFor(fakeKey(9)), 1, "one call to the invalid key from both gateways");
    await waitFor(() => a.gw.pool.records().every((r) => r.enabled !== (r.key === fakeKey(9))));
    await waitFor(() => b.gw.pool.records().every((r) => r.enabled !== (r.key === fakeKey(9))));
  } finally {
    await close();
  }
});

Deno.test("a write that meets another worker's lock on the KV file waits and tries again", async () => {
  let commits = 0;
  let sets = 0;
  const fake = {
    atomic: () => ({
      commit: () => {
        commits++;
        return commits < 3
          ? Promise.reject(new TypeError("database is locked"))
          : Promise.resolve({ ok: true });
      },
    }),
    set: () => {
      sets++;
      return Promise.reject(new TypeError("not a KV value"));
    },
    get: () => Promise.resolve({ value: 1 }),
  } as unknown as Deno.Kv;
  const kv = retryWhenBusy(fake);
  assert.deepEqual(await kv.atomic().commit(), { ok: true });
  assert.equal(commits, 3, "two busy answers, then written");
  await assert.rejects(kv.set(["k"], 1), /not a KV value/);
  assert.equal(sets, 1, "other errors are not retried");
  assert.deepEqual(await kv.get(["k"]), { value: 1 });
});
