/**
 * QA of the Live API through the gateway (issue 17), as users drive it: faults found while trying it
 * with @google/genai and raw WebSocket clients against the mock Live upstream. Each test fails on the
 * code it was written against and says what a user saw.
 */
import assert from "node:assert/strict";
import { GoogleGenAI, Modality } from "./support/sdk/genai.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { connectRaw, liveUrl } from "./support/live_client.ts";
import { MOCK_MODELS } from "./support/mock_gemini_models.ts";
import { keyId } from "../lib/pool/key_record.ts";

const MODEL = "gemini-live-2.5-flash-preview";

Deno.test("qa live: an ephemeral token stops opening sessions once the client token that created it is revoked", async () => {
  const h = await startHarness();
  try {
    const { token, record } = await h.gw.tokens.create({ name: "browser-app" });
    // The app's server creates a token for its browser, as the README shows.
    const server = new GoogleGenAI({ apiKey: token, httpOptions: { baseUrl: h.url, apiVersion: "v1alpha" } });
    const ephemeral = await server.authTokens.create({
      config: {
        uses: 5,
        liveConnectConstraints: { model: MODEL, config: { responseModalities: [Modality.TEXT] } },
      },
    });
    // The admin revokes the app's token (leaked, or the customer left).
    await h.gw.tokens.revoke(record.id);
    const rest = await fetch(`${h.url}/v1beta/models`, { headers: { "x-goog-api-key": token } });
    assert.equal(rest.status, 401, "the revoked token is refused on the REST routes");
    await rest.body?.cancel();
    h.mock.live.reset();

    const url = liveUrl(h.url, {
      version: "v1alpha",
      method: "BidiGenerateContentConstrained",
      query: { access_token: ephemeral.name! },
    });
    let opened = false;
    try {
      const raw = await connectRaw(url);
      raw.send({ setup: { model: `models/${MODEL}` } });
      const first = await Promise.race([
        raw.waitFor((f) => "setupComplete" in f.json, "setupComplete").then(() => "setupComplete"),
        raw.closed.then(() => "closed"),
      ]);
      opened = first === "setupComplete";
      raw.ws.close();
      await raw.closed;
    } catch {
      // refused before the WebSocket opened: what we expect
    }
    assert.equal(
      opened,
      false,
      "a token minted by a revoked client token still opened a Live session on a pool key",
    );
    assert.equal(h.mock.live.connections.length, 0, "no upstream session for a revoked client token");
  } finally {
    await h.close();
  }
});

Deno.test("qa live: an incomplete WebSocket handshake gets a clear 4xx, not a 500", async () => {
  const h = await startHarness();
  try {
    const url = liveUrl(h.url, { query: { key: h.token } }).replace(/^ws/, "http");
    // What a reverse proxy that drops the hop-by-hop `Connection: Upgrade` header passes on (nginx
    // without `proxy_set_header Connection "upgrade"`), and a POST with an Upgrade header.
    for (
      const [init, says] of [
        [{ headers: { upgrade: "websocket" } }, /'Connection: Upgrade'.*reverse proxy/],
        [{ method: "POST", headers: { upgrade: "websocket" } }, /handshake is a GET request/],
      ] as const
    ) {
      const res = await fetch(url, init);
      const body = await res.json();
      assert.ok(
        res.status >= 400 && res.status < 500,
        `${
          "method" in init ? init.method : "GET"
        } with 'upgrade: websocket' but no 'connection: upgrade': got ${res.status} ${JSON.stringify(body)}`,
      );
      assert.doesNotMatch(body.error.message, /Internal gateway error/);
      assert.equal(res.status, 400);
      assert.match(body.error.message, says, "the message says what is missing");
    }
    assert.equal(h.gw.live.size, 0);
  } finally {
    await h.close();
  }
});

Deno.test("qa live: LIVE_MAX_FRAME_BYTES counts a text frame's UTF-8 bytes", async () => {
  const h = await startHarness({ env: { LIVE_MAX_FRAME_BYTES: "4096" } });
  try {
    const raw = await connectRaw(liveUrl(h.url, { query: { key: h.token } }));
    raw.send({ setup: { model: `models/${MODEL}` } });
    await raw.waitFor((f) => "setupComplete" in f.json, "setupComplete");
    // 1,500 CJK characters: 4,500 bytes of UTF-8 in the text (about 4,560 in the frame), over the limit.
    const message = { clientContent: { turns: [{ role: "user", parts: [{ text: "語".repeat(1500) }] }] } };
    const bytes = new TextEncoder().encode(JSON.stringify(message)).length;
    assert.ok(bytes > 4096);
    raw.send(message);
    const closed = await Promise.race([
      raw.closed,
      raw.waitFor((f) => JSON.stringify(f.json).includes('"turnComplete":true'), "turnComplete")
        .then(() => ({ code: -1, reason: "the message was relayed and answered" })),
    ]);
    assert.equal(
      closed.code,
      1009,
      `a ${bytes}-byte text frame passed LIVE_MAX_FRAME_BYTES=4096: ${closed.reason}`,
    );
    raw.ws.close();
    await raw.closed;
  } finally {
    await h.close();
  }
});

Deno.test("qa live: Google refusing an ephemeral token does not disable the pool key that created it", async () => {
  // Google's words when it does not accept the credential of a Live connection (an ephemeral token on
  // the wrong method, google-gemini/cookbook#821); a used-up or expired token is refused on the
  // Constrained method too. The key was not used for this connection: only the token was.
  const reason =
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path.startsWith("/ws/")) {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = () =>
        socket.close(1008, new TextDecoder().decode(new TextEncoder().encode(reason).slice(0, 123)));
      return response;
    }
    if (path === "/v1alpha/auth_tokens") {
      return Response.json({
        name: "auth_tokens/used-up-token",
        expireTime: new Date(Date.now() + 30 * 60_000).toISOString(),
      });
    }
    return Response.json({ models: MOCK_MODELS });
  });
  const keys = [fakeKey(1), fakeKey(2)];
  const h = await startHarness({
    keys,
    env: { UPSTREAM_BASE_URL: `http://127.0.0.1:${upstream.addr.port}` },
  });
  try {
    const created = await fetch(`${h.url}/v1alpha/auth_tokens`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ uses: 1 }),
    });
    const { name } = await created.json();
    const raw = await connectRaw(
      liveUrl(h.url, {
        version: "v1alpha",
        method: "BidiGenerateContentConstrained",
        query: { access_token: name },
      }),
    );
    raw.send({ setup: { model: `models/${MODEL}` } });
    const closed = await raw.closed;
    assert.equal(closed.code, 1008, "the client gets Google's refusal");
    for (const k of keys) {
      const r = h.gw.pool.get(keyId(k))!;
      assert.equal(r.enabled, true, `pool key ${keyId(k)} was disabled by a refusal of the ephemeral token`);
    }
  } finally {
    await h.close();
    await upstream.shutdown();
  }
});
