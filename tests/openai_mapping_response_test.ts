/**
 * Gemini -> OpenAI response mapping: whole answers, stream translation, base64 embeddings, error
 * mapping and image sizes.
 */
import assert from "node:assert/strict";
import { GatewayError } from "../lib/http/errors.ts";
import { base64ToBytes, floatsToBase64 } from "../lib/util/base64.ts";
import { mapChatResponse, sourcesMarkdown } from "../lib/openai/chat_response.ts";
import { ChatCompletionStream, type ChatStreamOptions } from "../lib/openai/chat_stream.ts";
import { readGeminiStream } from "../lib/gemini/stream.ts";
import { SseEncoderStream } from "../lib/http/sse.ts";
import { toOpenAIError } from "../lib/openai/errors.ts";
import { ASPECT_RATIOS, aspectRatioFor } from "../lib/openai/images.ts";
import { toolCallRef } from "../lib/gemini/tool_call_ids.ts";
import { ThoughtSignatures } from "../lib/gemini/thought_signatures.ts";

/** What the OpenAI edge does with a Gemini SSE body: read the items, translate, encode. */
function translateChatStream(
  body: ReadableStream<Uint8Array>,
  o: ChatStreamOptions,
): ReadableStream<Uint8Array> {
  return readGeminiStream(body).pipeThrough(new ChatCompletionStream(o)).pipeThrough(new SseEncoderStream());
}

Deno.test("response mapping: text, thoughts, images, finish reasons, usage", () => {
  const res = mapChatResponse({
    candidates: [
      {
        content: {
          role: "model",
          parts: [{ text: "thinking...", thought: true }, { text: "Hello" }, {
            inlineData: { mimeType: "image/png", data: "QUJD" },
          }],
        },
        finishReason: "MAX_TOKENS",
      },
      { index: 1, content: { role: "model", parts: [{ text: "x" }] }, finishReason: "PROHIBITED_CONTENT" },
      { index: 2, content: { role: "model", parts: [{ text: "y" }] }, finishReason: "SOMETHING_NEW" },
    ],
    usageMetadata: {
      promptTokenCount: 10,
      cachedContentTokenCount: 4,
      candidatesTokenCount: 5,
      thoughtsTokenCount: 7,
      totalTokenCount: 22,
    },
  }, { model: "my-alias", includeThoughts: true });
  assert.match(res.id, /^chatcmpl-/);
  assert.equal(res.model, "my-alias");
  // The image starts its own paragraph, and comes in `images` too.
  assert.equal(res.choices[0].message.content, "Hello\n\n![image](data:image/png;base64,QUJD)");
  assert.equal(res.choices[0].message.reasoning_content, "thinking...");
  assert.deepEqual(res.choices.map((c) => c.finish_reason), ["length", "content_filter", "stop"]);
  assert.deepEqual(res.usage, {
    prompt_tokens: 10,
    completion_tokens: 12,
    total_tokens: 22,
    prompt_tokens_details: { cached_tokens: 4 },
    completion_tokens_details: { reasoning_tokens: 7 },
  });
  const lp = mapChatResponse({
    candidates: [{
      content: { parts: [{ text: "é" }] },
      logprobsResult: {
        chosenCandidates: [{ token: "é", logProbability: -0.5 }],
        topCandidates: [{
          candidates: [{ token: "é", logProbability: -0.5 }, { token: "e", logProbability: -1 }],
        }],
      },
    }],
  }, { model: "m" });
  assert.deepEqual(lp.choices[0].logprobs, {
    content: [{
      token: "é",
      logprob: -0.5,
      bytes: [195, 169],
      top_logprobs: [{ token: "é", logprob: -0.5, bytes: [195, 169] }, {
        token: "e",
        logprob: -1,
        bytes: [101],
      }],
    }],
    refusal: null,
  });
  const hidden = mapChatResponse({
    candidates: [{ content: { parts: [{ text: "t", thought: true }, { text: "a" }] } }],
  }, {
    model: "m",
  });
  assert.equal(hidden.choices[0].message.reasoning_content, undefined);
  assert.equal(hidden.choices[0].message.content, "a");
});

