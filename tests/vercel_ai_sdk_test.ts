/**
 * The Vercel AI SDK against the gateway: `@ai-sdk/anthropic` (Messages route) and the default
 * `@ai-sdk/openai` provider (Responses route): text, streamed text, and a multi-step tool loop with
 * `execute` on a Gemini 3 model whose mock upstream enforces thought signatures.
 */
import assert from "node:assert/strict";
import {
  createAnthropic,
  createOpenAI,
  generateText,
  isStepCount,
  jsonSchema,
  streamText,
  tool,
} from "./support/sdk/ai.ts";
import { type Harness, startHarness } from "./support/harness.ts";
import { SKIP_THOUGHT_SIGNATURE } from "../lib/gemini/thought_signatures.ts";

type Json = Record<string, unknown>;

const PROVIDERS = {
  anthropic: (h: Harness) => createAnthropic({ apiKey: h.token, baseURL: `${h.url}/v1` }),
  openai: (h: Harness) => createOpenAI({ apiKey: h.token, baseURL: `${h.url}/v1` }),
};

const weather = tool({
  description: "Weather for a city",
  inputSchema: jsonSchema<{ city: string }>({
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  }),
  execute: ({ city }) => Promise.resolve(`sunny in ${city}`),
});

function generateBodies(h: Harness): Json[] {
  return h.mock.requests.filter((r) => /:(stream)?[gG]enerateContent$/.test(r.path)).map((r) =>
    r.json as Json
  );
}

for (const [name, provider] of Object.entries(PROVIDERS)) {
  const route = name === "anthropic" ? "anthropic" : "responses";

  Deno.test(`vercel ai sdk (${name}): text and streamed text`, async () => {
    const h = await startHarness();
    try {
      const model = provider(h)("gemini-2.5-flash");
      const { text } = await generateText({ model, prompt: "hello there", maxRetries: 0 });
      assert.equal(text, "echo: hello there");
      const stream = streamText({ model, prompt: "one two three four", maxRetries: 0 });
      const pieces: string[] = [];
      for await (const piece of stream.textStream) pieces.push(piece);
      assert.equal(pieces.join(""), "echo: one two three four");
      assert.ok(pieces.length >= 3, `streamed in pieces: ${JSON.stringify(pieces)}`);
      const routes = new Set(h.records.filter((r) => r.route !== "models").map((r) => r.route));
      assert.deepEqual([...routes], [route]);
    } finally {
      await h.close();
    }
  });

  Deno.test(`vercel ai sdk (${name}): multi-step tool loop on Gemini 3 keeps the thought signature`, async () => {
    const h = await startHarness();
    try {
      const result = await generateText({
        model: provider(h)("gemini-3-flash-preview"),
        prompt: "weather in Paris?",
        tools: { get_weather: weather },
        stopWhen: isStepCount(3),
        maxRetries: 0,
      });
      assert.equal(result.text, 'result: [{"output":"sunny in x"}]');
      assert.equal(result.steps.length, 2);
      const second = generateBodies(h).at(-1)!;
      const model = (second.contents as Json[]).find((c) => c.role === "model")!;
      const call = (model.parts as Json[]).find((p) => p.functionCall)!;
      assert.equal(typeof call.thoughtSignature, "string");
      assert.notEqual(call.thoughtSignature, SKIP_THOUGHT_SIGNATURE, "the mock's own signature came back");
    } finally {
      await h.close();
    }
  });
}
