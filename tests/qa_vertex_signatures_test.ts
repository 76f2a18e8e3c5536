/**
 * QA (issue 18): a mixed pool (KEY_KIND_ROUTING=mix, the default) must serve a Gemini 3 tool-calling
 * conversation as a pool of one kind does. Thought signatures are bound to the service that issued them
 * (a signature minted by Vertex AI is "Corrupted" on the Gemini API and the other way round; see
 * BerriAI/litellm#32140, alphaXiv/agents#61); the mocks reproduce that (each validates only its own
 * signatures). The turns of one conversation alternate between the kinds, so the gateway must keep a
 * turn that carries signatures on the kind that issued them (or replace foreign ones).
 */
import assert from "node:assert/strict";
import { GoogleGenAI, Type } from "./support/sdk/genai.ts";
import Anthropic from "./support/sdk/anthropic.ts";
import OpenAI from "./support/sdk/openai.ts";
import { startVertexHarness, type VertexHarness } from "./support/vertex_harness.ts";

const MODEL = "gemini-3-flash-preview";
const ROUNDS = 3;

/** Runs `ROUNDS` tool rounds (call, result, answer) through one dialect; answers the error, if any. */
const CONVERSATIONS: Record<string, (h: VertexHarness) => Promise<void>> = {
  "@google/genai chat (native)": async (h) => {
    const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
    const chat = ai.chats.create({
      model: MODEL,
      config: {
        tools: [{
          functionDeclarations: [{
            name: "get_weather",
            parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } } },
          }],
        }],
      },
    });
    for (let i = 0; i < ROUNDS; i++) {
      const call = await chat.sendMessage({ message: "what is the weather in Paris" });
      assert.equal(call.functionCalls?.[0]?.name, "get_weather");
      await chat.sendMessage({
        message: [{ functionResponse: { name: "get_weather", response: { temperature: 20 } } }],
      });
    }
  },
  "Anthropic messages": async (h) => {
    const client = new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });
    const tools = [{
      name: "get_weather",
      input_schema: { type: "object" as const, properties: { city: { type: "string" } } },
    }];
    const messages: Anthropic.MessageParam[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      messages.push({ role: "user", content: "what is the weather in Paris" });
      const call = await client.messages.create({ model: MODEL, max_tokens: 200, messages, tools });
      messages.push({ role: "assistant", content: call.content });
      const uses = call.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
      assert.ok(uses.length, "a tool call");
      messages.push({
        role: "user",
        content: uses.map((u) => ({ type: "tool_result" as const, tool_use_id: u.id, content: "20 C" })),
      });
      const answer = await client.messages.create({ model: MODEL, max_tokens: 200, messages, tools });
      messages.push({ role: "assistant", content: answer.content });
    }
  },
  "OpenAI Responses (previous_response_id)": async (h) => {
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const tools: OpenAI.Responses.Tool[] = [{
      type: "function",
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
      strict: false,
    }];
    let previous: string | undefined;
    for (let i = 0; i < ROUNDS; i++) {
      const call = await client.responses.create({
        model: MODEL,
        input: "what is the weather in Paris",
        previous_response_id: previous,
        tools,
      });
      const calls = call.output.filter((o) => o.type === "function_call");
      assert.ok(calls.length, "a tool call");
      const answer = await client.responses.create({
        model: MODEL,
        previous_response_id: call.id,
        input: calls.map((c) => ({
          type: "function_call_output" as const,
          call_id: c.call_id,
          output: "20 C",
        })),
        tools,
      });
      previous = answer.id;
    }
  },
};

for (const [name, conversation] of Object.entries(CONVERSATIONS)) {
  Deno.test(`qa: a mixed pool serves a Gemini 3 tool conversation over ${name} as a single-kind pool does`, async () => {
    const single = await startVertexHarness({ gemini: 2, vertex: 0 });
    try {
      await conversation(single);
    } finally {
      await single.close();
    }
    const mixed = await startVertexHarness({ gemini: 1, vertex: 1 });
    try {
      let error: unknown;
      try {
        await conversation(mixed);
      } catch (e) {
        error = e;
      }
      assert.ok(mixed.mock.requests.length > 0 && mixed.vertex.requests.length > 0, "both kinds served");
      assert.equal(error, undefined, `the mixed pool failed the conversation: ${error}`);
    } finally {
      await mixed.close();
    }
  });
}