Deno.test("response mapping: blocked prompt and grounding", () => {
  const blocked = mapChatResponse({ promptFeedback: { blockReason: "SAFETY" } }, { model: "m" });
  assert.deepEqual(blocked.choices[0].finish_reason, "content_filter");
  assert.equal(blocked.choices[0].message.content, "");
  const grounded = mapChatResponse({
    candidates: [{
      content: { parts: [{ text: "Zürich is big." }] },
      finishReason: "STOP",
      groundingMetadata: {
        groundingChunks: [{ web: { uri: "https://a.example", title: "A" } }, {
          web: { uri: "https://b.example" },
        }],
        groundingSupports: [{
          segment: { startIndex: 0, endIndex: 15, text: "Zürich is big." },
          groundingChunkIndices: [0, 1],
        }],
      },
    }],
  }, { model: "m", searchLinks: true });
  const msg = grounded.choices[0].message;
  assert.equal(
    msg.content,
    "Zürich is big.\n\nSources:\n1. [A](https://a.example)\n2. [https://b.example](https://b.example)",
  );
  assert.deepEqual(msg.annotations, [
    {
      type: "url_citation",
      url_citation: { url: "https://a.example", title: "A", start_index: 0, end_index: 14 },
    },
    {
      type: "url_citation",
      url_citation: { url: "https://b.example", title: "https://b.example", start_index: 0, end_index: 14 },
    },
  ]);
});

function sse(events: unknown[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join(""));
  // Split at awkward places to exercise the parser's buffering.
  return ReadableStream.from([bytes.slice(0, 7), bytes.slice(7, 50), bytes.slice(50)]);
}

type Frame = {
  id: string;
  model: string;
  usage?: Record<string, unknown> | null;
  choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>;
  error?: { message: string; type: string };
};

async function frames(stream: ReadableStream<Uint8Array>): Promise<{ list: Frame[]; done: boolean }> {
  const text = await new Response(stream).text();
  const raw = text.split("\n\n").filter(Boolean).map((
    f,
  ) => (assert.ok(f.startsWith("data: "), f), f.slice(6)));
  const done = raw.at(-1) === "[DONE]";
  return { list: (done ? raw.slice(0, -1) : raw).map((d) => JSON.parse(d)), done };
}

const cand = (parts: unknown[], extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: { role: "model", parts }, ...extra }],
});

Deno.test("stream translation: CRLF framing, deltas, tool calls, usage chunk, [DONE]", async () => {
  const usageMetadata = {
    promptTokenCount: 3,
    candidatesTokenCount: 4,
    thoughtsTokenCount: 2,
    totalTokenCount: 9,
  };
  const calls = [
    { functionCall: { name: "a", args: { x: 1 } }, thoughtSignature: "U0lH" },
    { functionCall: { name: "b", args: {} } },
  ];
  const signatures = new ThoughtSignatures();
  const { list, done } = await frames(translateChatStream(
    sse([
      { ...cand([{ text: "plan", thought: true }]), usageMetadata },
      { ...cand([{ text: "Hel" }]), usageMetadata },
      { ...cand([{ text: "lo" }]), usageMetadata },
      { ...cand(calls, { finishReason: "STOP" }), usageMetadata },
    ]),
    { model: "client-model", includeThoughts: true, includeUsage: true, signatures },
  ));
  const deltas = list.slice(0, -1).map((f) => f.choices[0].delta);
  assert.deepEqual(deltas.slice(0, 4), [
    { role: "assistant", content: "" },
    { reasoning_content: "plan" },
    { content: "Hel" },
    { content: "lo" },
  ]);
  const tc = deltas.slice(4, 6).map((d) => (d.tool_calls as Array<Record<string, unknown>>)[0]);
  assert.deepEqual(tc.map((t) => [t.index, t.type, t.function]), [
    [0, "function", { name: "a", arguments: '{"x":1}' }],
    [1, "function", { name: "b", arguments: "{}" }],
  ]);
  const ref = toolCallRef(tc[0].id as string)!;
  assert.equal((await signatures.recall({ calls: [ref] })).call(ref)?.signature, "U0lH");
  assert.deepEqual(list.at(-2)!.choices[0], {
    index: 0,
    delta: {},
    logprobs: null,
    finish_reason: "tool_calls",
  });
  assert.deepEqual(list.at(-1)!.choices, []);
  assert.equal(list.at(-1)!.usage?.completion_tokens, 6);
  assert.ok(done);
  assert.equal(new Set(list.map((f) => f.id)).size, 1);
  assert.ok(list.slice(0, -1).every((f) => f.usage === null && f.model === "client-model"));
});

