/**
 * Ephemeral tokens through the gateway: a server creates one with its client token (the gateway uses a
 * pool key and pins the token to it), a browser opens a Live session with it on the Constrained
 * endpoint, and the token opens nothing else.
 */
import assert from "node:assert/strict";
import { GoogleGenAI, Modality } from "./support/sdk/genai.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { connectRaw, connectSdk, liveUrl } from "./support/live_client.ts";
import { keyId } from "../lib/pool/key_record.ts";

const MODEL = "gemini-live-2.5-flash-preview";

Deno.test("live: ephemeral token flow — created with a pool key, used by a browser, pinned to that key", async () => {
  const keys = [fakeKey(1), fakeKey(2), fakeKey(3)];
  const h = await startHarness({ keys });
  try {
    // The app's server, with its gateway token.
    const server = new GoogleGenAI({
      apiKey: h.token,
      httpOptions: { baseUrl: h.url, apiVersion: "v1alpha" },
    });
    const token = await server.authTokens.create({
      config: {
        uses: 1,
        liveConnectConstraints: { model: MODEL, config: { responseModalities: [Modality.TEXT] } },
      },
    });
    assert.match(token.name!, /^auth_tokens\//);
    const created = h.mock.requests.find((r) => r.path === "/v1alpha/auth_tokens")!;
    assert.equal(created.keySource, "header");
    const owner = created.key!;
    assert.ok(keys.includes(owner));
    assert.deepEqual(
      (created.json as { bidiGenerateContentSetup?: { model?: string } }).bidiGenerateContentSetup?.model,
      `models/${MODEL}`,
    );

    // Other sessions move the round robin past the owner, so a pool choice now would be another key.
    for (let i = 0; i < keys.length && h.mock.live.connections.at(-1)?.key !== owner; i++) {
      const other = await connectSdk({
        baseUrl: h.url,
        apiKey: h.token,
        config: { responseModalities: [Modality.TEXT] },
      });
      other.session.close();
      await other.closed;
    }
    assert.equal(h.mock.live.connections.at(-1)?.key, owner);

    // The browser, with nothing but the ephemeral token (the SDK uses ?access_token= on v1alpha).
    const browser = await connectSdk({
      baseUrl: h.url,
      apiKey: token.name!,
      apiVersion: "v1alpha",
      config: { responseModalities: [Modality.TEXT] },
    });
    browser.session.sendClientContent({ turns: "from the browser" });
    await browser.waitFor((m) => m.serverContent?.turnComplete === true, "turnComplete");
    assert.equal(browser.messages.map((m) => m.text ?? "").join(""), "echo: from the browser");
    const up = h.mock.live.connections.at(-1)!;
    assert.equal(up.method, "BidiGenerateContentConstrained");
    assert.equal(up.tokenSource, "header", "the token goes upstream in Authorization: Token, not in the URL");
    assert.equal(up.query.get("access_token"), null);
    assert.equal(up.key, owner, "the session ran on the key that created the token");
    browser.session.close();
    await browser.closed;
    const rec = h.records.filter((r) => r.route === "live" && r.live).at(-1)!;
    assert.equal(rec.keyId, keyId(owner));
    assert.equal(rec.tokenName, h.records.find((r) => r.path === "/v1alpha/auth_tokens")!.tokenName);
    assert.ok(!JSON.stringify(h.records).includes(token.name!), "the token is not logged");
  } finally {
    await h.close();
  }
});

Deno.test("live: an ephemeral token works with Authorization: Token (python-genai) and under /gemini/; CORS applies", async () => {
  const h = await startHarness();
  try {
    const res = await fetch(`${h.url}/gemini/v1alpha/auth_tokens`, {
      method: "POST",
      headers: {
        "x-goog-api-key": h.token,
        "content-type": "application/json",
        origin: "https://app.example",
      },
      body: JSON.stringify({ uses: 1 }),
    });
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get("access-control-allow-origin"),
      "*",
      "an API call like any other: CORS applies",
    );
    const { name } = await res.json();
    const raw = await connectRaw(
      liveUrl(h.url, { prefix: "/gemini", version: "v1alpha", method: "BidiGenerateContentConstrained" }),
      { authorization: `Token ${name}` },
    );
    raw.send({ setup: { model: `models/${MODEL}` } });
    await raw.waitFor((f) => "setupComplete" in f.json, "setupComplete");
    const up = h.mock.live.connections.at(-1)!;
    assert.equal(
      up.path,
      "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained",
    );
    assert.equal(up.tokenSource, "header");
    raw.ws.close();
    await raw.closed;
  } finally {
    await h.close();
  }
});

