/**
 * Live sessions on the key pool: refusals before `setupComplete` are classified like any attempt and
 * retried on the next key; concurrent sessions are counted per key, their limit learned from Google's
 * refusals, and spread; resumption handles stay with their key.
 */
import assert from "node:assert/strict";
import { Modality } from "./support/sdk/genai.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { connectRaw, connectSdk, liveUrl, type RawLive } from "./support/live_client.ts";
import { LIVE_REFUSALS } from "./support/mock_gemini_live.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { pacificDay } from "../lib/pool/quota_clock.ts";

const MODEL = "gemini-live-2.5-flash-preview";
const TEXT = { responseModalities: [Modality.TEXT] };

/** Opens a raw session (setup sent); resolves with the client and its first answer or close. */
async function openRaw(
  url: string,
  setup: Record<string, unknown> = { model: `models/${MODEL}` },
): Promise<{ raw: RawLive; ok: boolean; close?: { code: number; reason: string } }> {
  const raw = await connectRaw(url);
  raw.send({ setup });
  const outcome = await Promise.race([
    raw.waitFor((f) => "setupComplete" in f.json, "setupComplete").then(() => "ok" as const),
    raw.closed,
  ]);
  return outcome === "ok" ? { raw, ok: true } : { raw, ok: false, close: outcome };
}

Deno.test("live: a quota refusal on the first key cools that key for the model; the next key serves", async () => {
  const keys = [fakeKey(1), fakeKey(2), fakeKey(3)];
  const h = await startHarness({ keys });
  try {
    h.mock.setKey(keys[0], { liveQuota: true });
    const live = await connectSdk({ baseUrl: h.url, apiKey: h.token, model: MODEL, config: TEXT });
    live.session.sendClientContent({ turns: "still here" });
    await live.waitFor((m) => m.serverContent?.turnComplete === true, "turnComplete");
    assert.equal(live.messages.map((m) => m.text ?? "").join(""), "echo: still here");
    const [refused, served] = h.mock.live.connections;
    assert.equal(refused.key, keys[0]);
    assert.equal(refused.closed?.code, LIVE_REFUSALS.quota.code);
    assert.equal(served.key, keys[1]);
    const cooling = h.gw.pool.cooldownsOf(keyId(keys[0]));
    assert.deepEqual(cooling.map((c) => [c.model, c.kind]), [[MODEL, "minute"]]);
    assert.equal(h.gw.pool.stateOf(keyId(keys[0])), "cooling");
    live.session.close();
    await live.closed;

    // The next session does not try the cooling key.
    const again = await connectSdk({ baseUrl: h.url, apiKey: h.token, model: MODEL, config: TEXT });
    assert.equal(h.mock.live.connections.length, 3);
    assert.notEqual(h.mock.live.connections[2].key, keys[0]);
    again.session.close();
    await again.closed;

    const rec = h.records.find((r) => r.route === "live")!;
    assert.equal(rec.attempts, 2);
    assert.equal(rec.keyId, keyId(keys[1]));
    await h.gw.usage.flush();
    const usage = await h.gw.usage.perKeyAndModel(pacificDay(Date.now()));
    assert.equal(usage.get(`${keyId(keys[0])}|${MODEL}`)?.rateLimited, 1);
  } finally {
    await h.close();
  }
});

Deno.test("live: an upgrade Google answers with HTTP 429 cools the key; the next key serves", async () => {
  const keys = [fakeKey(1), fakeKey(2)];
  const h = await startHarness({ keys });
  try {
    h.mock.setKey(keys[0], { liveUpgradeStatus: 429 });
    const live = await connectSdk({ baseUrl: h.url, apiKey: h.token, model: MODEL, config: TEXT });
    assert.deepEqual(h.mock.live.connections.map((c) => c.key), keys);
    assert.deepEqual(h.gw.pool.cooldownsOf(keyId(keys[0])).map((c) => [c.model, c.kind]), [[
      MODEL,
      "minute",
    ]]);
    live.session.close();
    await live.closed;
  } finally {
    await h.close();
  }
});

