/**
 * Live API settings and limits: on/off, the largest frame a client may send, sessions per client token,
 * the time a client has to send its setup, and a client token's model allow-list.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";
import { connectRaw, liveUrl, type RawLive } from "./support/live_client.ts";
import { envTokenName } from "../lib/tokens/token_store.ts";

const MODEL = "gemini-live-2.5-flash-preview";

async function setUp(url: string): Promise<RawLive> {
  const raw = await connectRaw(url);
  raw.send({ setup: { model: `models/${MODEL}` } });
  await raw.waitFor((f) => "setupComplete" in f.json, "setupComplete");
  return raw;
}

Deno.test("live: LIVE_ENABLED=false refuses sessions and ephemeral tokens (404); switching it on applies at once", async () => {
  const h = await startHarness({ env: { LIVE_ENABLED: "false" } });
  try {
    const httpUrl = liveUrl(h.url, { query: { key: h.token } }).replace(/^ws/, "http");
    const off = await fetch(httpUrl, { headers: { upgrade: "websocket" } });
    assert.equal(off.status, 404);
    assert.match((await off.json()).error.message, /LIVE_ENABLED/);
    const token = await fetch(`${h.url}/v1alpha/auth_tokens`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: "{}",
    });
    assert.equal(token.status, 404);
    await token.body?.cancel();
    assert.equal(h.mock.live.connections.length, 0);
  } finally {
    await h.close();
  }
  const on = await startHarness();
  try {
    await on.gw.settings.update({ liveEnabled: false });
    const refused = await fetch(liveUrl(on.url, { query: { key: on.token } }).replace(/^ws/, "http"), {
      headers: { upgrade: "websocket" },
    });
    assert.equal(refused.status, 404);
    await refused.body?.cancel();
    await on.gw.settings.update({ liveEnabled: true });
    const raw = await setUp(liveUrl(on.url, { query: { key: on.token } }));
    raw.ws.close();
    await raw.closed;
  } finally {
    await on.close();
  }
});

Deno.test("live: a message over LIVE_MAX_FRAME_BYTES closes the session with 1009", async () => {
  const h = await startHarness({ env: { LIVE_MAX_FRAME_BYTES: "4096" } });
  try {
    const raw = await setUp(liveUrl(h.url, { query: { key: h.token } }));
    raw.send({ realtimeInput: { audio: { data: "A".repeat(3000), mimeType: "audio/pcm;rate=16000" } } });
    raw.send({ realtimeInput: { audio: { data: "A".repeat(5000), mimeType: "audio/pcm;rate=16000" } } });
    const closed = await raw.closed;
    assert.equal(closed.code, 1009);
    assert.match(closed.reason, /larger than LIVE_MAX_FRAME_BYTES \(4096\)/);
    const up = h.mock.live.connections.at(-1)!;
    await up.ended;
    assert.equal(up.received.length, 1, "the small message went upstream, the large one did not");
    assert.equal(up.closed?.by, "client", "the gateway closed the upstream too");
  } finally {
    await h.close();
  }
});

Deno.test("live: LIVE_MAX_SESSIONS_PER_TOKEN caps a client token's open sessions (429)", async () => {
  const h = await startHarness({ env: { LIVE_MAX_SESSIONS_PER_TOKEN: "1" } });
  try {
    const url = liveUrl(h.url, { query: { key: h.token } });
    const first = await setUp(url);
    const second = await fetch(url.replace(/^ws/, "http"), { headers: { upgrade: "websocket" } });
    assert.equal(second.status, 429);
    assert.match(
      (await second.json()).error.message,
      /holds 1 Live sessions, the most LIVE_MAX_SESSIONS_PER_TOKEN/,
    );
    first.ws.close();
    await first.closed;
    await h.mock.live.connections[0].ended;
    for (let i = 0; i < 100 && h.gw.live.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const third = await setUp(url);
    third.ws.close();
    await third.closed;
  } finally {
    await h.close();
  }
});

Deno.test("live: a client token's model allow-list applies to the setup's model (1008)", async () => {
  const h = await startHarness();
  try {
    const { token } = await h.gw.tokens.create({ name: "flash-only", models: ["gemini-2.5-flash"] });
    const raw = await connectRaw(liveUrl(h.url, { query: { key: token } }));
    raw.send({ setup: { model: `models/${MODEL}` } });
    const closed = await raw.closed;
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, `The client token 'flash-only' may not use model '${MODEL}'.`);
    assert.equal(h.mock.live.connections.length, 0);
    const rec = h.records.find((r) => r.route === "live")!;
    assert.equal(rec.status, 403);
    // A first message that is no setup is refused too.
    const bad = await connectRaw(liveUrl(h.url, { query: { key: h.token } }));
    bad.send({ clientContent: { turns: [] } });
    assert.equal((await bad.closed).code, 1007);
  } finally {
    await h.close();
  }
});

Deno.test("live: a plain GET on the Live endpoint says to use a WebSocket (426); a missing token is 401", async () => {
  const h = await startHarness();
  try {
    const url = liveUrl(h.url, { query: { key: h.token } }).replace(/^ws/, "http");
    const plain = await fetch(url);
    assert.equal(plain.status, 426);
    assert.match((await plain.json()).error.message, /WebSocket endpoint/);
    const anon = await fetch(liveUrl(h.url).replace(/^ws/, "http"), { headers: { upgrade: "websocket" } });
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("live: a client that never sends its setup is closed after LIVE_SETUP_TIMEOUT_MS and frees its place", async () => {
  const h = await startHarness({ env: { LIVE_SETUP_TIMEOUT_MS: "200", LIVE_MAX_SESSIONS_PER_TOKEN: "1" } });
  try {
    const url = liveUrl(h.url, { query: { key: h.token } });
    const silent = await connectRaw(url);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      silent.closed,
      new Promise<{ code: number; reason: string }>((r) =>
        timer = setTimeout(() => r({ code: -1, reason: "still open after 10 s" }), 10_000)
      ),
    ]);
    clearTimeout(timer);
    assert.equal(closed.code, 1008, closed.reason);
    assert.match(closed.reason, /No setup message arrived within 200 ms .*LIVE_SETUP_TIMEOUT_MS/);
    for (let i = 0; i < 100 && h.gw.live.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(
      h.gw.live.sessionsOf(envTokenName(h.token)),
      0,
      "the place under LIVE_MAX_SESSIONS_PER_TOKEN is free",
    );
    const next = await setUp(url);
    next.ws.close();
    await next.closed;
    assert.equal(h.mock.live.connections.length, 1, "the silent session never went upstream");
    const rec = h.records.find((r) => r.route === "live")!;
    assert.equal(rec.status, 408);
  } finally {
    await h.close();
  }
});
