import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { MockGemini, type MockOptions } from "./support/mock_gemini.ts";
import { assertGoogleError, ERROR_CASES, GENERATE_CASES, type Reply } from "./support/mock_gemini_cases.ts";
import {
  parseSse,
  postJson,
  type PostJsonOptions,
  uploadFile,
  userText,
  waitFor,
} from "./support/mock_gemini_client.ts";

const FLASH = "/v1beta/models/gemini-2.5-flash";

/** A test that gets a fresh mock and always closes it (sanitizers stay on). */
function mockTest(name: string, fn: (mock: MockGemini) => Promise<void>, opts?: MockOptions) {
  Deno.test(name, async () => {
    const mock = await MockGemini.start(opts);
    try {
      await fn(mock);
    } finally {
      await mock.close();
    }
  });
}

function post(mock: MockGemini, path: string, o: PostJsonOptions) {
  return postJson(mock, path, o);
}

/** POSTs and parses the JSON answer. */
async function postBody(mock: MockGemini, path: string, o: PostJsonOptions) {
  return await (await post(mock, path, o)).json();
}

/** GETs as `key` and parses the JSON answer. */
async function getBody(mock: MockGemini, path: string, key: string) {
  return await (await fetch(mock.url + path, { headers: { "x-goog-api-key": key } })).json();
}

/** POSTs a one-word generateContent as `key` and returns status + parsed body. */
async function generate(mock: MockGemini, key: string, model = "gemini-2.5-flash") {
  const res = await post(mock, `/v1beta/models/${model}:generateContent`, { key, body: userText("a") });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.json() };
}

mockTest("429 bodies carry quotaId, quotaValue and RetryInfo; 429s do not count", async (mock) => {
  mock.setKey("k1", { project: "p", rpm: 2 });
  mock.setKey("k2", { project: "p", rpm: 2 });
  mock.setKey("k3", { rpd: { "gemini-2.5-flash": 1 } });
  mock.setKey("k4", { noAccess: ["gemini-2.5-pro"] });
  assert.deepEqual([(await generate(mock, "k1")).status, (await generate(mock, "k2")).status], [200, 200]);
  const limited = await generate(mock, "k1");
  assert.deepEqual([limited.status, limited.type], [429, "application/json; charset=UTF-8"]);
  const { error } = limited.body;
  assert.equal(error.status, "RESOURCE_EXHAUSTED");
  assert.match(error.message, /limit: 2, model: gemini-2\.5-flash\nPlease retry in \d+\.\d\ds\.$/);
  const detail = (suffix: string) =>
    error.details.find((d: { "@type": string }) => d["@type"].endsWith(suffix));
  assert.deepEqual(detail("QuotaFailure").violations[0], {
    quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
    quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
    quotaDimensions: { location: "global", model: "gemini-2.5-flash" },
    quotaValue: "2",
  });
  assert.match(detail("RetryInfo").retryDelay, /^[1-9]\d*s$/);
  assert.equal(detail("Help")["@type"], "type.googleapis.com/google.rpc.Help");
  assert.equal((await generate(mock, "k2")).status, 429, "k2 shares project p with k1");
  assert.equal((await generate(mock, "k1", "gemini-2.5-pro")).status, 200, "limits are per model");

  assert.equal((await generate(mock, "k3")).status, 200);
  const day = await generate(mock, "k3");
  assert.equal(
    day.body.error.details[0].violations[0].quotaId,
    "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
  );
  const none = await generate(mock, "k4", "gemini-2.5-pro");
  assert.equal(none.body.error.details[0].violations[0].quotaValue, "0");

  mock.setKey("k5", { rpm: 1 });
  const embed = { key: "k5", body: { content: { parts: [{ text: "e" }] } } };
  const embedPath = "/v1beta/models/gemini-embedding-001:embedContent";
  assert.ok((await postBody(mock, embedPath, embed)).embedding);
  const embedLimited = await postBody(mock, embedPath, embed);
  assert.equal(
    embedLimited.error.details[0].violations[0].quotaId,
    "EmbedContentRequestsPerMinutePerUserPerProjectPerModel-FreeTier",
  );

  const stats = mock.stats();
  assert.equal(stats.rateLimited, 5);
  assert.deepEqual(stats.byKey.k1, { ok: 2, rateLimited: 1, rejected: 0 });
});