Deno.test("live: an invalid key is disabled with Google's reason; a suspended one too (key redacted)", async () => {
  const keys = [fakeKey(1), fakeKey(2), fakeKey(3)];
  const h = await startHarness({ keys });
  try {
    h.mock.setKey(keys[0], { invalid: true });
    h.mock.setKey(keys[1], { denied: "suspended" });
    const live = await connectSdk({ baseUrl: h.url, apiKey: h.token, model: MODEL, config: TEXT });
    assert.equal(h.mock.live.connections.at(-1)!.key, keys[2]);
    const invalid = h.gw.pool.get(keyId(keys[0]))!;
    assert.equal(invalid.enabled, false);
    assert.match(invalid.disabledReason!, /API key not valid/);
    const suspended = h.gw.pool.get(keyId(keys[1]))!;
    assert.equal(suspended.enabled, false);
    assert.match(suspended.disabledReason!, /suspended/);
    assert.ok(!suspended.disabledReason!.includes(keys[1]), "the quoted key is redacted");
    live.session.close();
  } finally {
    await h.close();
  }
});

Deno.test("live: the client's own error is passed on without trying another key", async () => {
  const h = await startHarness();
  try {
    const { ok, close } = await openRaw(liveUrl(h.url, { query: { key: h.token } }), {
      model: "models/gemini-unknown-live",
    });
    assert.equal(ok, false);
    assert.equal(close?.code, 1008);
    assert.match(close!.reason, /^models\/gemini-unknown-live is not found for API version v1beta/);
    assert.equal(h.mock.live.connections.length, 1, "no other key was tried");
    assert.equal(h.gw.pool.stateOf(keyId(fakeKey(1))), "active");
  } finally {
    await h.close();
  }
});

Deno.test("live: no usable key answers 1013 with the pool's reason", async () => {
  const h = await startHarness({ keys: [fakeKey(1)] });
  try {
    h.gw.pool.setEnabled(keyId(fakeKey(1)), false, "test");
    const { ok, close } = await openRaw(liveUrl(h.url, { query: { key: h.token } }));
    assert.equal(ok, false);
    assert.equal(close?.code, 1013);
    assert.equal(close!.reason, "All 1 keys are disabled or already tried for this request.");
    assert.equal(h.mock.live.connections.length, 0);
    const rec = h.records.find((r) => r.route === "live")!;
    assert.equal(rec.status, 503);
  } finally {
    await h.close();
  }
});

Deno.test("live: a quota crossed during a session cools the key for the next sessions", async () => {
  const keys = [fakeKey(1), fakeKey(2)];
  const h = await startHarness({ keys });
  try {
    const { raw } = await openRaw(liveUrl(h.url, { query: { key: h.token } }));
    const served = h.mock.live.connections[0].key!;
    raw.send({
      clientContent: {
        turns: [{ role: "user", parts: [{ text: `CLOSE 1011 ${LIVE_REFUSALS.quota.reason}` }] }],
      },
    });
    const closed = await raw.closed;
    assert.equal(closed.code, 1011);
    assert.match(closed.reason, /^You exceeded your current quota/);
    assert.deepEqual(h.gw.pool.cooldownsOf(keyId(served)).map((c) => c.model), [MODEL]);
  } finally {
    await h.close();
  }
});

