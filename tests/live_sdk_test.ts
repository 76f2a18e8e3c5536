/**
 * The Gemini Live API through the gateway, driven by @google/genai's `ai.live.connect` (and raw
 * WebSocket clients where frame types or a dropped connection matter) against the mock upstream's Live
 * sessions: text, audio in and out, tool calls, goAway, closes both ways, client aborts, one record per
 * session and usage per key, model and client token.
 */
import assert from "node:assert/strict";
import { Modality, Type } from "./support/sdk/genai.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { connectRaw, connectSdk, connectTcp, liveUrl } from "./support/live_client.ts";
import { audioHash } from "./support/mock_gemini_live.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { pacificDay } from "../lib/pool/quota_clock.ts";
import type { RequestRecord } from "../lib/pipeline/request_record.ts";
import { runSnippet } from "./support/readme_snippets.ts";

const KEYS = [fakeKey(1), fakeKey(2), fakeKey(3)];
const MODEL = "gemini-live-2.5-flash-preview";

/** The record of the `n`-th Live session (waits for it: a session is recorded when it closes). */
async function liveRecord(records: RequestRecord[], n = 0): Promise<RequestRecord> {
  for (let i = 0; i < 200; i++) {
    const recs = records.filter((r) => r.route === "live" && r.live);
    if (recs.length > n) return recs[n];
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("no Live session record");
}

function pcm(bytes: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (i * 7 + seed * 13) & 0xff);
}

function b64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function unb64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The text parts of raw server messages, joined. */
function rawText(frames: Array<{ json: Record<string, unknown> }>): string {
  type Content = { modelTurn?: { parts?: Array<{ text?: string }> } };
  return frames.flatMap((f) => (f.json.serverContent as Content | undefined)?.modelTurn?.parts ?? [])
    .map((p) => p.text ?? "").join("");
}

Deno.test("live: a text turn through the gateway; the pool key goes upstream only in x-goog-api-key", async () => {
  const h = await startHarness();
  try {
    // The SDK's default (v1, and a doubled slash: `//ws/...`).
    const live = await connectSdk({
      baseUrl: h.url,
      apiKey: h.token,
      config: { responseModalities: [Modality.TEXT] },
    });
    live.session.sendClientContent({ turns: "hello there" });
    await live.waitFor((m) => m.serverContent?.turnComplete === true, "turnComplete");
    assert.equal(live.messages.map((m) => m.text ?? "").join(""), "echo: hello there");
    assert.ok(live.messages[0].setupComplete, "setupComplete came first");
    const up = h.mock.live.connections.at(-1)!;
    assert.equal(up.path, "/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent");
    assert.ok(KEYS.includes(up.key!), "a pool key served the session");
    assert.equal(up.keySource, "header");
    assert.equal(up.query.get("key"), null, "no key in the upstream URL");
    assert.ok(!JSON.stringify([...up.headers]).includes(h.token), "the client token never goes upstream");
    assert.deepEqual(up.setup?.model, `models/${MODEL}`);
    live.session.close();
    await live.closed;
    await up.ended;

    const rec = await liveRecord(h.records);
    assert.equal(rec.status, 101);
    assert.equal(rec.model, MODEL);
    assert.equal(rec.keyId, keyId(up.key!));
    assert.equal(rec.attempts, 1);
    assert.equal(rec.inputTokens, 2);
    assert.equal(rec.outputTokens, 3);
    assert.equal(rec.live?.turns, 1);
    assert.equal(rec.live?.closedBy, "client");
    assert.ok((rec.live?.durationMs ?? -1) >= rec.latencyMs);
    assert.equal(h.records.filter((r) => r.route === "live").length, 1, "one record per session");
    assert.ok(!JSON.stringify(h.records).includes(up.key!), "no key in the records");

    // Usage per key and model, and per client token.
    await h.gw.usage.flush();
    const day = pacificDay(Date.now());
    const perKey = await h.gw.usage.perKeyAndModel(day);
    assert.deepEqual(
      { ...perKey.get(`${rec.keyId}|${MODEL}`) },
      { requests: 1, ok: 1, rateLimited: 0, errors: 0, inputTokens: 2, outputTokens: 3 },
    );
    const perToken = await h.gw.usage.perToken(day);
    assert.equal(perToken.get(rec.tokenName!)?.inputTokens, 2);
    // The log keeps the session's figures.
    await h.gw.logs.flush();
    const { entries } = await h.gw.logs.query({});
    const logged = entries.find((e) => e.route === "live")!;
    assert.equal(logged.live?.turns, 1);
    assert.equal(logged.outputTokens, 3);
  } finally {
    await h.close();
  }
});