Deno.test("live: unknown ephemeral tokens are refused, and a token opens no other route", async () => {
  const h = await startHarness();
  try {
    const constrained = liveUrl(h.url, {
      version: "v1alpha",
      method: "BidiGenerateContentConstrained",
      query: { access_token: "auth_tokens/not-issued-here" },
    }).replace(/^ws/, "http");
    const refused = await fetch(constrained, { headers: { upgrade: "websocket" } });
    assert.equal(refused.status, 401);
    assert.match((await refused.json()).error.message, /ephemeral token is unknown/);

    const created = await fetch(`${h.url}/v1alpha/auth_tokens`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: "{}",
    });
    const { name } = await created.json();
    // Not a client token: the REST routes and the unconstrained Live method refuse it.
    const rest = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent?key=${name}`, {
      method: "POST",
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    assert.equal(rest.status, 401);
    await rest.body?.cancel();
    const plain = await fetch(liveUrl(h.url, { query: { access_token: name } }).replace(/^ws/, "http"), {
      headers: { upgrade: "websocket" },
    });
    assert.equal(plain.status, 401);
    await plain.body?.cancel();
    // Creating a token needs a client token.
    const anon = await fetch(`${h.url}/v1alpha/auth_tokens`, { method: "POST", body: "{}" });
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("live: every session an ephemeral token opens passes its creator's checks (limits, later revocation)", async () => {
  const h = await startHarness();
  try {
    /** Creates an ephemeral token with `client`; returns its name. */
    const ephemeral = async (client: string) => {
      const res = await fetch(`${h.url}/v1alpha/auth_tokens`, {
        method: "POST",
        headers: { "x-goog-api-key": client, "content-type": "application/json" },
        body: JSON.stringify({ uses: 5 }),
      });
      assert.equal(res.status, 200);
      return (await res.json()).name as string;
    };
    const url = (name: string) =>
      liveUrl(h.url, {
        version: "v1alpha",
        method: "BidiGenerateContentConstrained",
        query: { access_token: name },
      });
    const session = async (name: string) => {
      const raw = await connectRaw(url(name));
      raw.send({ setup: { model: `models/${MODEL}` } });
      await raw.waitFor((f) => "setupComplete" in f.json, "setupComplete");
      raw.ws.close();
      await raw.closed;
    };
    const handshake = (name: string) =>
      fetch(url(name).replace(/^ws/, "http"), { headers: { upgrade: "websocket" } });

    // Two requests a minute: creating the ephemeral token is one, its first session the second.
    const limited = await h.gw.tokens.create({ name: "two-a-minute", rpm: 2 });
    const fromLimited = await ephemeral(limited.token);
    await session(fromLimited);
    const third = await handshake(fromLimited);
    assert.equal(third.status, 429, "the creator's rpm applies to the sessions its ephemeral token opens");
    assert.match((await third.json()).error.message, /'two-a-minute' is limited to 2 requests per minute/);

    // Revoked after its ephemeral token opened a session: the next session is refused.
    const app = await h.gw.tokens.create({ name: "browser-app" });
    const fromApp = await ephemeral(app.token);
    await session(fromApp);
    await h.gw.tokens.revoke(app.record.id);
    const after = await handshake(fromApp);
    assert.equal(after.status, 401);
    assert.match(
      (await after.json()).error.message,
      /client token 'browser-app' that created this ephemeral token was revoked/,
    );
    assert.equal(
      h.mock.live.connections.length,
      2,
      "only the two sessions before the refusals went upstream",
    );
  } finally {
    await h.close();
  }
});
