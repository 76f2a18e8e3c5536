/**
 * The OpenAI Responses route driven by the official SDK (`openai`): responses.create and
 * responses.stream, the function tool loop on a Gemini 3 model whose mock upstream enforces thought
 * signatures (history sent back inline, with and without reasoning items; and by
 * previous_response_id), structured output, stored responses (get, delete, input_items, only for
 * the token that made them), tools the gateway maps or refuses, and errors.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { type Harness, startHarness } from "./support/harness.ts";
import { adminApi } from "./support/admin_api.ts";

type Json = Record<string, unknown>;

function sdk(h: Harness, apiKey = h.token): OpenAI {
  return new OpenAI({ apiKey, baseURL: h.url + "/v1", maxRetries: 0 });
}

function generateBodies(h: Harness): Json[] {
  return h.mock.requests.filter((r) => /:(stream)?[gG]enerateContent$/.test(r.path)).map((r) =>
    r.json as Json
  );
}

const G3 = "gemini-3-flash-preview";

const TOOLS: OpenAI.Responses.Tool[] = [{
  type: "function",
  name: "get_weather",
  description: "Weather for a city",
  strict: true,
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  },
}];

/** The signature on the model turn's functionCall of the last generate request. */
function sentSignature(h: Harness): unknown {
  const model = (generateBodies(h).at(-1)!.contents as Json[]).find((c) => c.role === "model")!;
  return (model.parts as Json[]).find((p) => p.functionCall)!.thoughtSignature;
}

Deno.test("responses: create answers a Response with a message and usage", async () => {
  const h = await startHarness();
  try {
    const r = await sdk(h).responses.create({
      model: "gemini-2.5-flash",
      instructions: "Be brief.",
      input: "hello there",
      max_output_tokens: 100,
      temperature: 0.5,
    });
    assert.match(r.id, /^resp_/);
    assert.equal(r.object, "response");
    assert.equal(r.status, "completed");
    assert.equal(r.model, "gemini-2.5-flash");
    assert.equal(r.output_text, "echo: hello there");
    assert.equal(r.output[0].type, "message");
    assert.deepEqual(r.usage, {
      input_tokens: 4,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 3,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 7,
    });
    const body = generateBodies(h).at(-1)!;
    assert.deepEqual(body.systemInstruction, { role: "user", parts: [{ text: "Be brief." }] });
    assert.deepEqual(body.generationConfig, { maxOutputTokens: 100, temperature: 0.5 });
    assert.ok(
      h.records.some((x) => x.route === "responses" && x.status === 200),
      "logged as the responses route",
    );
  } finally {
    await h.close();
  }
});