Deno.test("live: audio chunks in (base64) and out (inline data in binary frames) pass in order", async () => {
  const h = await startHarness();
  try {
    const live = await connectSdk({
      baseUrl: h.url,
      apiKey: h.token,
      config: { responseModalities: [Modality.AUDIO] },
    });
    const chunks = [pcm(3200, 1), pcm(3200, 2), pcm(3200, 3), pcm(1000, 4)];
    for (const c of chunks) {
      live.session.sendRealtimeInput({ audio: { data: b64(c), mimeType: "audio/pcm;rate=16000" } });
    }
    live.session.sendRealtimeInput({ audioStreamEnd: true });
    await live.waitFor((m) => m.serverContent?.turnComplete === true, "turnComplete");
    const out = live.messages.flatMap((m) => m.serverContent?.modelTurn?.parts ?? [])
      .map((p) => p.inlineData?.data ?? "");
    assert.equal(out.length, 4, "the answer came in chunks");
    assert.deepEqual(
      concat(out.map(unb64)),
      concat(chunks),
      "the upstream got every chunk in order and its audio came back whole",
    );
    live.session.close();
  } finally {
    await h.close();
  }
});

Deno.test("live: binary and text frames keep their type both ways and their order", async () => {
  const h = await startHarness();
  try {
    const raw = await connectRaw(
      liveUrl(h.url, { prefix: "/gemini", version: "v1alpha", query: { key: h.token } }),
    );
    raw.send({ setup: { model: `models/${MODEL}` } }, { binary: true });
    const ready = await raw.waitFor((f) => "setupComplete" in f.json, "setupComplete");
    assert.equal(ready.binary, true, "Google's binary frames reach the client as binary frames");
    const chunks = Array.from({ length: 40 }, (_, i) => pcm(320, i));
    chunks.forEach((c, i) =>
      raw.send({ realtimeInput: { audio: { data: b64(c), mimeType: "audio/pcm;rate=16000" } } }, {
        binary: i % 2 === 0,
      })
    );
    raw.send({ realtimeInput: { audioStreamEnd: true } });
    await raw.waitFor((f) => JSON.stringify(f.json).includes('"turnComplete":true'), "turnComplete");
    const all = concat(chunks);
    assert.equal(rawText(raw.frames), `heard ${all.length} bytes ${audioHash(all)}`, "every chunk, in order");
    assert.ok(raw.frames.every((f) => f.binary), "every server message stayed a binary frame");
    const up = h.mock.live.connections.at(-1)!;
    assert.equal(up.path, "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent");
    assert.deepEqual(
      up.received.slice(0, 40).map((r) => r.binary),
      chunks.map((_, i) => i % 2 === 0),
      "each frame kept its type",
    );
    raw.ws.close();
    await raw.closed;
  } finally {
    await h.close();
  }
});

Deno.test("live: a tool call and its response", async () => {
  const h = await startHarness();
  try {
    const live = await connectSdk({
      baseUrl: h.url,
      apiKey: h.token,
      config: {
        responseModalities: [Modality.TEXT],
        tools: [{
          functionDeclarations: [{
            name: "get_weather",
            description: "Weather in a city",
            parameters: { type: Type.OBJECT, properties: { query: { type: Type.STRING } } },
          }],
        }],
      },
    });
    live.session.sendClientContent({ turns: "weather in Paris" });
    const call = await live.waitFor((m) => !!m.toolCall, "toolCall");
    const fc = call.toolCall!.functionCalls![0];
    assert.equal(fc.name, "get_weather");
    assert.deepEqual(fc.args, { query: "weather in Paris" });
    assert.match(fc.id!, /^function-call-\d+$/);
    const from = live.messages.length;
    live.session.sendToolResponse({
      functionResponses: [{ id: fc.id, name: fc.name, response: { temp: 21 } }],
    });
    await live.waitFor((m) => m.serverContent?.turnComplete === true, "turnComplete", from);
    assert.equal(live.messages.slice(from).map((m) => m.text ?? "").join(""), 'result: [{"temp":21}]');
    const up = h.mock.live.connections.at(-1)!;
    assert.deepEqual(up.received.at(-1)?.message, {
      toolResponse: { functionResponses: [{ id: fc.id, name: "get_weather", response: { temp: 21 } }] },
    });
    live.session.close();
  } finally {
    await h.close();
  }
});