Deno.test("stream translation: each chunk on the wire is its object as JSON, keys in OpenAI's order", async () => {
  for (const includeUsage of [true, false]) {
    const stream = translateChatStream(
      sse([
        { ...cand([{ text: "plan", thought: true }, { text: 'He said "hi"\n\u2028' }]) },
        cand([{ functionCall: { name: "a", args: { x: 1 } } }]),
        { ...cand([{ text: "." }], { finishReason: "STOP" }), usageMetadata: { totalTokenCount: 1 } },
      ]),
      { model: 'model "quoted"', includeThoughts: true, includeUsage },
    );
    const lines = (await new Response(stream).text()).split("\n\n").filter(Boolean).map((f) => f.slice(6));
    assert.equal(lines.pop(), "[DONE]");
    assert.ok(lines.length >= 6, lines.join("\n"));
    for (const line of lines) {
      const chunk = JSON.parse(line);
      assert.equal(line, JSON.stringify(chunk));
      const keys = ["id", "object", "created", "model", "choices", ...(includeUsage ? ["usage"] : [])];
      assert.deepEqual(Object.keys(chunk), keys);
      assert.equal(chunk.model, 'model "quoted"');
    }
  }
});

Deno.test("stream translation: thoughts hidden without includeThoughts; no usage chunk by default", async () => {
  const { list } = await frames(translateChatStream(
    sse([cand([{ text: "t", thought: true }, { text: "a" }], { finishReason: "STOP" })]),
    { model: "m" },
  ));
  assert.deepEqual(list.map((f) => [f.choices[0].delta, f.choices[0].finish_reason]), [
    [{ role: "assistant", content: "" }, null],
    [{ content: "a" }, null],
    [{}, "stop"],
  ]);
  assert.equal("usage" in list[2], false);
});

Deno.test("stream translation: upstream error event becomes an OpenAI error event and ends the stream", async () => {
  const { list, done } = await frames(translateChatStream(
    sse([
      cand([{ text: "a" }]),
      { error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } },
      cand([{ text: "never" }]),
    ]),
    { model: "m" },
  ));
  assert.deepEqual(list.at(-1)!.error, {
    message: "The model is overloaded.",
    type: "server_error",
    param: null,
    code: null,
  });
  assert.equal(done, false);
  assert.equal(JSON.stringify(list).includes("never"), false);
});

Deno.test("stream translation: a bare JSON error body (no SSE framing) becomes an error event", async () => {
  const body = JSON.stringify([{
    error: { code: 429, message: "Resource exhausted.", status: "RESOURCE_EXHAUSTED" },
  }]);
  const { list, done } = await frames(
    translateChatStream(ReadableStream.from([new TextEncoder().encode(body)]), {
      model: "m",
    }),
  );
  assert.deepEqual(list.map((f) => f.error?.type), ["requests"]);
  assert.equal(done, false);
});