Deno.test("quota windows are aligned to minuteMs and reset; retryDelay counts down", async () => {
  let clock = 10_000;
  const mock = await MockGemini.start({ minuteMs: 60_000, now: () => clock });
  try {
    mock.setKey("k", { rpm: 1, rpd: 3 });
    const delay = (r: { body: { error: { details: { retryDelay?: string }[] } } }) =>
      r.body.error.details.find((d) => d.retryDelay)?.retryDelay;
    assert.equal((await generate(mock, "k")).status, 200);
    assert.equal(delay(await generate(mock, "k")), "50s");
    clock = 59_500;
    assert.equal(delay(await generate(mock, "k")), "1s", "at least 1s");
    clock = 60_000;
    assert.equal((await generate(mock, "k")).status, 200);
    clock = 120_000;
    assert.equal((await generate(mock, "k")).status, 200);
    clock = 180_000;
    const day = await generate(mock, "k");
    assert.equal(day.status, 429);
    assert.equal(
      day.body.error.details[0].violations[0].quotaId,
      "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
    );
  } finally {
    await mock.close();
  }
});

Deno.test("error envelopes (table)", async (t) => {
  for (const c of ERROR_CASES) {
    await t.step(c.name, async () => {
      const mock = await MockGemini.start();
      try {
        for (const [key, behavior] of Object.entries(c.keys ?? {})) mock.setKey(key, behavior);
        c.setup?.(mock);
        await assertGoogleError(await post(mock, c.path, { key: c.key, body: c.body }), c.expect);
      } finally {
        await mock.close();
      }
    });
  }
});

mockTest("keys are read from the header or ?key= and recorded; stats count outcomes", async (mock) => {
  mock.setKey("bad", { invalid: true });
  for (const path of [FLASH + ":generateContent?key=q", FLASH + ":generateContent?key=bad"]) {
    await (await post(mock, path, { body: userText("a") })).body?.cancel();
  }
  await (await post(mock, FLASH + ":generateContent", { key: "h", body: userText("a") })).body?.cancel();
  assert.deepEqual(mock.requests.map((r) => [r.key, r.keySource, r.model]), [
    ["q", "query", "gemini-2.5-flash"],
    ["bad", "query", "gemini-2.5-flash"],
    ["h", "header", "gemini-2.5-flash"],
  ]);
  assert.deepEqual(mock.stats(), {
    ok: 2,
    rateLimited: 0,
    byKey: {
      q: { ok: 1, rateLimited: 0, rejected: 0 },
      bad: { ok: 0, rateLimited: 0, rejected: 1 },
      h: { ok: 1, rateLimited: 0, rejected: 0 },
    },
  });
  assert.equal(mock.callsFor("h"), 1);
  mock.reset();
  assert.equal(mock.requests.length, 0);
});

mockTest("SSE stream: CRLF framing, >=3 deltas, cumulative usage, finishReason last", async (mock) => {
  const res = await post(mock, FLASH + ":streamGenerateContent?alt=sse", {
    key: "k",
    body: userText("hello world"),
  });
  const h = Object.fromEntries(
    ["content-type", "content-disposition", "server"].map((n) => [n, res.headers.get(n)]),
  );
  assert.deepEqual(h, {
    "content-type": "text/event-stream",
    "content-disposition": "attachment",
    "server": "scaffolding on HTTPServer2",
  });
  const raw = await res.text();
  assert.match(raw, /^(data: \{[^\r\n]*\}\r\n\r\n){3,}$/);
  const chunks = parseSse(raw) as Reply[];
  assert.equal(chunks.map((c) => c.candidates![0].content.parts[0].text).join(""), "echo: hello world");
  const counts = chunks.map((c) => c.usageMetadata.candidatesTokenCount);
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b));
  assert.deepEqual(chunks.map((c) => c.candidates![0].finishReason ?? null), [
    ...counts.slice(1).map(() => null),
    "STOP",
  ]);
});