Deno.test("live: Google's goAway reaches the client, then its close; the record notes both", async () => {
  const h = await startHarness();
  try {
    const live = await connectSdk({
      baseUrl: h.url,
      apiKey: h.token,
      config: { responseModalities: [Modality.TEXT] },
    });
    live.session.sendClientContent({ turns: "GOAWAY" });
    const away = await live.waitFor((m) => !!m.goAway, "goAway");
    assert.equal(away.goAway!.timeLeft, "1s");
    const closed = await live.closed;
    assert.equal(closed.code, 1000);
    const rec = await liveRecord(h.records);
    assert.equal(rec.live?.goAway, true);
    assert.equal(rec.live?.closedBy, "upstream");
    assert.equal(rec.live?.closeCode, 1000);
  } finally {
    await h.close();
  }
});

Deno.test("live: an upstream close after setup passes on Google's code and reason, keys redacted", async () => {
  const h = await startHarness();
  try {
    const raw = await connectRaw(liveUrl(h.url, { query: { key: h.token } }));
    raw.send({ setup: { model: `models/${MODEL}` } });
    await raw.waitFor((f) => "setupComplete" in f.json, "setupComplete");
    const quoted = fakeKey(9);
    raw.send({
      clientContent: {
        turns: [{ role: "user", parts: [{ text: `CLOSE 1011 Consumer 'api_key:${quoted}' blocked` }] }],
      },
    });
    const closed = await raw.closed;
    assert.equal(closed.code, 1011);
    assert.ok(!closed.reason.includes(quoted), "the key is not passed on");
    assert.equal(closed.reason, `Consumer 'api_key:AIza…xxx9' blocked`);
    const rec = await liveRecord(h.records);
    assert.equal(rec.live?.closeCode, 1011);
    assert.ok(!JSON.stringify(rec).includes(quoted));
    assert.equal(rec.status, 101, "the session had been set up");
  } finally {
    await h.close();
  }
});

Deno.test("live: a client that leaves closes the upstream at once (close frame, dropped TCP, during setup)", async () => {
  const h = await startHarness({ keys: [fakeKey(1)] });
  try {
    // 1. The SDK closes.
    const live = await connectSdk({
      baseUrl: h.url,
      apiKey: h.token,
      config: { responseModalities: [Modality.TEXT] },
    });
    const first = h.mock.live.connections.at(-1)!;
    live.session.close();
    await first.ended;
    assert.equal(first.closed?.by, "client");

    // 2. The client's TCP connection drops without a close frame.
    const tcp = await connectTcp(
      h.url,
      `/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=${h.token}`,
    );
    assert.match(tcp.head, /^HTTP\/1\.1 101/);
    await tcp.sendText(JSON.stringify({ setup: { model: `models/${MODEL}` } }));
    await tcp.readUntil("setupComplete");
    const second = h.mock.live.connections.at(-1)!;
    assert.equal(second.accepted, true);
    tcp.drop();
    await second.ended;
    assert.equal(second.closed?.by, "client");
    assert.equal((await liveRecord(h.records, 1)).live?.closedBy, "client");

    // 3. The client leaves while Google has not confirmed the setup yet.
    h.mock.setKey(fakeKey(1), { hang: true });
    const raw = await connectRaw(liveUrl(h.url, { query: { key: h.token } }));
    raw.send({ setup: { model: `models/${MODEL}` } });
    for (let i = 0; i < 200 && h.mock.live.connections.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const third = h.mock.live.connections.at(-1)!;
    raw.ws.close();
    await third.ended;
    const rec = await liveRecord(h.records, 2);
    assert.equal(rec.status, 499);
    assert.equal(h.gw.live.size, 0, "no session is left");
    assert.equal(h.gw.live.counts.openOn(keyId(fakeKey(1))), 0, "the key's session count is back to 0");
  } finally {
    await h.close();
  }
});

Deno.test("README: the Live API snippet works against the gateway", async () => {
  const h = await startHarness();
  try {
    assert.equal((await runSnippet("The Live API (real-time voice and video)", h, 3)).trim(), "echo: Hello");
    assert.equal(h.mock.live.connections.length, 1);
    assert.ok(KEYS.includes(h.mock.live.connections[0].key!));
  } finally {
    await h.close();
  }
});