Deno.test("stream translation: blocked prompt yields a content_filter choice", async () => {
  const { list } = await frames(
    translateChatStream(sse([{ promptFeedback: { blockReason: "SAFETY" } }]), { model: "m" }),
  );
  assert.equal(list[1].choices[0].finish_reason, "content_filter");
});

Deno.test("base64 embeddings are little-endian float32", () => {
  const values = [0.5, -1.25, 3];
  const view = new DataView(base64ToBytes(floatsToBase64(values)).buffer);
  assert.deepEqual([0, 1, 2].map((i) => view.getFloat32(i * 4, true)), values);
});

const googleError = (code: number, message: string, detail?: Record<string, unknown>) => ({
  error: { code, message, status: "X", details: detail ? [detail] : [] },
});
const RPC = "type.googleapis.com/google.rpc.";

Deno.test("error mapping: 429 keeps Retry-After, quotas, invalid key -> 401, 404, 5xx", () => {
  const quota = googleError(429, "You exceeded your current quota.", {
    "@type": RPC + "RetryInfo",
    retryDelay: "47.2s",
  });
  const e429 = toOpenAIError(new GatewayError(429, "rate limited", { upstream: quota }));
  assert.deepEqual([e429.status, e429.headers["retry-after"]], [429, "48"]);
  assert.deepEqual(e429.body.error, {
    message: "You exceeded your current quota.",
    type: "requests",
    param: null,
    code: "rate_limit_exceeded",
  });
  const kept = toOpenAIError(
    new GatewayError(429, "x", { headers: { "Retry-After": "5" }, upstream: quota }),
  );
  assert.deepEqual(kept.headers, { "Retry-After": "5" });
  const daily = toOpenAIError(
    new GatewayError(429, "x", {
      upstream: googleError(429, "quota", {
        "@type": RPC + "QuotaFailure",
        violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" }],
      }),
    }),
  );
  assert.deepEqual([daily.status, daily.body.error.type, daily.headers["x-should-retry"]], [
    429,
    "insufficient_quota",
    "false",
  ]);
  assert.equal(toOpenAIError(new GatewayError(402, "credits")).status, 429);
  const badKey = toOpenAIError(
    new GatewayError(400, "bad", {
      upstream: googleError(400, "API key not valid.", {
        "@type": RPC + "ErrorInfo",
        reason: "API_KEY_INVALID",
      }),
    }),
  );
  assert.deepEqual([badKey.status, badKey.body.error.code], [401, "invalid_api_key"]);
  assert.equal(toOpenAIError(new GatewayError(404, "no model")).body.error.code, "model_not_found");
  const e500 = toOpenAIError(new Error("boom"));
  assert.deepEqual([e500.status, e500.body.error.type], [500, "server_error"]);
});

Deno.test("image sizes map to the closest supported aspect ratio", () => {
  const rows: Array<[string, keyof typeof ASPECT_RATIOS, string | undefined]> = [
    ["1024x1024", "imagen", "1:1"],
    ["1792x1024", "imagen", "16:9"],
    ["1024x1792", "imagen", "9:16"],
    ["1536x1024", "imagen", "4:3"],
    ["1536x1024", "gemini", "3:2"],
    ["auto", "gemini", undefined],
  ];
  for (const [size, family, want] of rows) {
    assert.equal(aspectRatioFor(size, ASPECT_RATIOS[family]), want, size);
  }
  assert.throws(() => aspectRatioFor("big", ASPECT_RATIOS.gemini), GatewayError);
});

Deno.test("sourcesMarkdown lists unique web sources", () => {
  const md = sourcesMarkdown({
    groundingChunks: [{ web: { uri: "https://a.example", title: "A [x]" } }, {
      web: { uri: "https://a.example" },
    }, {
      web: { uri: "https://b.example" },
    }],
  });
  assert.equal(md, "\n\nSources:\n1. [A x](https://a.example)\n2. [https://b.example](https://b.example)");
  assert.equal(sourcesMarkdown(undefined), "");
});
