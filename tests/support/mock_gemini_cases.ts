/**
 * Declarative cases for the mock's `generateContent` behaviours: request body -> assertions on the reply.
 * Used by tests/mock_gemini_test.ts; gateway tests may reuse them to check pass-through fidelity.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { MockGemini, MockKeyBehavior } from "./mock_gemini.ts";
import { userText } from "./mock_gemini_client.ts";

/** The parts of a GenerateContentResponse the cases look at. */
export type Reply = {
  candidates?: {
    content: { parts: Record<string, unknown>[] };
    finishReason: string;
    index: number;
    groundingMetadata?: { groundingChunks: unknown[] };
  }[];
  promptFeedback?: { blockReason: string };
  usageMetadata: Record<string, number>;
};

const weather = { name: "weather", parameters: { type: "OBJECT", properties: { city: { type: "STRING" } } } };
/** One behaviour per row: model (default gemini-2.5-flash), request body, checks on the JSON reply. */
export const GENERATE_CASES: {
  name: string;
  model?: string;
  body: Record<string, unknown>;
  check(r: Reply): void;
}[] = [
  {
    name: "candidateCount",
    body: { ...userText("hi"), generationConfig: { candidateCount: 2 } },
    check: (r) => assert.deepEqual(r.candidates!.map((c) => c.index), [0, 1]),
  },
  {
    name: "maxOutputTokens < 5 truncates",
    body: { ...userText("one two three four"), generation_config: { max_output_tokens: 2 } },
    check: (r) => {
      assert.equal(r.candidates![0].finishReason, "MAX_TOKENS");
      assert.equal(r.candidates![0].content.parts[0].text, "echo: one");
    },
  },
  {
    name: "BLOCKME blocks the prompt",
    body: userText("please BLOCKME"),
    check: (r) => {
      assert.equal(r.candidates, undefined);
      assert.equal(r.promptFeedback!.blockReason, "SAFETY");
    },
  },
  {
    name: "JSON schema output",
    body: {
      ...userText("j"),
      generationConfig: {
        responseMimeType: "application/json",
        responseJsonSchema: {
          type: "object",
          properties: {
            s: { type: "string" },
            n: { type: ["integer", "null"] },
            e: { enum: ["a", "b"] },
            l: { items: { type: "boolean" } },
          },
        },
      },
    },
    check: (r) =>
      assert.deepEqual(JSON.parse(String(r.candidates![0].content.parts[0].text)), {
        s: "x",
        n: 1,
        e: "a",
        l: [true],
      }),
  },
  {
    name: "JSON without schema",
    body: { ...userText("j k"), generationConfig: { responseMimeType: "application/json" } },
    check: (r) => assert.equal(r.candidates![0].content.parts[0].text, '{"echo":"j k"}'),
  },
  {
    name: "thoughts",
    body: { ...userText("t"), generationConfig: { thinkingConfig: { includeThoughts: true } } },
    check: (r) => {
      assert.deepEqual(r.candidates![0].content.parts[0], { text: "Thinking about it.", thought: true });
      const u = r.usageMetadata;
      assert.equal(u.thoughtsTokenCount, 3);
      assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount + u.thoughtsTokenCount);
    },
  },
  {
    name: "parallel function calls",
    body: { ...userText("parallel please"), tools: [{ functionDeclarations: [weather, { name: "noop" }] }] },
    check: (r) => {
      const calls = r.candidates![0].content.parts.map((p) => p.functionCall);
      assert.deepEqual(calls, [{ name: "weather", args: { city: "x" } }, { name: "noop", args: {} }]);
      assert.equal(r.candidates![0].finishReason, "STOP");
    },
  },
  {
    name: "function responses",
    body: {
      contents: [{
        role: "user",
        parts: [{ functionResponse: { name: "a", response: { x: 1 } } }, {
          functionResponse: { name: "b", response: { y: 2 } },
        }],
      }],
      tools: [{ functionDeclarations: [weather] }],
    },
    check: (r) => assert.equal(r.candidates![0].content.parts[0].text, 'result: [{"x":1},{"y":2}]'),
  },
  {
    name: "google search grounding",
    body: { ...userText("news"), tools: [{ googleSearch: {} }] },
    check: (r) => assert.equal(r.candidates![0].groundingMetadata!.groundingChunks.length, 2),
  },
  {
    name: "image output",
    model: "gemini-2.5-flash-image",
    body: userText("draw"),
    check: (r) =>
      assert.equal(
        (r.candidates![0].content.parts[1].inlineData as { mimeType: string }).mimeType,
        "image/png",
      ),
  },
  {
    name: "audio output",
    model: "gemini-2.5-flash-preview-tts",
    body: {
      ...userText("say"),
      generationConfig: {
        responseModalities: ["AUDIO"],
        speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: "Kore" } } },
      },
    },
    check: (r) => {
      const data = r.candidates![0].content.parts[0].inlineData as { mimeType: string; data: string };
      assert.equal(data.mimeType, "audio/L16;codec=pcm;rate=24000");
      assert.equal(atob(data.data).length, 4800);
    },
  },
];

/** What an error case expects in the Google envelope. */
export interface ErrorExpectation {
  /** HTTP status (= `error.code`). */
  code: number;
  /** `error.status`. */
  status: string;
  /** Exact message, or a pattern. */
  message: string | RegExp;
  /** `reason` of the ErrorInfo detail, when one must be present. */
  reason?: string;
  /** `@type` suffixes that must appear in `details`. */
  details?: string[];
}