mockTest("JSON-array stream parses and functionCall arrives whole", async (mock) => {
  const tools = [{
    functionDeclarations: [{
      name: "w",
      parameters: { type: "OBJECT", properties: { city: { type: "STRING" } } },
    }],
  }];
  const res = await post(mock, FLASH + ":streamGenerateContent", {
    key: "k",
    body: { ...userText("weather?"), tools },
  });
  assert.equal(res.headers.get("content-type"), "application/json; charset=UTF-8");
  const raw = await res.text();
  assert.match(raw, /^\[\{.*\}\]$/s);
  const parts = (JSON.parse(raw) as Reply[]).flatMap((c) => c.candidates![0].content.parts);
  assert.deepEqual(parts, [{ functionCall: { name: "w", args: { city: "x" } } }]);
});

mockTest("aborting a slow stream releases the connection; hang waits for abort", async (mock) => {
  const ac = new AbortController();
  const res = await post(mock, FLASH + ":streamGenerateContent?alt=sse", {
    key: "k",
    body: userText("one two three four"),
    headers: { "x-mock-chunk-delay-ms": "5000" },
    signal: ac.signal,
  });
  const reader = res.body!.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /^data: /);
  assert.equal(mock.liveConnections(), 1);
  ac.abort();
  await reader.cancel().catch(() => {});
  await waitFor(() => mock.liveConnections() === 0);
  assert.equal(mock.liveConnections(), 0);

  mock.setKey("hang", { hang: true });
  const ac2 = new AbortController();
  const pending = post(mock, FLASH + ":generateContent", { key: "hang", body: userText("a") });
  const hung = post(mock, FLASH + ":generateContent", { key: "hang", body: "{}", signal: ac2.signal }).catch((
    e,
  ) => e);
  await waitFor(() => mock.liveConnections() === 2);
  assert.equal(mock.liveConnections(), 2);
  ac2.abort();
  assert.ok((await hung) instanceof Error);
  await waitFor(() => mock.liveConnections() === 1);
  assert.equal(mock.liveConnections(), 1);
  await mock.close();
  const closed = await pending;
  await closed.body?.cancel();
  assert.equal(closed.status, 499, "close() ends hanging requests");
});

mockTest("files belong to their key; other keys get 403 on get and in generateContent", async (mock) => {
  const file = await uploadFile(mock, { key: "owner", content: "hello file", displayName: "notes" });
  const id = file.name.slice("files/".length);
  assert.deepEqual([file.sizeBytes, file.state, file.source, file.mimeType], [
    "10",
    "ACTIVE",
    "UPLOADED",
    "text/plain",
  ]);
  assert.equal(file.uri, `${mock.url}/v1beta/files/${id}`);
  assert.equal(mock.requests[1].query.get("upload_id"), id);
  const get = (key: string) =>
    fetch(`${mock.url}/v1beta/files/${id}`, { headers: { "x-goog-api-key": key } });
  assert.equal((await (await get("owner")).json()).name, file.name);
  const theirs = await get("other");
  assert.equal(theirs.status, 403);
  assert.equal(
    (await theirs.json()).error.message,
    `You do not have permission to access the File ${id} or it may not exist.`,
  );
  const body = {
    contents: [{ role: "user", parts: [{ text: "sum" }, { fileData: { fileUri: file.uri } }] }],
  };
  const statuses = [];
  for (const key of ["other", "owner"]) {
    const res = await post(mock, FLASH + ":generateContent", { key, body });
    await res.body?.cancel();
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [403, 200]);
  await uploadFile(mock, { key: "owner", content: "second" });
  const page1 = await getBody(mock, "/v1beta/files?pageSize=1", "owner");
  const page2 = await getBody(mock, `/v1beta/files?pageSize=1&pageToken=${page1.nextPageToken}`, "owner");
  assert.deepEqual([page1.files.length, page2.files.length, page2.nextPageToken], [1, 1, undefined]);
  assert.deepEqual(await getBody(mock, "/v1beta/files", "other"), {});
  const del = await fetch(`${mock.url}/v1beta/files/${id}`, {
    method: "DELETE",
    headers: { "x-goog-api-key": "owner" },
  });
  assert.deepEqual([del.status, await del.json()], [200, {}]);
  const gone = await get("owner");
  await gone.body?.cancel();
  assert.equal(gone.status, 403);
});

