/**
 * Vertex AI express keys as a second kind of key, driven as users drive the gateway: the official
 * `@google/genai` and `openai` SDKs (and Anthropic's, and OpenAI's Responses) get the same answers from a
 * pool of only Vertex express keys as from a pool of Gemini API keys (generate, stream, count tokens,
 * embeddings), the Vertex calls go to Vertex's URLs with the key in a header, and a mixed pool spreads its
 * load over both kinds.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import OpenAI from "./support/sdk/openai.ts";
import Anthropic from "./support/sdk/anthropic.ts";
import { startVertexHarness, type VertexHarness } from "./support/vertex_harness.ts";

type Json = Record<string, unknown>;

/** A JSON copy without what differs per call (ids, the SDK's HTTP details). */
function comparable(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(
      v,
      (k, x) => ["sdkHttpResponse", "responseId", "id", "created"].includes(k) ? undefined : x,
    ),
  );
}

const genai = (h: VertexHarness) => new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
const openai = (h: VertexHarness) => new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
const anthropic = (h: VertexHarness) => new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });

/** Every scenario, each answering what the client saw. */
const SCENARIOS: Record<string, (h: VertexHarness) => Promise<unknown>> = {
  "genai generateContent": async (h) =>
    await genai(h).models.generateContent({
      model: "gemini-2.5-flash",
      contents: "tell me about the sea",
      config: {
        systemInstruction: "be brief",
        thinkingConfig: { includeThoughts: true, thinkingBudget: 512 },
      },
    }),
  "genai generateContent with a tool": async (h) =>
    await genai(h).models.generateContent({
      model: "gemini-2.5-flash",
      contents: "what is the weather in Paris",
      config: {
        tools: [{
          functionDeclarations: [{
            name: "get_weather",
            parameters: { type: "OBJECT" as never, properties: { city: { type: "STRING" as never } } },
          }],
        }],
      },
    }),
  "genai generateContentStream": async (h) => {
    const stream = await genai(h).models.generateContentStream({
      model: "gemini-2.5-flash",
      contents: "one two three four five",
    });
    let text = "";
    let last: Json = {};
    for await (const chunk of stream) {
      text += chunk.text ?? "";
      last = comparable(chunk) as Json;
    }
    return { text, finishReason: (last.candidates as Json[])?.[0]?.finishReason, usage: last.usageMetadata };
  },
  "genai countTokens": async (h) =>
    await genai(h).models.countTokens({ model: "gemini-2.5-flash", contents: "one two three" }),
  "genai embedContent": async (h) =>
    await genai(h).models.embedContent({
      model: "gemini-embedding-001",
      contents: ["alpha", "beta gamma"],
      config: { outputDimensionality: 6, taskType: "RETRIEVAL_DOCUMENT" },
    }),
  "openai chat completion": async (h) =>
    await openai(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hello there" }],
    }),
  "openai chat stream": async (h) => {
    const stream = openai(h).chat.completions.stream({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "one two three four" }],
      stream_options: { include_usage: true },
    });
    let content = "";
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? "";
    const final = await stream.finalChatCompletion();
    return { content, finish: final.choices[0].finish_reason, usage: final.usage };
  },
  "openai responses": async (h) => {
    const r = await openai(h).responses.create({
      model: "gemini-2.5-flash",
      input: "hello there",
      store: false,
    });
    return { text: r.output_text, status: r.status, usage: r.usage };
  },
  "anthropic messages": async (h) =>
    await anthropic(h).messages.create({
      model: "gemini-2.5-flash",
      max_tokens: 100,
      system: "be brief",
      messages: [{ role: "user", content: "hello there" }],
    }),
  "anthropic messages stream": async (h) => {
    const stream = anthropic(h).messages.stream({
      model: "gemini-2.5-flash",
      max_tokens: 100,
      messages: [{ role: "user", content: "one two three four" }],
    });
    const final = await stream.finalMessage();
    return { content: final.content, stop: final.stop_reason, usage: final.usage };
  },
  "anthropic countTokens": async (h) =>
    await anthropic(h).messages.countTokens({
      model: "gemini-2.5-flash",
      system: "be brief",
      messages: [{ role: "user", content: "one two three" }],
    }),
  "openai embeddings": async (h) =>
    await openai(h).embeddings.create({
      model: "gemini-embedding-001",
      input: ["alpha", "beta", "gamma"],
      dimensions: 4,
      encoding_format: "float",
    }),
};

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  Deno.test(`Vertex express pool: ${name} answers as a Gemini API pool does`, async () => {
    const gemini = await startVertexHarness({ gemini: 2, vertex: 0 });
    const vertex = await startVertexHarness({ gemini: 0, vertex: 2 });
    try {
      const want = comparable(await scenario(gemini));
      const got = comparable(await scenario(vertex));
      assert.deepEqual(got, want);
      assert.equal(vertex.mock.requests.length, 0, "nothing of the Vertex pool went to the Gemini API");
      const calls = vertex.vertex.requests;
      assert.ok(calls.length > 0, "the Vertex pool's calls went to Vertex");
      for (const c of calls) {
        assert.match(
          c.path,
          /^\/v1(beta1)?\/publishers\/google\/models\/[^/:]+:(generateContent|streamGenerateContent|countTokens|predict)$/,
        );
        assert.equal(c.keySource, "header", "the key goes in x-goog-api-key");
        assert.equal(c.query.get("key"), null, "never in the URL");
        assert.ok(vertex.vertexKeys.includes(c.key!), "a Vertex key of the pool");
      }
    } finally {
      await gemini.close();
      await vertex.close();
    }
  });
}

