/**
 * Webhook notifications: a key disabled, a model without a usable key, a client token at its quota;
 * retried with backoff when the receiver fails; never holding up a request.
 */
import assert from "node:assert/strict";
import { adminApi } from "./support/admin_api.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";
import { serve } from "./support/browser.ts";

interface Receiver {
  url: string;
  /** Bodies of the POSTs that were answered 2xx. */
  delivered: Array<Record<string, unknown>>;
  /** Every POST received, answered or not. */
  received: number;
  close(): Promise<void>;
}

/** A loopback webhook receiver; `answer(n)` picks the status of the n-th POST (0-based), or "hang". */
function receiver(answer: (n: number) => number | "hang"): Receiver {
  const hung = Promise.withResolvers<void>();
  const r: Receiver = {
    url: "",
    delivered: [],
    received: 0,
    close: async () => {
      hung.resolve();
      await server.close();
    },
  };
  const server = serve(async (req) => {
    const body = await req.json();
    const status = answer(r.received++);
    if (status === "hang") {
      await hung.promise;
      return new Response("late", { status: 200 });
    }
    if (status < 300) r.delivered.push(body);
    return new Response(null, { status });
  });
  r.url = `${server.url}/hook`;
  return r;
}

Deno.test("webhook: key disabled, model without a usable key, token quota reached; failed deliveries are retried", async () => {
  const hook = receiver((n) => n < 2 ? 500 : 200); // the first two attempts fail
  const keys = [fakeKey(1), fakeKey(2)];
  const h = await startHarness({ keys, env: { WEBHOOK_URL: hook.url } });
  const admin = adminApi(h);
  try {
    h.mock.setKey(keys[0], { invalid: true });
    for (const k of keys) h.mock.setKey(k, { invalid: k === keys[0], noAccess: ["gemini-2.5-pro"] });
    const first = await nativeGenerate(h, { token: h.token });
    await first.body?.cancel();
    assert.equal(first.status, 200, "the second key serves it");
    for (let i = 0; i < 3; i++) {
      const pro = await nativeGenerate(h, { token: h.token, model: "gemini-2.5-pro" });
      await pro.body?.cancel();
      assert.ok([429, 503].includes(pro.status), `status ${pro.status}`);
    }
    const tiny = (await admin("POST", "/tokens", { name: "tiny", dailyTokens: 1 })).json.token;
    const used = await nativeGenerate(h, { token: tiny });
    await used.body?.cancel();
    await h.gw.notifier.idle();

    const events = hook.delivered.map((e) => e.event);
    assert.deepEqual(events, ["key_disabled", "model_unavailable", "token_quota_reached"]);
    assert.equal(hook.received, 5, "two failed attempts, then three deliveries");
    const [disabled, model, quota] = hook.delivered;
    assert.equal(disabled.key, `AIza…${keys[0].slice(-4)}`);
    assert.ok(!JSON.stringify(hook.delivered).includes(keys[0]), "never the full key");
    assert.match(String(disabled.reason), /API key not valid/);
    assert.equal(model.model, "gemini-2.5-pro");
    assert.match(String(model.text), /No key can serve gemini-2\.5-pro/);
    assert.equal(quota.token, "tiny");
    assert.equal(quota.dailyTokens, 1);
    assert.ok(typeof disabled.time === "string" && typeof disabled.text === "string");
  } finally {
    await h.close();
    await hook.close();
  }
});

Deno.test("webhook: a receiver that never answers does not hold up requests", async () => {
  const hook = receiver(() => "hang");
  const keys = [fakeKey(1), fakeKey(2)];
  const h = await startHarness({ keys, env: { WEBHOOK_URL: hook.url } });
  try {
    h.mock.setKey(keys[0], { invalid: true });
    for (let i = 0; i < 3; i++) {
      const r = await nativeGenerate(h, { token: h.token });
      await r.body?.cancel();
      assert.equal(r.status, 200);
    }
    assert.equal(hook.received, 1, "the notification is out and still unanswered");
  } finally {
    await h.close();
    await hook.close();
  }
});