Deno.test("responses: stream sends the event sequence with sequence numbers; the SDK's helper assembles it", async () => {
  const h = await startHarness();
  try {
    const stream = sdk(h).responses.stream({
      model: "gemini-2.5-flash-thinking",
      input: [{ role: "user", content: [{ type: "input_text", text: "one two three four" }] }],
      reasoning: { summary: "auto" },
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const final = await stream.finalResponse();
    assert.equal(final.output_text, "echo: one two three four");
    assert.deepEqual(final.output.map((o) => o.type), ["reasoning", "message"]);
    const reasoning = final.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.equal(reasoning.summary[0].text, "Thinking about it.");
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 3), [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
    ]);
    assert.ok(types.includes("response.reasoning_summary_text.delta"));
    assert.ok(types.filter((t) => t === "response.output_text.delta").length >= 3);
    assert.deepEqual(types.slice(-4), [
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  } finally {
    await h.close();
  }
});

Deno.test("responses: function tool loop on Gemini 3, output items sent back inline (with and without reasoning items)", async () => {
  const h = await startHarness();
  try {
    for (const keepReasoning of [true, false]) {
      const client = sdk(h);
      const input: OpenAI.Responses.ResponseInputItem[] = [{ role: "user", content: "weather in Paris?" }];
      const first = await client.responses.create({ model: G3, input, tools: TOOLS, store: false });
      const call = first.output.find((o) =>
        o.type === "function_call"
      ) as OpenAI.Responses.ResponseFunctionToolCall;
      assert.equal(call.name, "get_weather");
      assert.deepEqual(JSON.parse(call.arguments), { city: "x" });
      const reasoning = first.output.find((o) =>
        o.type === "reasoning"
      ) as OpenAI.Responses.ResponseReasoningItem;
      assert.ok(reasoning.encrypted_content?.startsWith("gemini.v1."), JSON.stringify(first.output));
      const issued = reasoning.encrypted_content!.slice("gemini.v1.".length);
      const back = first.output.filter((o) =>
        keepReasoning || o.type !== "reasoning"
      ) as OpenAI.Responses.ResponseInputItem[];
      const second = await client.responses.create({
        model: G3,
        tools: TOOLS,
        store: false,
        input: [...input, ...back, { type: "function_call_output", call_id: call.call_id, output: "sunny" }],
      });
      assert.equal(second.output_text, 'result: [{"output":"sunny"}]');
      assert.equal(
        sentSignature(h),
        issued,
        `the mock's signature went back (reasoning items kept: ${keepReasoning})`,
      );
    }
  } finally {
    await h.close();
  }
});

Deno.test("responses: streamed tool loop continued by previous_response_id (stored with the signature)", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const stream = client.responses.stream({ model: G3, input: "weather in Paris?", tools: TOOLS });
    const first = await stream.finalResponse();
    const call = first.output.find((o) =>
      o.type === "function_call"
    ) as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await client.responses.create({
      model: G3,
      previous_response_id: first.id,
      tools: TOOLS,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }],
    });
    assert.equal(second.previous_response_id, first.id);
    assert.equal(second.output_text, 'result: [{"output":"sunny"}]');
    const reasoning = first.output.find((o) =>
      o.type === "reasoning"
    ) as OpenAI.Responses.ResponseReasoningItem;
    assert.equal(sentSignature(h), reasoning.encrypted_content!.slice("gemini.v1.".length));
    const contents = generateBodies(h).at(-1)!.contents as Json[];
    assert.deepEqual(contents.map((c) => c.role), ["user", "model", "user"]);
    const third = await client.responses.create({
      model: G3,
      previous_response_id: second.id,
      input: "thanks",
    });
    assert.equal((generateBodies(h).at(-1)!.contents as Json[]).length, 5, "the whole chain comes back");
    assert.equal(third.status, "completed");
  } finally {
    await h.close();
  }
});

Deno.test("responses: stored responses: get, input_items, delete; only the token that made them sees them", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const first = await client.responses.create({ model: "gemini-2.5-flash", input: "first" });
    const second = await client.responses.create({
      model: "gemini-2.5-flash",
      previous_response_id: first.id,
      input: "second",
    });
    const got = await client.responses.retrieve(second.id);
    assert.equal(got.output_text, second.output_text);
    const items = [];
    for await (const item of client.responses.inputItems.list(second.id, { order: "asc" })) items.push(item);
    assert.deepEqual(items.map((i) => i.type), ["message", "message", "message"]);
    assert.ok(items.every((i) => typeof i.id === "string" && i.id.length > 0));
    const other = await adminApi(h)("POST", "/tokens", { name: "someone-else" });
    await assert.rejects(sdk(h, other.json.token).responses.retrieve(second.id), OpenAI.NotFoundError);
    await assert.rejects(
      sdk(h, other.json.token).responses.create({
        model: "gemini-2.5-flash",
        previous_response_id: first.id,
        input: "x",
      }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === "previous_response_not_found",
    );
    await client.responses.delete(second.id);
    await assert.rejects(client.responses.retrieve(second.id), OpenAI.NotFoundError);
    const unstored = await client.responses.create({ model: "gemini-2.5-flash", input: "x", store: false });
    await assert.rejects(client.responses.retrieve(unstored.id), OpenAI.NotFoundError);
  } finally {
    await h.close();
  }
});