mockTest("gemini-3 thought signatures are emitted and enforced", async (mock) => {
  const path = "/v1beta/models/gemini-3-pro-preview:generateContent";
  const tools = [{ functionDeclarations: [{ name: "lookup" }, { name: "other" }] }];
  const first =
    await (await post(mock, path, { key: "k", body: { ...userText("do it in parallel"), tools } })).json();
  const parts = first.candidates[0].content.parts;
  assert.equal(parts.length, 2);
  assert.equal(typeof parts[0].thoughtSignature, "string");
  assert.equal(typeof parts[0].functionCall.id, "string");
  const history = (sig: boolean) => ({
    tools,
    contents: [
      { role: "user", parts: [{ text: "do it" }] },
      {
        role: "model",
        parts: [{
          functionCall: { name: "lookup", args: {} },
          ...(sig ? { thoughtSignature: parts[0].thoughtSignature } : {}),
        }],
      },
      { role: "user", parts: [{ functionResponse: { name: "lookup", response: { output: 42 } } }] },
    ],
  });
  const bad = await post(mock, path, { key: "k", body: history(false) });
  assert.equal(bad.status, 400);
  const err = await bad.json();
  assert.equal(err.error.status, "INVALID_ARGUMENT");
  assert.match(err.error.message, /^Function call is missing a thought_signature in functionCall parts\./);
  assert.match(err.error.message, /function call `default_api:lookup` , position 2\./);
  const good = await (await post(mock, path, { key: "k", body: history(true) })).json();
  assert.equal(good.candidates[0].content.parts[0].text, 'result: [{"output":42}]');
}, { functionCallIds: true });

mockTest("models are paginated and accessible under /v1alpha", async (mock) => {
  const names: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await getBody(
      mock,
      `/v1beta/models${token ? `?pageToken=${encodeURIComponent(token)}` : ""}`,
      "k",
    );
    assert.ok(page.models.length <= 3);
    names.push(...page.models.map((m: { name: string }) => m.name));
    token = page.nextPageToken;
    pages++;
  } while (token);
  assert.ok(pages >= 3);
  assert.ok(names.includes("models/gemini-embedding-001"));
  assert.equal(new Set(names).size, names.length);
  assert.equal((await getBody(mock, "/v1alpha/models/gemini-2.5-pro", "k")).displayName, "Gemini 2.5 Pro");
});

mockTest("@google/genai SDK works directly against the mock", async (mock) => {
  const ai = new GoogleGenAI({ apiKey: "sdk-key", httpOptions: { baseUrl: mock.url } });
  const res = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi there" });
  assert.equal(res.text, "echo: hi there");
  let streamed = "";
  for await (
    const chunk of await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "a b c" })
  ) {
    streamed += chunk.text ?? "";
  }
  assert.equal(streamed, "echo: a b c");
  const models: string[] = [];
  for await (const m of await ai.models.list()) models.push(m.name ?? "");
  assert.ok(models.includes("models/imagen-4.0-generate-001"));
  const file = await ai.files.upload({ file: new Blob(["some text"]), config: { mimeType: "text/plain" } });
  assert.equal(file.sizeBytes, "9");
  assert.equal(file.mimeType, "text/plain");
  const got = await ai.files.get({ name: file.name! });
  assert.equal(got.name, file.name);
  assert.ok(mock.requests.every((r) => r.key === null || r.key === "sdk-key"));
  assert.ok(mock.requests.some((r) => r.keySource === "header"));
});

Deno.test("generateContent behaviours (table)", async (t) => {
  const mock = await MockGemini.start();
  try {
    for (const c of GENERATE_CASES) {
      await t.step(c.name, async () => {
        const res = await post(mock, `/v1beta/models/${c.model ?? "gemini-2.5-flash"}:generateContent`, {
          key: "k",
          body: c.body,
        });
        assert.equal(res.status, 200);
        c.check(await res.json());
      });
    }
  } finally {
    await mock.close();
  }
});

