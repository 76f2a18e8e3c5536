/**
 * The Gemini-native routes driven by the official @google/genai SDK through the gateway to the mock.
 */
import assert from "node:assert/strict";
import { ApiError, GoogleGenAI } from "./support/sdk/genai.ts";
import { fakeKey, startHarness } from "./support/harness.ts";

function client(url: string, apiKey: string) {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url } });
}

Deno.test("generate: the SDK works through the gateway; the pool key goes upstream only in x-goog-api-key", async () => {
  const h = await startHarness();
  try {
    const ai = client(h.url, h.token);
    const res = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hello there" });
    assert.equal(res.text, "echo: hello there");
    const up = h.mock.requests.at(-1)!;
    assert.ok([fakeKey(1), fakeKey(2), fakeKey(3)].includes(up.headers.get("x-goog-api-key")!));
    assert.equal(up.query.get("key"), null, "no key in the upstream URL");
    assert.ok(!JSON.stringify([...up.headers]).includes(h.token), "the client token never goes upstream");
    // ?key= works as the credential too, and is stripped.
    const r2 = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent?key=${h.token}`, {
      method: "POST",
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "q" }] }] }),
    });
    assert.equal(r2.status, 200);
    await r2.body?.cancel();
    assert.equal(h.mock.requests.at(-1)!.query.get("key"), null);
  } finally {
    await h.close();
  }
});

Deno.test("stream: SSE chunks arrive as deltas; alt=sse is kept; usage is recorded", async () => {
  const h = await startHarness();
  try {
    const ai = client(h.url, h.token);
    const stream = await ai.models.generateContentStream({
      model: "gemini-2.5-flash",
      contents: "one two three four",
    });
    const parts: string[] = [];
    for await (const chunk of stream) parts.push(chunk.text ?? "");
    assert.ok(parts.length >= 3, `expected several chunks, got ${parts.length}`);
    assert.equal(parts.join(""), "echo: one two three four");
    assert.equal(h.mock.requests.at(-1)!.query.get("alt"), "sse");
    await new Promise((r) => setTimeout(r, 20));
    const rec = h.records.at(-1)!;
    assert.equal(rec.stream, true);
    assert.ok((rec.inputTokens ?? 0) > 0 && (rec.outputTokens ?? 0) > 0, JSON.stringify(rec));
  } finally {
    await h.close();
  }
});

Deno.test("JSON-array stream (no alt) passes through unchanged", async () => {
  const h = await startHarness();
  try {
    const r = await fetch(`${h.url}/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "a b c" }] }] }),
    });
    assert.equal(r.status, 200);
    const arr = JSON.parse(await r.text());
    assert.ok(Array.isArray(arr) && arr.length >= 3);
  } finally {
    await h.close();
  }
});

Deno.test("countTokens, embeddings and model pages work through the gateway", async () => {
  const h = await startHarness({ mock: { pageSize: 2 } });
  try {
    const ai = client(h.url, h.token);
    const count = await ai.models.countTokens({ model: "gemini-2.5-flash", contents: "one two three" });
    assert.equal(count.totalTokens, 3);
    const emb = await ai.models.embedContent({ model: "gemini-embedding-001", contents: ["alpha", "beta"] });
    assert.equal(emb.embeddings?.length, 2);
    const names: string[] = [];
    const pager = await ai.models.list({ config: { pageSize: 2 } });
    for await (const m of pager) names.push(m.name!);
    assert.ok(names.length >= 9, `all pages listed: ${names.length}`);
    assert.ok(names.includes("models/gemini-2.5-pro"));
    assert.ok(
      h.mock.requests.filter((r) => r.path.endsWith("/models")).length >= 5,
      "followed nextPageToken",
    );
  } finally {
    await h.close();
  }
});