Deno.test("responses: stored items are found by item_reference (as the Vercel AI SDK sends them)", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const first = await client.responses.create({ model: G3, input: "weather?", tools: TOOLS });
    const call = first.output.find((o) =>
      o.type === "function_call"
    ) as OpenAI.Responses.ResponseFunctionToolCall;
    const refs = first.output.map((o) => ({ type: "item_reference" as const, id: o.id! }));
    const second = await client.responses.create({
      model: G3,
      tools: TOOLS,
      input: [{ role: "user", content: "weather?" }, ...refs, {
        type: "function_call_output",
        call_id: call.call_id,
        output: "rain",
      }],
    });
    assert.equal(second.output_text, 'result: [{"output":"rain"}]');
    await assert.rejects(
      client.responses.create({ model: G3, input: [{ type: "item_reference", id: "rs_unknown" }] }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /rs_unknown/.test(e.message),
    );
  } finally {
    await h.close();
  }
});

Deno.test("responses: structured output (json_schema through the normaliser) and json_object", async () => {
  const h = await startHarness();
  try {
    const r = await sdk(h).responses.create({
      model: "gemini-2.5-flash",
      input: "give me a person",
      text: {
        format: {
          type: "json_schema",
          name: "person",
          strict: true,
          schema: {
            type: "object",
            $defs: { Name: { type: "string" } },
            properties: { name: { $ref: "#/$defs/Name" }, age: { type: "integer" } },
            required: ["name", "age"],
            additionalProperties: false,
          },
        },
      },
    });
    assert.deepEqual(JSON.parse(r.output_text), { name: "x", age: 1 });
    const cfg = generateBodies(h).at(-1)!.generationConfig as Json;
    assert.equal(cfg.responseMimeType, "application/json");
    assert.deepEqual(cfg.responseJsonSchema, {
      type: "object",
      properties: { name: { type: "string" }, age: { type: "integer" } },
      required: ["name", "age"],
      additionalProperties: false,
    });
    await sdk(h).responses.create({
      model: "gemini-2.5-flash",
      input: "j",
      text: { format: { type: "json_object" } },
    });
    assert.deepEqual(generateBodies(h).at(-1)!.generationConfig, { responseMimeType: "application/json" });
  } finally {
    await h.close();
  }
});

Deno.test("responses: reasoning.effort by family, web_search is Google Search with citations, unknown tools refused", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    await client.responses.create({ model: G3, input: "x", reasoning: { effort: "low", summary: "auto" } });
    assert.deepEqual((generateBodies(h).at(-1)!.generationConfig as Json).thinkingConfig, {
      thinkingLevel: "LOW",
      includeThoughts: true,
    });
    await client.responses.create({ model: "gemini-2.5-flash", input: "x", reasoning: { effort: "none" } });
    assert.deepEqual((generateBodies(h).at(-1)!.generationConfig as Json).thinkingConfig, {
      thinkingBudget: 0,
    });
    const r = await client.responses.create({
      model: "gemini-2.5-flash",
      input: "news today",
      tools: [{ type: "web_search" }],
    });
    assert.deepEqual(generateBodies(h).at(-1)!.tools, [{ googleSearch: {} }]);
    const message = r.output.find((o) => o.type === "message") as OpenAI.Responses.ResponseOutputMessage;
    const text = message.content[0] as OpenAI.Responses.ResponseOutputText;
    assert.equal(text.annotations.length, 2);
    assert.equal(
      (text.annotations[0] as OpenAI.Responses.ResponseOutputText.URLCitation).title,
      "example.com",
    );
    assert.ok(r.output.some((o) => o.type === "web_search_call"));
    await assert.rejects(
      client.responses.create({
        model: "gemini-2.5-flash",
        input: "x",
        tools: [{ type: "code_interpreter", container: { type: "auto" } }],
      }),
      (e: unknown) =>
        e instanceof OpenAI.BadRequestError && /code_interpreter/.test(e.message) &&
        e.param === "tools[0].type",
    );
  } finally {
    await h.close();
  }
});