mockTest("countTokens, deterministic embeddings, imagen predict", async (mock) => {
  const count = await postBody(mock, FLASH + ":countTokens", { key: "k", body: userText("one two three") });
  assert.deepEqual(count, { totalTokens: 3, promptTokensDetails: [{ modality: "TEXT", tokenCount: 3 }] });
  const embed = "/v1beta/models/gemini-embedding-001";
  const one = await postBody(mock, embed + ":embedContent", {
    key: "k",
    body: { content: { parts: [{ text: "a" }] } },
  });
  assert.equal(one.embedding.values.length, 8);
  const request = (text: string) => ({
    model: "models/gemini-embedding-001",
    content: { parts: [{ text }] },
    outputDimensionality: 4,
  });
  const batch = await postBody(mock, embed + ":batchEmbedContents", {
    key: "k",
    body: { requests: [request("a"), request("b")] },
  });
  assert.equal(batch.embeddings.length, 2);
  assert.deepEqual(batch.embeddings[0].values, one.embedding.values.slice(0, 4));
  assert.notDeepEqual(batch.embeddings[0].values, batch.embeddings[1].values);
  const { predictions } = await postBody(mock, "/v1beta/models/imagen-4.0-generate-001:predict", {
    key: "k",
    body: { instances: [{ prompt: "cat" }], parameters: { sampleCount: 2, aspectRatio: "16:9" } },
  });
  assert.deepEqual(predictions.map((p: Record<string, string>) => p.mimeType ?? p.contentType), [
    "image/png",
    "image/png",
    "Positive Prompt",
  ]);
  assert.equal(
    (mock.requests.at(-1)!.json as { parameters: { aspectRatio: string } }).parameters.aspectRatio,
    "16:9",
  );
});

mockTest("cachedContents are owned; batches complete; streamed candidates", async (mock) => {
  const contents = [{ role: "user", parts: [{ text: "big doc" }] }];
  const cache = await postBody(mock, "/v1beta/cachedContents", {
    key: "a",
    body: { model: "models/gemini-2.5-flash", contents, ttl: "60s" },
  });
  assert.match(cache.name, /^cachedContents\/\w+$/);
  assert.equal(cache.usageMetadata.totalTokenCount, 2);
  assert.equal((await getBody(mock, `/v1beta/${cache.name}`, "b")).error.code, 403);
  const body = { ...userText("q"), cachedContent: cache.name };
  assert.equal((await postBody(mock, FLASH + ":generateContent", { key: "b", body })).error.code, 403);
  const used = await postBody(mock, FLASH + ":generateContent", { key: "a", body });
  assert.equal(used.usageMetadata.cachedContentTokenCount, 2);

  const requests = [{ request: userText("x"), metadata: { key: "r1" } }];
  const op = await postBody(mock, FLASH + ":batchGenerateContent", {
    key: "a",
    body: { batch: { displayName: "b", inputConfig: { requests: { requests } } } },
  });
  const done = await getBody(mock, `/v1beta/${op.name}`, "a");
  assert.equal(done.done, true);
  const [first] = done.response.inlinedResponses.inlinedResponses;
  assert.equal(first.response.candidates[0].content.parts[0].text, "echo: x");

  const sse = await post(mock, FLASH + ":streamGenerateContent?alt=sse", {
    key: "a",
    body: { ...userText("p q r"), generationConfig: { candidateCount: 2 } },
  });
  const chunks = parseSse(await sse.text()) as Reply[];
  const texts = [0, 1].map((i) =>
    chunks.flatMap((c) => c.candidates!.filter((x) => x.index === i).map((x) => x.content.parts[0].text))
      .join("")
  );
  assert.deepEqual(texts, ["echo: p q r", "echo: p q r"]);
});

mockTest("failNext afterChunks breaks a started stream with Google's error object", async (mock) => {
  mock.failNext({ status: 503, afterChunks: 1 });
  const unary = await post(mock, FLASH + ":generateContent", { key: "k", body: userText("a") });
  await unary.body?.cancel();
  assert.equal(unary.status, 200, "afterChunks injections only hit streams");
  const res = await post(mock, FLASH + ":streamGenerateContent?alt=sse", {
    key: "k",
    body: userText("a b c"),
  });
  assert.equal(res.status, 200);
  const events = parseSse(await res.text());
  assert.equal(events.length, 2);
  assert.deepEqual(events[1], {
    error: { code: 503, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" },
  });
  mock.failNext({ status: 500, afterChunks: 0 });
  const arr = JSON.parse(
    await (await post(mock, FLASH + ":streamGenerateContent", { key: "k", body: userText("x") })).text(),
  );
  assert.equal(arr[0].error.status, "INTERNAL");
});
