/**
 * Backup and restore: one JSON file with settings, keys (labels, limits), client tokens (hashed) and
 * ignored environment keys, restored on another instance; the optional cost estimate.
 */
import assert from "node:assert/strict";
import { ADMIN_TOKEN, adminApi } from "./support/admin_api.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";
import { keyId } from "../lib/pool/key_record.ts";
import type { CostsResponse } from "../lib/admin/api_types.ts";
import { costOf, priceFor } from "../lib/metrics/costs.ts";
import { envTokenName } from "../lib/tokens/token_store.ts";

Deno.test("backup: needs the admin token again; restored on another instance, keys, labels, tokens and settings come along", async () => {
  const a = await startHarness({ keys: [fakeKey(1), fakeKey(2)] });
  const b = await startHarness({ keys: [fakeKey(3)], env: { MAX_ATTEMPTS: "2" } });
  const adminA = adminApi(a);
  const adminB = adminApi(b);
  try {
    await adminA("POST", "/keys/update", {
      ids: [keyId(fakeKey(1))],
      label: "prod",
      project: "p1",
      limits: { "gemini-2.5-pro": { rpm: 5 } },
    });
    a.gw.pool.setEnabled(keyId(fakeKey(2)), false, "API key invalid");
    await adminA("PATCH", "/settings", { maxAttempts: 3, aliases: { "house": "gemini-2.5-flash" } });
    const token = (await adminA("POST", "/tokens", { name: "mobile", rpm: 30 })).json.token as string;

    assert.equal((await adminA("POST", "/backup", {})).status, 403);
    const backup = await adminA("POST", "/backup", { adminToken: ADMIN_TOKEN });
    assert.equal(backup.status, 200);
    const doc = backup.json;
    assert.equal(doc.format, "gemini-gateway-backup");
    assert.equal(doc.version, 1);
    assert.deepEqual(doc.keys.map((k: { key: string }) => k.key), [fakeKey(1), fakeKey(2)]);
    assert.equal(doc.tokens[0].name, "mobile");
    assert.match(doc.tokens[0].hash, /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(doc).includes(token), "tokens are kept hashed");
    assert.deepEqual(doc.settings, { maxAttempts: 3, aliases: { house: "gemini-2.5-flash" } });

    const restored = await adminB("POST", "/restore", { backup: doc });
    assert.equal(restored.status, 200, JSON.stringify(restored.json));
    assert.equal(restored.json.keys, 2);
    assert.equal(restored.json.tokens, 1);
    assert.equal(restored.json.settings, 1, "aliases; maxAttempts is pinned on B");
    assert.deepEqual(restored.json.skipped, ["setting maxAttempts: set by the environment here"]);
    const prod = b.gw.pool.get(keyId(fakeKey(1)))!;
    assert.deepEqual([prod.label, prod.project, prod.limits], ["prod", "p1", {
      "gemini-2.5-pro": { rpm: 5 },
    }]);
    assert.equal(b.gw.pool.get(keyId(fakeKey(2)))!.enabled, false);
    assert.ok(b.gw.pool.get(keyId(fakeKey(3))), "B keeps its own keys");
    assert.equal(b.gw.settings.current.aliases.house, "gemini-2.5-flash");
    // The client token made on A works on B, with its limits.
    const r = await nativeGenerate(b, { token, model: "house" });
    await r.body?.cancel();
    assert.equal(r.status, 200);
    assert.equal(b.gw.tokens.byName("mobile")?.rpm, 30);

    // Restoring twice adds nothing; a broken file is refused with the field that is wrong.
    const again = await adminB("POST", "/restore", { backup: doc });
    assert.deepEqual([again.json.keys, again.json.tokens], [0, 0]);
    assert.match(again.json.skipped.join("\n"), /token 'mobile': a token with this id or name exists/);
    const broken = await adminB("POST", "/restore", { backup: { ...doc, format: "something-else" } });
    assert.equal(broken.status, 400);
    assert.match(broken.json.error.message, /not a Gemini Gateway backup/);
    const tampered = structuredClone(doc);
    tampered.keys[0].key = fakeKey(9);
    const t = await adminB("POST", "/restore", { backup: tampered });
    assert.equal(t.status, 400);
    assert.match(t.json.error.message, /id does not match/);
    const audit = (await adminA("GET", "/audit?action=backup.download")).json.entries;
    assert.deepEqual(audit.map((e: { status: number }) => e.status), [200, 403]);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("cost estimate: prices per million tokens, per model, key and token; longest prefix wins", async () => {
  assert.deepEqual(
    priceFor("gemini-2.5-flash-lite", {
      "gemini-*": { input: 1, output: 1 },
      "gemini-2.5-flash*": { input: 2, output: 2 },
    }),
    { input: 2, output: 2 },
  );
  assert.equal(priceFor("gemini-2.5-pro", { "gemini-2.5-flash": { input: 1, output: 1 } }), undefined);
  assert.equal(costOf({ inputTokens: 2_000_000, outputTokens: 500_000 }, { input: 0.3, output: 2.5 }), 1.85);

  const h = await startHarness({ keys: [fakeKey(1)] });
  const admin = adminApi(h);
  try {
    const none = (await admin("GET", "/costs")).json as CostsResponse;
    assert.equal(none.priced, false);
    await admin("PATCH", "/settings", {
      prices: { "gemini-2.5-flash": { input: 1_000_000, output: 2_000_000 } },
    });
    const app = (await admin("POST", "/tokens", { name: "app" })).json.token;
    for (
      const [token, model] of [[app, "gemini-2.5-flash"], [h.token, "gemini-2.5-flash"], [
        h.token,
        "gemini-2.5-pro",
      ]]
    ) {
      const r = await nativeGenerate(h, { token, model });
      await r.body?.cancel();
    }
    const c = (await admin("GET", "/costs")).json as CostsResponse;
    assert.equal(c.priced, true);
    const flash = c.byModel.find((m) => m.model === "gemini-2.5-flash")!;
    assert.ok(flash.inputTokens > 0);
    assert.equal(flash.cost, flash.inputTokens * 1 + flash.outputTokens * 2);
    assert.deepEqual(c.unpriced, ["gemini-2.5-pro"]);
    assert.equal(c.total.cost, flash.cost);
    assert.equal(c.byKey[0].masked, "AIza…xxx1");
    assert.equal(c.byKey[0].cost, flash.cost);
    const perToken = Object.fromEntries(c.byToken.map((t) => [t.token, t.cost]));
    assert.equal(perToken.app + perToken[envTokenName(h.token)], flash.cost);
    assert.ok(perToken.app > 0);
  } finally {
    await h.close();
  }
});

Deno.test("backup: a restore refuses token records and key limits the panel itself would refuse, so a hand-edited file cannot make requests answer 500", async () => {
  const a = await startHarness({ keys: [fakeKey(1)] });
  const b = await startHarness({ keys: [fakeKey(2)] });
  const adminA = adminApi(a);
  const adminB = adminApi(b);
  try {
    const token = (await adminA("POST", "/tokens", { name: "mobile", rpm: 30 })).json.token as string;
    const doc = (await adminA("POST", "/backup", { adminToken: ADMIN_TOKEN })).json;
    const cases: Array<[string, (d: typeof doc) => void, RegExp]> = [
      ["models as a string", (d) => d.tokens[0].models = "gemini-2.5-flash", /tokens\.0\.models/],
      ["rpm as text", (d) => d.tokens[0].rpm = "x", /tokens\.0\.rpm/],
      ["a negative daily quota", (d) => d.tokens[0].dailyTokens = -1, /tokens\.0\.dailyTokens/],
      ["a reserved name", (d) => d.tokens[0].name = "token-abcd-12345678", /tokens\.0\.name/],
      [
        "a negative key rpm",
        (d) => d.keys[0].limits = { "gemini-2.5-flash": { rpm: -3 } },
        /keys\.0\.limits/,
      ],
    ];
    for (const [what, edit, field] of cases) {
      const bad = structuredClone(doc);
      edit(bad);
      const r = await adminB("POST", "/restore", { backup: bad });
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.json)}`);
      assert.match(r.json.error.message, field, what);
    }
    assert.equal(b.gw.tokens.byName("mobile"), undefined, "nothing of a refused backup is stored");
    assert.equal(b.gw.pool.get(keyId(fakeKey(1))), undefined);
    // The untouched file still restores, and its token works.
    assert.equal((await adminB("POST", "/restore", { backup: doc })).status, 200);
    const r = await nativeGenerate(b, { token, model: "gemini-2.5-flash" });
    await r.body?.cancel();
    assert.equal(r.status, 200);
  } finally {
    await a.close();
    await b.close();
  }
});
