/**
 * Tool calling through the OpenAI SDK: Gemini 3 thought signatures survive the round trip (with and
 * without `extra_content`), parallel calls and their stream indexes, and the googleSearch tool.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { type Harness, startHarness } from "./support/harness.ts";

function sdk(h: Harness): OpenAI {
  return new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1", maxRetries: 0 });
}

type Json = Record<string, unknown>;
type Msg = OpenAI.ChatCompletionMessageParam;

const TOOLS: OpenAI.ChatCompletionTool[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
  {
    type: "function",
    function: {
      name: "get_time",
      description: "Time in a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
];

function generateBodies(h: Harness): Json[] {
  return h.mock.requests.filter((r) => /:(stream)?[gG]enerateContent$/.test(r.path)).map((r) =>
    r.json as Json
  );
}

/** Runs turn 1, lets `edit` rewrite the assistant message, runs turn 2; returns both answers. */
async function twoTurns(h: Harness, edit: (m: Json) => Json) {
  const client = sdk(h);
  const messages: Msg[] = [{ role: "user", content: "weather in Paris?" }];
  const first = await client.chat.completions.create({
    model: "gemini-3-flash-preview",
    messages,
    tools: TOOLS,
  });
  const msg = first.choices[0].message;
  assert.equal(first.choices[0].finish_reason, "tool_calls");
  const call = msg.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
  assert.equal(call.function.name, "get_weather");
  const sig = (call as unknown as { extra_content?: { google?: { thought_signature?: string } } })
    .extra_content
    ?.google?.thought_signature;
  assert.ok(sig, `the tool call carries the signature in extra_content: ${JSON.stringify(call)}`);
  messages.push(edit(structuredClone(msg) as unknown as Json) as unknown as Msg);
  messages.push({ role: "tool", tool_call_id: call.id, content: JSON.stringify({ temp: 21 }) });
  const second = await client.chat.completions.create({
    model: "gemini-3-flash-preview",
    messages,
    tools: TOOLS,
  });
  return { sig, second };
}

function sentSignature(h: Harness): unknown {
  const body = generateBodies(h).at(-1)!;
  const model = (body.contents as Json[]).find((c) => c.role === "model")!;
  const part = (model.parts as Json[]).find((p) => p.functionCall)!;
  return part.thoughtSignature;
}

Deno.test("tools (Gemini 3): history sent back as the SDK returned it keeps the thought signature", async () => {
  const h = await startHarness();
  try {
    const { sig, second } = await twoTurns(h, (m) => m);
    assert.equal(second.choices[0].message.content, 'result: [{"result":{"temp":21}}]');
    assert.equal(sentSignature(h), sig);
  } finally {
    await h.close();
  }
});

Deno.test("tools (Gemini 3): extra_content stripped by the client, the signature comes back from the call id", async () => {
  const h = await startHarness();
  try {
    const { sig, second } = await twoTurns(h, (m) => {
      delete m.extra_content;
      for (const c of m.tool_calls as Json[]) delete c.extra_content;
      return m;
    });
    assert.equal(second.choices[0].message.content, 'result: [{"result":{"temp":21}}]');
    assert.equal(sentSignature(h), sig, "the real signature, not a dummy");
  } finally {
    await h.close();
  }
});

Deno.test("tools: parallel calls, whole and streamed (indexes 0 and 1)", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const messages: Msg[] = [{ role: "user", content: "parallel please" }];
    const whole = await client.chat.completions.create({ model: "gemini-2.5-flash", messages, tools: TOOLS });
    const calls = whole.choices[0].message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    assert.deepEqual(calls.map((c) => c.function.name), ["get_weather", "get_time"]);
    assert.notEqual(calls[0].id, calls[1].id);
    const stream = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      messages,
      tools: TOOLS,
      stream: true,
    });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const c of stream) {
      deltas.push(...(c.choices[0]?.delta.tool_calls ?? []));
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, "tool_calls");
    const byIndex = new Map<number, string>();
    for (const d of deltas) if (d.function?.name) byIndex.set(d.index, d.function.name);
    assert.deepEqual([...byIndex], [[0, "get_weather"], [1, "get_time"]]);
    for (const d of deltas.filter((d) => d.id)) assert.equal(d.type, "function");
    // The SDK's stream helper assembles the calls from the indexed deltas.
    const helper = client.chat.completions.stream({ model: "gemini-2.5-flash", messages, tools: TOOLS });
    const final = await helper.finalChatCompletion();
    const names = final.choices[0].message.tool_calls!.map((c) =>
      (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.name
    );
    assert.deepEqual(names, ["get_weather", "get_time"]);
  } finally {
    await h.close();
  }
});

Deno.test("tools: a client function named googleSearch becomes Google Search grounding", async () => {
  const h = await startHarness();
  try {
    const res = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "news today" }],
      tools: [{ type: "function", function: { name: "googleSearch", parameters: { type: "object" } } }],
    });
    const tools = generateBodies(h).at(-1)!.tools as Json[];
    assert.deepEqual(tools, [{ googleSearch: {} }]);
    assert.ok(res.choices[0].message.content?.startsWith("echo: news today"));
  } finally {
    await h.close();
  }
});