Deno.test("Vertex express pool: each Vertex call has the shape express mode expects", async () => {
  const h = await startVertexHarness({ vertex: 1 });
  try {
    const ai = genai(h);
    await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
    await ai.models.countTokens({ model: "gemini-2.5-flash", contents: "one two" });
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "a b c" });
    for await (const _ of stream) { /* drain */ }
    await ai.models.embedContent({ model: "gemini-embedding-001", contents: ["alpha", "beta"] });
    const calls = h.vertex.requests.map((r) => `${r.path}${r.query.size ? `?${r.query}` : ""}`);
    const version = calls[0].split("/")[1];
    assert.match(version, /^v1(beta1)?$/);
    assert.deepEqual(calls, [
      `/${version}/publishers/google/models/gemini-2.5-flash:generateContent`,
      `/${version}/publishers/google/models/gemini-2.5-flash:countTokens`,
      `/${version}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
      // gemini-embedding-001 takes one instance per :predict call on Vertex.
      `/${version}/publishers/google/models/gemini-embedding-001:predict`,
      `/${version}/publishers/google/models/gemini-embedding-001:predict`,
    ]);
    const predict = h.vertex.requests.filter((r) => r.path.endsWith(":predict")).map((r) => r.json);
    assert.deepEqual(predict, [{ instances: [{ content: "alpha" }] }, { instances: [{ content: "beta" }] }]);
  } finally {
    await h.close();
  }
});

Deno.test("Vertex express pool: a v1beta client is served by Vertex v1beta1, a v1 client by v1", async () => {
  const h = await startVertexHarness({ vertex: 1 });
  try {
    for (const version of ["v1beta", "v1"]) {
      const r = await fetch(`${h.url}/${version}/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
        // No role: the Gemini API takes it as the user's turn; Vertex needs it written.
        body: JSON.stringify({ contents: [{ parts: [{ text: "no role here" }] }], serviceTier: "standard" }),
      });
      assert.equal(r.status, 200, await r.clone().text());
      const answer = await r.json();
      assert.equal(answer.candidates[0].content.parts[0].text, "echo: no role here");
      assert.equal(answer.createTime, undefined, "Vertex's createTime is not passed on");
      assert.equal(answer.usageMetadata.trafficType, undefined, "nor its trafficType");
    }
    assert.deepEqual(h.vertex.requests.map((r) => r.path.split("/")[1]), ["v1beta1", "v1"]);
    assert.deepEqual(h.vertex.requests[0].json, {
      contents: [{ parts: [{ text: "no role here" }], role: "user" }],
    });
  } finally {
    await h.close();
  }
});

Deno.test("a mixed pool spreads its load over Gemini API and Vertex express keys", async () => {
  const h = await startVertexHarness({ gemini: 2, vertex: 2 });
  try {
    const ai = genai(h);
    for (let i = 0; i < 8; i++) {
      const res = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: `request ${i}` });
      assert.equal(res.text, `echo: request ${i}`);
    }
    const generate = (r: { path: string }) => r.path.endsWith(":generateContent");
    const perKey = new Map<string, number>();
    for (const r of [...h.mock.requests, ...h.vertex.requests].filter(generate)) {
      perKey.set(r.key!, (perKey.get(r.key!) ?? 0) + 1);
    }
    assert.deepEqual(
      [...h.geminiKeys, ...h.vertexKeys].map((k) => perKey.get(k) ?? 0),
      [2, 2, 2, 2],
      "each of the four keys served two of the eight requests",
    );
  } finally {
    await h.close();
  }
});