/** One error behaviour: key setup, request, expected envelope. */
export interface ErrorCase {
  name: string;
  keys?: Record<string, MockKeyBehavior>;
  setup?: (mock: MockGemini) => void;
  path: string;
  key?: string;
  body: unknown;
  expect: ErrorExpectation;
}

const GEN = "/v1beta/models/gemini-2.5-flash:generateContent";
const embedRequest = { model: "models/gemini-embedding-001", content: { parts: [{ text: "x" }] } };

/** Error behaviours (each run against a fresh mock). */
export const ERROR_CASES: ErrorCase[] = [
  {
    name: "no key",
    path: GEN,
    body: userText("a"),
    expect: { code: 403, status: "PERMISSION_DENIED", message: /^Method doesn't allow unregistered callers/ },
  },
  {
    name: "invalid key",
    keys: { bad: { invalid: true } },
    path: GEN + "?key=bad",
    body: userText("a"),
    expect: {
      code: 400,
      status: "INVALID_ARGUMENT",
      message: "API key not valid. Please pass a valid API key.",
      reason: "API_KEY_INVALID",
      details: ["ErrorInfo", "LocalizedMessage"],
    },
  },
  {
    name: "expired key",
    keys: { old: { expired: true } },
    key: "old",
    path: GEN,
    body: userText("a"),
    expect: {
      code: 400,
      status: "INVALID_ARGUMENT",
      message: "API key expired. Please renew the API key.",
      reason: "API_KEY_INVALID",
    },
  },
  {
    name: "leaked key",
    keys: { leak: { denied: "leaked" } },
    key: "leak",
    path: GEN,
    body: userText("a"),
    expect: {
      code: 403,
      status: "PERMISSION_DENIED",
      message: "Your API key was reported as leaked. Please use another API key.",
    },
  },
  {
    name: "service blocked key",
    keys: { blk: { denied: "blocked" } },
    key: "blk",
    path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
    body: userText("a"),
    expect: {
      code: 403,
      status: "PERMISSION_DENIED",
      message: /GenerativeService\.StreamGenerateContent are blocked\.$/,
      reason: "API_KEY_SERVICE_BLOCKED",
    },
  },
  {
    name: "unknown model",
    key: "k",
    path: "/v1beta/models/nope:generateContent",
    body: userText("a"),
    expect: {
      code: 404,
      status: "NOT_FOUND",
      message:
        "models/nope is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
    },
  },
  {
    name: "unknown top-level field",
    key: "k",
    path: GEN,
    body: { ...userText("a"), temperature: 1 },
    expect: {
      code: 400,
      status: "INVALID_ARGUMENT",
      message: 'Invalid JSON payload received. Unknown name "temperature": Cannot find field.',
      details: ["BadRequest"],
    },
  },
  {
    name: "invalid JSON",
    key: "k",
    path: GEN,
    body: "{not json",
    expect: { code: 400, status: "INVALID_ARGUMENT", message: /^Invalid JSON payload received\./ },
  },
  {
    name: "more than 100 embeddings",
    key: "k",
    path: "/v1beta/models/gemini-embedding-001:batchEmbedContents",
    body: { requests: Array.from({ length: 101 }, () => embedRequest) },
    expect: {
      code: 400,
      status: "INVALID_ARGUMENT",
      message: /BatchEmbedContentsRequest\.requests: at most 100 requests can be in one batch/,
    },
  },
  {
    name: "injected 503",
    setup: (mock) => mock.failNext({ status: 503, model: "gemini-2.5-flash" }),
    key: "k",
    path: GEN,
    body: userText("a"),
    expect: { code: 503, status: "UNAVAILABLE", message: "The model is overloaded. Please try again later." },
  },
  {
    name: "injected 500",
    setup: (mock) => mock.failNext({ status: 500, key: "k" }),
    key: "k",
    path: GEN,
    body: userText("a"),
    expect: { code: 500, status: "INTERNAL", message: /^An internal error has occurred\./ },
  },
  {
    name: "injected 504",
    setup: (mock) => mock.failNext({ status: 504 }),
    key: "k",
    path: GEN,
    body: userText("a"),
    expect: {
      code: 504,
      status: "DEADLINE_EXCEEDED",
      message: "Deadline expired before operation could complete.",
    },
  },
];

/** Asserts that `res` is a Google error envelope matching `expect` (status, headers, message, details). */
export async function assertGoogleError(res: Response, expect: ErrorExpectation): Promise<void> {
  assert.equal(res.headers.get("content-type"), "application/json; charset=UTF-8");
  const { error } = await res.json();
  assert.equal(res.status, expect.code);
  assert.equal(error.code, expect.code);
  assert.equal(error.status, expect.status);
  if (typeof expect.message === "string") assert.equal(error.message, expect.message);
  else assert.match(error.message, expect.message);
  const types: string[] = (error.details ?? []).map((d: { "@type": string }) => d["@type"]);
  for (const suffix of expect.details ?? []) {
    assert.ok(
      types.includes(`type.googleapis.com/google.rpc.${suffix}`),
      `details lack google.rpc.${suffix}`,
    );
  }
  if (expect.reason) assert.equal(error.details[0].reason, expect.reason);
}
