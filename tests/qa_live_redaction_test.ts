/**
 * QA (issue 13, secrets in errors): every key in the pool, whatever its shape, is masked wherever an
 * upstream echoes it. Google's Live refusal for a suspended key quotes the key ("Consumer
 * 'api_key:…' has been suspended."); with a key that is not shaped like `AIza…`/`AQ.…` the quote
 * must still be masked in the client's close reason, the key's reasons and the request log.
 */
import assert from "node:assert/strict";
import { keyId } from "../lib/pool/key_record.ts";
import { ADMIN_TOKEN } from "./support/admin_api.ts";
import { startHarness } from "./support/harness.ts";
import { connectRaw, liveUrl } from "./support/live_client.ts";

const KEYS = ["custom-live-key-aaaaaaaaaaaa1", "custom-live-key-bbbbbbbbbbbb2"];

Deno.test("qa: a Live refusal quoting a pool key of any shape is masked in the close reason, the key's reasons and the log", async () => {
  const h = await startHarness({ poolKeys: KEYS });
  try {
    for (const k of KEYS) h.mock.setKey(k, { denied: "suspended" });
    const raw = await connectRaw(liveUrl(h.url, { query: { key: h.token } }));
    raw.send({ setup: { model: "models/gemini-live-2.5-flash-preview" } });
    const close = await raw.closed;
    const leaks = (text: string) => KEYS.filter((k) => text.includes(k));

    assert.match(close.reason, /suspended/);
    assert.deepEqual(leaks(close.reason), [], `close reason: ${close.reason}`);

    const record = h.gw.pool.get(keyId(KEYS[0]))!;
    assert.equal(record.enabled, false);
    assert.deepEqual(leaks(record.disabledReason ?? ""), [], `disabledReason: ${record.disabledReason}`);
    assert.deepEqual(leaks(record.lastError ?? ""), [], `lastError: ${record.lastError}`);

    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const keysApi = await (await fetch(`${h.url}/admin/api/keys`, { headers: admin })).text();
    assert.deepEqual(leaks(keysApi), [], "GET /admin/api/keys");
    await h.gw.logs.flush();
    let logs = "";
    for (let i = 0; i < 50 && !logs.includes('"route":"live"'); i++) {
      logs = await (await fetch(`${h.url}/admin/api/logs`, { headers: admin })).text();
      if (!logs.includes('"route":"live"')) await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(logs, /"route":"live"/);
    assert.deepEqual(leaks(logs), [], `GET /admin/api/logs: ${logs.slice(0, 800)}`);
  } finally {
    await h.close();
  }
});