Deno.test("live: concurrent sessions are spread over keys; the limit is learned from Google's refusals", async () => {
  const [a, b] = [fakeKey(1), fakeKey(2)];
  const h = await startHarness({ keys: [a, b] });
  const open: RawLive[] = [];
  try {
    h.mock.setKey(a, { liveSessions: 2 });
    h.mock.setKey(b, { liveSessions: 2 });
    const url = liveUrl(h.url, { query: { key: h.token } });
    const keyOf = (i: number) => h.mock.live.connections[i].key;
    // s1 -> a, s2 -> b, s3 -> a (both hold 1)
    for (let i = 0; i < 3; i++) open.push((await openRaw(url)).raw);
    assert.deepEqual([keyOf(0), keyOf(1), keyOf(2)], [a, b, a]);
    // s2 ends: b holds 0, a holds 2. The least loaded key serves next, twice (round robin alone would pick a).
    open[1].ws.close();
    await h.mock.live.connections[1].ended;
    open.push((await openRaw(url)).raw);
    open.push((await openRaw(url)).raw);
    assert.deepEqual([keyOf(3), keyOf(4)], [b, b]);
    assert.equal(h.gw.live.counts.openOn(keyId(a)), 2);
    assert.equal(h.gw.live.counts.openOn(keyId(b)), 2);

    // Both projects are full: Google refuses on each key, and the gateway learns the limit (2).
    const refused = await openRaw(url);
    assert.equal(refused.ok, false);
    assert.equal(refused.close?.code, 1011);
    assert.match(refused.close!.reason, /Maximum concurrent se/);
    assert.equal(h.mock.live.connections.length, 7);
    assert.equal(h.gw.live.counts.limitOf(keyId(a)), 2);
    assert.equal(h.gw.live.counts.limitOf(keyId(b)), 2);
    assert.equal(h.gw.pool.stateOf(keyId(a)), "active", "a full key is not cooled");

    // Known full: the next session is refused without asking Google.
    const known = await openRaw(url);
    assert.equal(known.close?.code, 1013);
    assert.equal(
      known.close!.reason,
      "All 2 keys hold as many Live sessions as Google allows; try again when one ends.",
    );
    assert.equal(h.mock.live.connections.length, 7);

    // A session on a ends: the next one goes there.
    open[0].ws.close();
    await h.mock.live.connections[0].ended;
    const after = await openRaw(url);
    assert.equal(after.ok, true);
    assert.equal(h.mock.live.connections.at(-1)!.key, a);
    open.push(after.raw);
  } finally {
    for (const r of open) r.ws.close();
    await h.close();
  }
});

Deno.test("live: a resumption handle goes back to the key that issued it", async () => {
  const keys = [fakeKey(1), fakeKey(2), fakeKey(3)];
  const h = await startHarness({ keys });
  try {
    const first = await connectSdk({
      baseUrl: h.url,
      apiKey: h.token,
      model: MODEL,
      config: { ...TEXT, sessionResumption: {} },
    });
    first.session.sendClientContent({ turns: "remember me" });
    await first.waitFor((m) => m.serverContent?.turnComplete === true, "turnComplete");
    const turnEnd = first.messages.findIndex((m) => m.serverContent?.turnComplete === true);
    const update = await first.waitFor(
      (m) => !!m.sessionResumptionUpdate?.newHandle,
      "a new handle",
      turnEnd,
    );
    const handle = update.sessionResumptionUpdate!.newHandle!;
    const owner = h.mock.live.connections[0].key;
    first.session.close();
    await first.closed;

    // Round robin alone would now choose the next key; the handle belongs to the first one's project.
    const resumed = await connectSdk({
      baseUrl: h.url,
      apiKey: h.token,
      model: MODEL,
      config: { ...TEXT, sessionResumption: { handle } },
    });
    assert.equal(h.mock.live.connections.length, 2, "resumed at the first try");
    assert.equal(h.mock.live.connections[1].key, owner);
    resumed.session.close();
    await resumed.closed;
    const rec = h.records.filter((r) => r.route === "live")[1];
    assert.equal(rec.live?.resumed, true);

    // The key is removed: the handle resumes nowhere else, and the refusal names the handle.
    await h.gw.keys.remove([keyId(owner!)]);
    const orphan = await openRaw(liveUrl(h.url, { query: { key: h.token } }), {
      model: `models/${MODEL}`,
      sessionResumption: { handle },
    });
    assert.equal(orphan.ok, false);
    assert.equal(orphan.close?.code, 1013);
    assert.match(orphan.close!.reason, /the key that issued this session resumption handle was removed/i);
    assert.equal(h.mock.live.connections.length, 2, "no other key tried the handle");
  } finally {
    await h.close();
  }
});
