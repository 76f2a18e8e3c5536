/**
 * Every secret the gateway holds is masked wherever an upstream echoes it: pool keys of any shape
 * (Google quotes the key in "Consumer 'api_key:…' has been suspended"), and client tokens (Google
 * echoes unknown request fields: `Unknown name "…"`), in the client's answer, the logs, the key's
 * reason and the request records.
 */
import assert from "node:assert/strict";
import { maskKey, Redactor } from "../lib/secrets/redact.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { adminApi } from "./support/admin_api.ts";
import { startHarness } from "./support/harness.ts";

/**
 * Keys that are not in Google's shapes: GEMINI_API_KEYS and the panel accept only those (issue 16), but a
 * pool may still hold any string (records stored before, restores, direct upserts).
 */
const ODD_KEY = "proj-7:sk_live.9f8e7d6c5b4a39281706";
const OTHER_ODD_KEY = "another-odd-secret/0123456789";

Deno.test("Redactor: masks known secrets of any shape, inside other text, and re-reads its sources on change", () => {
  let version = 1;
  let keys = [ODD_KEY, "short"];
  const r = new Redactor([
    { version: () => version, values: () => keys },
    { version: () => "fixed", values: () => ["my client token 1"] },
  ]);
  assert.equal(
    r.redact(`Consumer 'api_key:${ODD_KEY}' has been suspended; again:${ODD_KEY}x`),
    `Consumer 'api_key:${maskKey(ODD_KEY)}' has been suspended; again:${maskKey(ODD_KEY)}x`,
  );
  assert.equal(
    r.redact('Unknown name "my client token 1": x'),
    `Unknown name "${maskKey("my client token 1")}": x`,
  );
  assert.equal(
    r.redact("a short word stays"),
    "a short word stays",
    "secrets under 8 characters are not searched",
  );
  const shaped = "AIza" + "Q".repeat(35);
  assert.equal(r.redact(`k=${shaped} t=gwt_${"a".repeat(32)}`), `k=AIza…QQQQ t=gwt_…aaaa`, "shapes too");
  keys = [OTHER_ODD_KEY];
  assert.ok(r.redact(OTHER_ODD_KEY).includes(OTHER_ODD_KEY), "no re-read until the version changes");
  version++;
  assert.equal(r.redact(`x ${OTHER_ODD_KEY} ${ODD_KEY}`), `x ${maskKey(OTHER_ODD_KEY)} ${ODD_KEY}`);
  const many = new Redactor([{
    version: () => 1,
    values: () => Array.from({ length: 10_000 }, (_, i) => `key-${String(i).padStart(6, "0")}-secret`),
  }]);
  assert.equal(many.redact("echo key-004242-secret!"), `echo ${maskKey("key-004242-secret")}!`);
});

Deno.test("a suspended pool key of any shape is masked in the answer, the logs, the key's reason and the records", async () => {
  const h = await startHarness({ poolKeys: [ODD_KEY] });
  const admin = adminApi(h);
  try {
    h.mock.setKey(ODD_KEY, { denied: "suspended" });
    const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    const text = await res.text();
    assert.equal(res.status, 403);
    assert.match(text, /has been suspended/);
    assert.ok(!text.includes(ODD_KEY), text);
    assert.ok(text.includes(maskKey(ODD_KEY)), text);

    const logs = await admin("GET", "/logs?kind=error");
    assert.equal(logs.json.entries.length, 1);
    assert.ok(!JSON.stringify(logs.json).includes(ODD_KEY), "logs");
    const keys = await admin("GET", "/keys");
    const view = keys.json.keys[0];
    assert.match(view.disabledReason, /has been suspended/);
    assert.ok(!JSON.stringify(keys.json).includes(ODD_KEY), JSON.stringify(view));
    assert.ok(!JSON.stringify(h.records).includes(ODD_KEY), "request records");

    // Verifying a key from the panel stores Google's reason too: masked as well.
    h.gw.pool.upsert({ id: keyId(OTHER_ODD_KEY), key: OTHER_ODD_KEY, enabled: true, addedAt: 1 });
    h.mock.setKey(OTHER_ODD_KEY, { denied: "suspended" });
    const verified = await admin("POST", "/keys/verify", { ids: [keyId(OTHER_ODD_KEY)] });
    assert.equal(verified.status, 200);
    assert.equal(verified.json.disabled.length, 1);
    const after = await admin("GET", "/keys?limit=500");
    assert.ok(!JSON.stringify(after.json).includes(OTHER_ODD_KEY), "verify reasons");
    assert.ok(JSON.stringify(after.json).includes(maskKey(OTHER_ODD_KEY)));
  } finally {
    await h.close();
  }
});

Deno.test("client tokens echoed by the upstream (unknown request fields) are masked in the answer and the logs", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const named = (await admin("POST", "/tokens", { name: "app" })).json.token as string;
    for (const token of [h.token, named]) {
      const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": token, "content-type": "application/json" },
        // A client that put a token where a field name goes: Google names the field in its 400.
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }], [token]: 1 }),
      });
      const text = await res.text();
      assert.equal(res.status, 400);
      assert.match(text, /Unknown name/);
      assert.ok(!text.includes(token), text);
      assert.ok(text.includes(maskKey(token)), text);
    }
    const logs = await admin("GET", "/logs?kind=error");
    assert.equal(logs.json.entries.length, 2);
    const all = JSON.stringify(logs.json);
    assert.ok(!all.includes(h.token) && !all.includes(named), all);
    assert.ok(!JSON.stringify(h.records).includes(h.token));
  } finally {
    await h.close();
  }
});
