/**
 * More of the native pipeline's promises: cached contents stay with their key, upload URLs point at
 * the gateway, a stream that fails after its first byte is ended (never spliced with a retry), bad
 * JSON that the gateway must read gets a 400, and a request waits for a key that frees up soon.
 */
import assert from "node:assert/strict";
import { fakeKey, startHarness } from "./support/harness.ts";

const json = (token: string) => ({ "x-goog-api-key": token, "content-type": "application/json" });

Deno.test("a cached content is used only with the key that created it", async () => {
  const h = await startHarness();
  try {
    const created = await fetch(`${h.url}/v1beta/cachedContents`, {
      method: "POST",
      headers: json(h.token),
      body: JSON.stringify({
        model: "models/gemini-2.5-flash",
        contents: [{ role: "user", parts: [{ text: "a long shared context" }] }],
        ttl: "600s",
      }),
    });
    assert.equal(created.status, 200);
    const cache = await created.json();
    const owner = h.mock.requests.at(-1)!.key;
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: json(h.token),
        body: JSON.stringify({
          cachedContent: cache.name,
          contents: [{ role: "user", parts: [{ text: "q" }] }],
        }),
      });
      assert.equal(r.status, 200, await r.text());
      assert.equal(h.mock.requests.at(-1)!.key, owner);
    }
    const got = await fetch(`${h.url}/v1beta/${cache.name}`, { headers: json(h.token) });
    assert.equal(got.status, 200);
    await got.body?.cancel();
    assert.equal(h.mock.requests.at(-1)!.key, owner);
  } finally {
    await h.close();
  }
});

Deno.test("the resumable upload URL is rewritten to the gateway's own origin", async () => {
  const h = await startHarness();
  try {
    const start = await fetch(`${h.url}/upload/v1beta/files`, {
      method: "POST",
      headers: {
        ...json(h.token),
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": "5",
        "x-goog-upload-header-content-type": "text/plain",
      },
      body: JSON.stringify({ file: { displayName: "notes" } }),
    });
    assert.equal(start.status, 200);
    await start.body?.cancel();
    const uploadUrl = start.headers.get("x-goog-upload-url")!;
    assert.ok(uploadUrl.startsWith(h.url + "/upload/v1beta/files?"), uploadUrl);
    const done = await fetch(uploadUrl, {
      method: "POST",
      headers: {
        "x-goog-upload-command": "upload, finalize",
        "x-goog-upload-offset": "0",
        "x-goog-api-key": h.token,
      },
      body: "hello",
    });
    assert.equal(done.status, 200);
    assert.equal(done.headers.get("x-goog-upload-status"), "final");
    assert.match((await done.json()).file.name, /^files\//);
  } finally {
    await h.close();
  }
});

Deno.test("a stream that fails after its first byte is ended, not retried on another key", async () => {
  const h = await startHarness();
  try {
    h.mock.failNext({ status: 503, afterChunks: 1 });
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: json(h.token),
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "one two three four" }] }] }),
    });
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.match(text, /^data: /, "the first chunk arrived");
    assert.match(text, /"error"/, "the upstream's error object is passed on");
    assert.equal(h.mock.requests.length, 1, "no second upstream call was spliced in");
  } finally {
    await h.close();
  }
});

Deno.test("bad JSON the gateway must read (a suffixed model) gets a 400 in Google's envelope", async () => {
  const h = await startHarness();
  try {
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash-search:generateContent`, {
      method: "POST",
      headers: json(h.token),
      body: "{not json",
    });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(body.error.status, "INVALID_ARGUMENT");
    assert.match(body.error.message, /Invalid JSON payload/);
    assert.equal(h.mock.requests.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("when every key is cooling, a request waits for one that frees up within MAX_WAIT_MS", async () => {
  const h = await startHarness({ keys: [fakeKey(1), fakeKey(2)], env: { MAX_WAIT_MS: "5000" } });
  try {
    for (const r of h.gw.pool.records()) {
      h.gw.pool.report(r.id, "gemini-2.5-flash", {
        kind: "cooldown",
        window: "minute",
        until: Date.now() + 300,
        reason: "rpm",
      });
    }
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: json(h.token),
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "patience" }] }] }),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).candidates[0].content.parts[0].text, "echo: patience");
    assert.equal(h.mock.requests.length, 1);
  } finally {
    await h.close();
  }
});

Deno.test("usage per key, model and Pacific day counts requests, successes, 429s and tokens", async () => {
  const { pacificDay } = await import("../lib/pool/quota_clock.ts");
  const h = await startHarness({ keys: [fakeKey(1), fakeKey(2)] });
  try {
    h.mock.setKey(fakeKey(1), { rpm: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: json(h.token),
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "count these words" }] }] }),
      });
      assert.equal(r.status, 200);
      await r.body?.cancel();
    }
    await h.gw.usage.flush();
    const byGroup = await h.gw.usage.perKeyAndModel(pacificDay(Date.now()));
    const total = { requests: 0, ok: 0, rateLimited: 0, inputTokens: 0, outputTokens: 0 };
    for (const [group, t] of byGroup) {
      if (!group.endsWith("|gemini-2.5-flash")) continue; // the model listing at start counts under "-"
      assert.match(group, /^[0-9a-f]{16}\|gemini-2\.5-flash$/);
      for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += t[k];
    }
    assert.equal(total.ok, 3);
    assert.equal(total.rateLimited, 1, "key 1's second call was refused once, then it was paced");
    assert.equal(total.requests, 4);
    assert.ok(total.inputTokens > 0 && total.outputTokens > 0);
  } finally {
    await h.close();
  }
});

Deno.test("GET /health needs no token and counts keys by state", async () => {
  const h = await startHarness();
  try {
    const [k1, k2] = h.gw.pool.records();
    h.gw.pool.setEnabled(k1.id, false, "test");
    h.gw.pool.report(k2.id, "gemini-2.5-pro", {
      kind: "cooldown",
      window: "minute",
      until: Date.now() + 60_000,
      reason: "rpm",
    });
    const r = await fetch(`${h.url}/health`);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.status, "ok");
    assert.match(body.version, /^\d+\.\d+\.\d+$/);
    assert.deepEqual(body.keys, { total: 3, active: 1, cooling: 1, disabled: 1 });
  } finally {
    await h.close();
  }
});