Deno.test("files: upload through the gateway, then every use of the file goes to the key that made it", async () => {
  const h = await startHarness();
  try {
    const ai = client(h.url, h.token);
    const file = await ai.files.upload({
      file: new Blob(["some notes"], { type: "text/plain" }),
      config: { mimeType: "text/plain" },
    });
    assert.match(file.name!, /^files\//);
    const start = h.mock.requests.find((r) => r.path.startsWith("/upload/"))!;
    const owner = start.key!;
    for (let i = 0; i < 4; i++) {
      const res = await ai.models.generateContent({
        model: "gemini-2.5-flash",
        contents: [{
          role: "user",
          parts: [{ fileData: { fileUri: file.uri!, mimeType: "text/plain" } }, { text: "summarize" }],
        }],
      });
      assert.equal(res.text, "echo: summarize");
      assert.equal(h.mock.requests.at(-1)!.key, owner);
    }
    const got = await ai.files.get({ name: file.name! });
    assert.equal(got.name, file.name);
    assert.equal(h.mock.requests.at(-1)!.key, owner);
  } finally {
    await h.close();
  }
});

Deno.test("an invalid key is disabled with Google's reason after one call; the request succeeds on another key", async () => {
  const h = await startHarness();
  try {
    h.mock.setKey(fakeKey(1), { invalid: true });
    const ai = client(h.url, h.token);
    for (let i = 0; i < 5; i++) {
      const res = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
      assert.equal(res.text, "echo: hi");
    }
    assert.equal(h.mock.callsFor(fakeKey(1)), 1, "the invalid key was called once");
    const rec = h.gw.pool.records().find((r) => r.key === fakeKey(1))!;
    assert.equal(rec.enabled, false);
    assert.match(rec.disabledReason!, /API_KEY_INVALID/);
    await h.gw.store.flush();
    const stored = await h.gw.kv.get<{ enabled: boolean }>(["keys", rec.id]);
    assert.equal(stored.value?.enabled, false, "the disable is persisted");
  } finally {
    await h.close();
  }
});

Deno.test("a 429 is retried on another key, and the rate-limited pair cools down", async () => {
  const h = await startHarness();
  try {
    h.mock.setKey(fakeKey(1), { rpm: 1 });
    // Use up key 1's minute directly at the mock.
    await (await fetch(`${h.mock.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": fakeKey(1) },
      body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
    })).body?.cancel();
    const ai = client(h.url, h.token);
    const res = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
    assert.equal(res.text, "echo: hi");
    assert.equal(h.records.at(-1)!.attempts, 2);
    const id = h.gw.pool.records().find((r) => r.key === fakeKey(1))!.id;
    const cd = h.gw.pool.cooldownsOf(id);
    assert.equal(cd.length, 1);
    assert.equal(cd[0].model, "gemini-2.5-flash");
    assert.equal(cd[0].kind, "minute");
    // Other models still use key 1.
    const before = h.mock.callsFor(fakeKey(1));
    for (let i = 0; i < 3; i++) await ai.models.generateContent({ model: "gemini-2.5-pro", contents: "x" });
    assert.equal(h.mock.callsFor(fakeKey(1)), before + 1);
  } finally {
    await h.close();
  }
});

Deno.test("all keys failing: the client gets the last upstream status and Google's body", async () => {
  const h = await startHarness();
  try {
    h.mock.failNext({ status: 503, count: 10 });
    const ai = client(h.url, h.token);
    await assert.rejects(
      ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" }),
      (e: unknown) => e instanceof ApiError && e.status === 503 && /overloaded/.test(e.message),
    );
    assert.equal(h.mock.requests.length, 3, "each of the 3 keys tried once");
    // All keys rate limited: 429 stays 429 with Retry-After.
    h.mock.reset();
    for (let i = 1; i <= 3; i++) h.mock.setKey(fakeKey(i), { rpm: 0 + 1 });
    for (let i = 0; i < 3; i++) await ai.models.generateContent({ model: "gemini-2.5-pro", contents: "x" });
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-pro:generateContent`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}` },
      body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
    });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
    const body = await r.json();
    assert.equal(body.error.status, "RESOURCE_EXHAUSTED");
  } finally {
    await h.close();
  }
});

Deno.test("wrong or missing token: 401 in Google's envelope; nothing goes upstream", async () => {
  const h = await startHarness();
  try {
    const ai = client(h.url, "wrong-token-xxxxxxxx");
    await assert.rejects(
      ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" }),
      (e: unknown) => e instanceof ApiError && e.status === 401,
    );
    const r = await fetch(`${h.url}/v1beta/models`);
    assert.equal(r.status, 401);
    const body = await r.json();
    assert.equal(body.error.status, "UNAUTHENTICATED");
    assert.match(body.error.message, /Authorization: Bearer/);
    assert.equal(h.mock.requests.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("client errors pass through unchanged and do not count against the key", async () => {
  const h = await startHarness();
  try {
    const r = await fetch(`${h.url}/v1beta/models/no-such-model:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
    });
    assert.equal(r.status, 404);
    assert.equal((await r.json()).error.status, "NOT_FOUND");
    assert.equal(h.mock.requests.length, 1, "not retried");
    assert.ok(h.gw.pool.records().every((k) => k.enabled && h.gw.pool.cooldownsOf(k.id).length === 0));
  } finally {
    await h.close();
  }
});

Deno.test("body over the limit gets 413 in Google's envelope", async () => {
  const h = await startHarness({ env: { MAX_BODY_BYTES: "2048" } });
  try {
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: JSON.stringify({ contents: [{ parts: [{ text: "x".repeat(5000) }] }] }),
    });
    assert.equal(r.status, 413);
    const body = await r.json();
    assert.match(body.error.message, /MAX_BODY_BYTES/);
    assert.equal(h.mock.requests.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("upstream that does not answer in time: 504 after trying the keys", async () => {
  const h = await startHarness({ env: { REQUEST_TIMEOUT_MS: "150", MAX_ATTEMPTS: "2" } });
  try {
    for (let i = 1; i <= 3; i++) h.mock.setKey(fakeKey(i), { hang: true });
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }),
    });
    assert.equal(r.status, 504);
    const body = await r.json();
    assert.equal(body.error.status, "DEADLINE_EXCEEDED");
    assert.match(body.error.message, /REQUEST_TIMEOUT_MS/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.mock.liveConnections(), 0, "timed-out upstream requests were cancelled");
  } finally {
    await h.close();
  }
});

Deno.test("a client that disconnects mid-stream cancels the upstream request", async () => {
  const h = await startHarness({ mock: { chunkDelayMs: 300 } });
  try {
    const ctl = new AbortController();
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: JSON.stringify({ contents: [{ parts: [{ text: "a b c d e f g h" }] }] }),
      signal: ctl.signal,
    });
    const reader = r.body!.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.length > 0);
    assert.equal(h.mock.liveConnections(), 1);
    ctl.abort();
    await reader.cancel().catch(() => {});
    for (let i = 0; i < 50 && h.mock.liveConnections() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.mock.liveConnections(), 0, "the upstream stream was cancelled");
  } finally {
    await h.close();
  }
});