Deno.test("responses: custom and namespaced tools (what Codex sends) come back as their own call items", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const r = await client.responses.create({
      model: "gemini-2.5-flash",
      input: "patch it",
      tools: [{ type: "custom", name: "apply_patch", description: "Apply a patch" }],
    });
    const call = r.output[0] as OpenAI.Responses.ResponseCustomToolCall;
    assert.equal(call.type, "custom_tool_call");
    assert.equal(call.name, "apply_patch");
    assert.equal(call.input, "x");
    const decl = ((generateBodies(h).at(-1)!.tools as Json[])[0].functionDeclarations as Json[])[0];
    assert.equal(decl.name, "apply_patch");
    const ns = await client.responses.create({
      model: "gemini-2.5-flash",
      input: "spawn",
      tools: [{
        type: "namespace",
        name: "agents",
        tools: [{ type: "function", name: "spawn", parameters: { type: "object", properties: {} } }],
      } as unknown as OpenAI.Responses.Tool],
    });
    const fc = ns.output[0] as OpenAI.Responses.ResponseFunctionToolCall & { namespace?: string };
    assert.deepEqual([fc.name, fc.namespace], ["spawn", "agents"]);
  } finally {
    await h.close();
  }
});

Deno.test("responses errors: 401, 404 for an unknown model, MAX_TOKENS is incomplete, a mid-stream failure is response.failed", async () => {
  const h = await startHarness();
  try {
    await assert.rejects(
      sdk(h, "wrong-token-123456").responses.create({ model: "gemini-2.5-flash", input: "x" }),
      OpenAI.AuthenticationError,
    );
    await assert.rejects(
      sdk(h).responses.create({ model: "gemini-9-ultra", input: "x" }),
      OpenAI.NotFoundError,
    );
    const cut = await sdk(h).responses.create({
      model: "gemini-2.5-flash",
      input: "one two three",
      max_output_tokens: 2,
    });
    assert.equal(cut.status, "incomplete");
    assert.deepEqual(cut.incomplete_details, { reason: "max_output_tokens" });
    h.mock.failNext({ status: 503, afterChunks: 1 });
    const stream = sdk(h).responses.stream({ model: "gemini-2.5-flash", input: "one two three four five" });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    assert.equal(types.at(-1), "response.failed");
    const failed = await stream.finalResponse().catch(() => undefined);
    assert.ok(!failed || failed.status === "failed");
  } finally {
    await h.close();
  }
});

Deno.test("responses: web_search next to functions follows the model family (Gemini 3: both, with the flag; 2.5: functions only)", async () => {
  const h = await startHarness();
  try {
    const tools: OpenAI.Responses.Tool[] = [...TOOLS, { type: "web_search" }];
    await sdk(h).responses.create({
      model: G3,
      input: "news and weather in Paris",
      tools,
      tool_choice: "auto",
    });
    const g3 = generateBodies(h).at(-1)!;
    assert.deepEqual((g3.tools as Json[]).map((t) => Object.keys(t)[0]), [
      "functionDeclarations",
      "googleSearch",
    ]);
    assert.deepEqual(g3.toolConfig, {
      functionCallingConfig: { mode: "AUTO" },
      includeServerSideToolInvocations: true,
    });
    await sdk(h).responses.create({ model: "gemini-2.5-flash", input: "news and weather in Paris", tools });
    const g25 = generateBodies(h).at(-1)!;
    assert.deepEqual((g25.tools as Json[]).map((t) => Object.keys(t)[0]), ["functionDeclarations"]);
    assert.equal((g25.toolConfig as Json | undefined)?.includeServerSideToolInvocations, undefined);
  } finally {
    await h.close();
  }
});
