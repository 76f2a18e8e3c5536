/**
 * The Anthropic Messages route driven by the official SDK (`@anthropic-ai/sdk`): create and stream,
 * Claude model names mapped to Gemini, the tool loop on a Gemini 3 model whose mock upstream enforces
 * thought signatures (kept, dropped, foreign history), count_tokens, the model list, and each error
 * class the SDK raises.
 */
import assert from "node:assert/strict";
import Anthropic, { type APIError } from "./support/sdk/anthropic.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";
import { adminApi } from "./support/admin_api.ts";
import { SKIP_THOUGHT_SIGNATURE } from "../lib/gemini/thought_signatures.ts";

type Json = Record<string, unknown>;

function sdk(h: Harness, apiKey = h.token): Anthropic {
  return new Anthropic({ apiKey, baseURL: h.url, maxRetries: 0 });
}

/** Bodies of the model calls the mock received, in order. */
function generateBodies(h: Harness): Json[] {
  return h.mock.requests.filter((r) => /:(stream)?[gG]enerateContent$/.test(r.path)).map((r) =>
    r.json as Json
  );
}

const TOOLS: Anthropic.Tool[] = [{
  name: "get_weather",
  description: "Weather for a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
}];

const G3 = "gemini-3-flash-preview";

Deno.test("anthropic: create answers a Message; Claude names map to Gemini (haiku -> flash), Gemini names pass", async () => {
  const h = await startHarness();
  try {
    const msg = await sdk(h).messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 200,
      system: "Be brief.",
      messages: [{ role: "user", content: "hello there" }],
    });
    assert.match(msg.id, /^msg_/);
    assert.equal(msg.model, "claude-haiku-4-5");
    assert.equal(msg.role, "assistant");
    assert.deepEqual(msg.content, [{ type: "text", text: "echo: hello there", citations: null }]);
    assert.equal(msg.stop_reason, "end_turn");
    assert.equal(msg.usage.input_tokens, 4);
    assert.equal(msg.usage.output_tokens, 3);
    const call = h.mock.requests.at(-1)!;
    assert.match(
      call.path,
      /models\/gemini-flash-latest:generateContent$/,
      "the default map sends haiku to flash",
    );
    const body = call.json as Json;
    assert.deepEqual(body.systemInstruction, { role: "user", parts: [{ text: "Be brief." }] });
    assert.deepEqual(body.generationConfig, { maxOutputTokens: 200 });
    await sdk(h).messages.create({
      model: "gemini-2.5-pro",
      max_tokens: 5,
      messages: [{ role: "user", content: "x" }],
    });
    assert.match(h.mock.requests.at(-1)!.path, /models\/gemini-2\.5-pro:generateContent$/);
    assert.ok(
      h.records.some((r) => r.route === "anthropic" && r.status === 200),
      "logged as the anthropic route",
    );
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: CLAUDE_MODEL_MAP patterns pick the model (first match wins, case-insensitive)", async () => {
  const h = await startHarness({
    env: {
      CLAUDE_MODEL_MAP: JSON.stringify({ "*OPUS*": "gemini-2.5-pro", "claude-*": "gemini-2.5-flash-lite" }),
    },
  });
  try {
    for (
      const [asked, upstream] of [["claude-opus-4-1", "gemini-2.5-pro"], [
        "claude-sonnet-4-5",
        "gemini-2.5-flash-lite",
      ]]
    ) {
      const msg = await sdk(h).messages.create({
        model: asked,
        max_tokens: 9,
        messages: [{ role: "user", content: "x" }],
      });
      assert.equal(msg.model, asked);
      assert.match(h.mock.requests.at(-1)!.path, new RegExp(`models/${upstream}:generateContent$`));
    }
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: with the default CLAUDE_MODEL_MAP, Claude Code's model names reach Google's Pro alias and are answered", async () => {
  const h = await startHarness();
  try {
    for (const asked of ["claude-sonnet-4-5", "claude-opus-4-1", "claude-3-7-sonnet-latest"]) {
      const msg = await sdk(h).messages.create({
        model: asked,
        max_tokens: 9,
        messages: [{ role: "user", content: "x" }],
      });
      assert.equal(msg.model, asked);
      assert.equal(msg.type, "message");
      assert.match(h.mock.requests.at(-1)!.path, /models\/gemini-pro-latest:generateContent$/);
    }
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: stream sends Anthropic's events in order and the SDK assembles the message", async () => {
  const h = await startHarness();
  try {
    const stream = sdk(h).messages.stream({
      model: "gemini-2.5-flash",
      max_tokens: 100,
      messages: [{ role: "user", content: "one two three four" }],
    });
    const types: string[] = [];
    stream.on("streamEvent", (e) => types.push(e.type));
    const final = await stream.finalMessage();
    assert.deepEqual(final.content.map((b) => b.type === "text" && b.text), ["echo: one two three four"]);
    assert.equal(final.stop_reason, "end_turn");
    assert.equal(final.usage.output_tokens, 5);
    assert.equal(types[0], "message_start");
    assert.equal(types[1], "content_block_start");
    assert.ok(types.filter((t) => t === "content_block_delta").length >= 3, types.join(","));
    assert.deepEqual(types.slice(-3), ["content_block_stop", "message_delta", "message_stop"]);
    assert.match(h.mock.requests.at(-1)!.path, /:streamGenerateContent$/);
    assert.equal(h.mock.requests.at(-1)!.query.get("alt"), "sse");
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: raw HTTP with x-api-key and anthropic-version, ?beta=true, and the /anthropic/v1 prefix", async () => {
  const h = await startHarness();
  try {
    for (const path of ["/v1/messages?beta=true", "/anthropic/v1/messages"]) {
      const res = await fetch(h.url + path, {
        method: "POST",
        headers: {
          "x-api-key": h.token,
          "anthropic-version": "2023-06-01",
          "content-type": "application/json",
        },
        body: JSON.stringify({
          model: "gemini-2.5-flash",
          max_tokens: 10,
          metadata: { user_id: "u1" },
          context_management: { edits: [] },
          messages: [{
            role: "user",
            content: [{ type: "text", text: "hi", cache_control: { type: "ephemeral" } }],
          }],
        }),
      });
      assert.equal(res.status, 200, path);
      assert.equal((await res.json()).content[0].text, "echo: hi");
    }
    const chat = await fetch(h.url + "/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal((await chat.json()).object, "chat.completion", "OpenAI stays the /v1 fallback");
  } finally {
    await h.close();
  }
});

/** Turn 1 (tools, thinking), `edit` on the assistant content, turn 2 with the tool result. */
async function toolLoop(h: Harness, o: { stream: boolean; edit?: (c: Json[]) => Json[] }) {
  const client = sdk(h);
  const params = {
    model: G3,
    max_tokens: 4000,
    tools: TOOLS,
    thinking: { type: "enabled" as const, budget_tokens: 2048 },
    messages: [{ role: "user" as const, content: "weather in Paris?" }],
  };
  const first = o.stream
    ? await client.messages.stream(params).finalMessage()
    : await client.messages.create(params);
  assert.equal(first.stop_reason, "tool_use");
  const use = first.content.find((b) => b.type === "tool_use") as Anthropic.ToolUseBlock;
  assert.equal(use.name, "get_weather");
  assert.deepEqual(use.input, { city: "x" });
  assert.match(use.id, /^toolu_[A-Za-z0-9_-]+$/);
  const thinking = first.content.find((b) => b.type === "thinking") as Anthropic.ThinkingBlock;
  assert.ok(thinking?.signature.startsWith("gemini.v1."), JSON.stringify(first.content));
  const issued = thinking.signature.slice("gemini.v1.".length);
  const content = (o.edit ?? ((c) => c))(structuredClone(first.content) as unknown as Json[]);
  const second = await client.messages.create({
    ...params,
    messages: [
      ...params.messages,
      { role: "assistant", content: content as unknown as Anthropic.ContentBlockParam[] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny, 21 C" }] },
    ],
  });
  const sent = generateBodies(h).at(-1)!;
  const model = (sent.contents as Json[]).find((c) => c.role === "model")!;
  const part = (model.parts as Json[]).find((p) => p.functionCall)!;
  return { issued, second, sent: part.thoughtSignature, sentBody: sent };
}

Deno.test("anthropic: tool loop on Gemini 3 keeps the thought signature (thinking block), whole and streamed", async () => {
  const h = await startHarness();
  try {
    for (const stream of [false, true]) {
      const { issued, second, sent, sentBody } = await toolLoop(h, { stream });
      assert.equal(sent, issued, "the signature the mock issued went back on the functionCall");
      assert.deepEqual(second.content.map((b) => b.type), ["thinking", "text"]);
      assert.equal((second.content[1] as Anthropic.TextBlock).text, 'result: [{"output":"sunny, 21 C"}]');
      const result = ((sentBody.contents as Json[]).at(-1)!.parts as Json[])[0];
      assert.deepEqual(result, {
        functionResponse: { name: "get_weather", response: { output: "sunny, 21 C" } },
      });
      const thinking = (sentBody.generationConfig as Json).thinkingConfig as Json;
      assert.deepEqual(
        thinking,
        { thinkingLevel: "MEDIUM", includeThoughts: true },
        "budget 2048 on a level family",
      );
    }
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: thinking blocks dropped by the client: the signature comes back from the tool_use id", async () => {
  const h = await startHarness();
  try {
    const { issued, sent } = await toolLoop(h, {
      stream: false,
      edit: (c) => c.filter((b) => b.type !== "thinking"),
    });
    assert.equal(sent, issued);
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: history from another model (foreign ids, no signature) gets Google's skip value", async () => {
  const h = await startHarness();
  try {
    const msg = await sdk(h).messages.create({
      model: G3,
      max_tokens: 100,
      tools: TOOLS,
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "EqQBCkYIBxgCKkBrealClaudeSignature" },
            {
              type: "tool_use",
              id: "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
              name: "get_weather",
              input: { city: "Rome" },
            },
          ],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_01D7FLrfh4GYq7yT1ULFeyMV", content: "rain" }],
        },
      ],
    });
    assert.equal(msg.content[0].type, "text");
    const model = (generateBodies(h).at(-1)!.contents as Json[])[1];
    assert.deepEqual(model, {
      role: "model",
      parts: [{
        functionCall: { name: "get_weather", args: { city: "Rome" } },
        thoughtSignature: SKIP_THOUGHT_SIGNATURE,
      }],
    });
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: request mapping (system blocks and mid-conversation system, media, tool results, choices, sampling)", async () => {
  const h = await startHarness();
  try {
    const png = "iVBORw0KGgo=";
    // temperature, top_p and top_k left the 1.x SDK's types (API version 2026-10-21); older clients
    // still send them and the gateway maps them.
    const params = {
      model: "gemini-2.5-flash",
      max_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      top_k: 20,
      stop_sequences: ["END"],
      system: [{ type: "text", text: "Rule one." }, { type: "text", text: "Rule two." }],
      tools: TOOLS,
      tool_choice: { type: "tool", name: "get_weather" },
      thinking: { type: "disabled" },
      output_config: {
        format: {
          type: "json_schema",
          schema: {
            type: "object",
            $defs: { A: { type: "string" } },
            properties: { a: { $ref: "#/$defs/A" } },
          },
        },
      },
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: png } },
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } },
            {
              type: "document",
              source: { type: "text", media_type: "text/plain", data: "notes" },
              title: "T",
            },
          ],
        },
        {
          role: "assistant",
          content: [{ type: "text", text: "calling" }, {
            type: "tool_use",
            id: "toolu_x",
            name: "get_weather",
            input: { city: "Oslo" },
          }],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_x",
              is_error: true,
              content: [{ type: "text", text: "no such city" }, {
                type: "image",
                source: { type: "base64", media_type: "image/png", data: png },
              }],
            },
          ],
        },
        { role: "system", content: "Mid rule." } as unknown as Anthropic.MessageParam,
        { role: "user", content: "again" },
      ],
    } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    await sdk(h).messages.create(params);
    const body = generateBodies(h).at(-1)!;
    assert.deepEqual(body.systemInstruction, {
      role: "user",
      parts: [{ text: "Rule one." }, { text: "Rule two." }],
    });
    assert.deepEqual(body.contents, [
      {
        role: "user",
        parts: [
          { text: "look" },
          { inlineData: { mimeType: "image/png", data: png } },
          { inlineData: { mimeType: "application/pdf", data: "JVBERi0=" } },
          { text: "T\n\nnotes" },
        ],
      },
      {
        role: "model",
        parts: [{ text: "calling" }, { functionCall: { name: "get_weather", args: { city: "Oslo" } } }],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "get_weather", response: { error: "no such city" } } },
          { inlineData: { mimeType: "image/png", data: png } },
        ],
      },
      { role: "user", parts: [{ text: "<system>\nMid rule.\n</system>" }] },
      { role: "user", parts: [{ text: "again" }] },
    ]);
    assert.deepEqual(body.toolConfig, {
      functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] },
    });
    assert.deepEqual(body.generationConfig, {
      maxOutputTokens: 50,
      temperature: 0.3,
      topP: 0.9,
      topK: 20,
      stopSequences: ["END"],
      thinkingConfig: { thinkingBudget: 0 },
      responseMimeType: "application/json",
      responseJsonSchema: { type: "object", properties: { a: { type: "string" } } },
    });
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: web search server tool is Google Search; -search suffix and grounding blocks; bash tool refused", async () => {
  const h = await startHarness();
  try {
    const msg = await sdk(h).messages.create({
      model: "gemini-2.5-flash",
      max_tokens: 50,
      tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }],
      messages: [{ role: "user", content: "news today" }],
    });
    assert.deepEqual(generateBodies(h).at(-1)!.tools, [{ googleSearch: {} }]);
    assert.deepEqual(msg.content.map((b) => b.type), ["text", "server_tool_use", "web_search_tool_result"]);
    const result = msg.content[2] as Anthropic.WebSearchToolResultBlock;
    assert.equal((result.content as Anthropic.WebSearchResultBlock[])[1].title, "example.org");
    assert.equal(msg.usage.server_tool_use?.web_search_requests, 1);
    await sdk(h).messages.create({
      model: "gemini-2.5-flash-search",
      max_tokens: 50,
      messages: [{ role: "user", content: "q" }],
    });
    assert.deepEqual(
      generateBodies(h).at(-1)!.tools,
      [{ googleSearch: {} }],
      "the -search suffix works here too",
    );
    await assert.rejects(
      sdk(h).messages.create({
        model: "gemini-2.5-flash",
        max_tokens: 50,
        tools: [{ type: "bash_20250124", name: "bash" }],
        messages: [{ role: "user", content: "ls" }],
      }),
      (e: unknown) => e instanceof Anthropic.BadRequestError && /bash_20250124/.test(e.message),
    );
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: thinking maps by family (adaptive on Gemini 3 is HIGH, enabled on 2.5 is a budget, omitted display)", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const m = { max_tokens: 20000, messages: [{ role: "user" as const, content: "x" }] };
    await client.messages.create({ ...m, model: G3, thinking: { type: "adaptive" } });
    assert.deepEqual((generateBodies(h).at(-1)!.generationConfig as Json).thinkingConfig, {
      thinkingLevel: "HIGH",
      includeThoughts: true,
    });
    const msg = await client.messages.create({
      ...m,
      model: "gemini-2.5-flash",
      thinking: { type: "enabled", budget_tokens: 31999 },
    });
    assert.deepEqual((generateBodies(h).at(-1)!.generationConfig as Json).thinkingConfig, {
      thinkingBudget: 24576,
      includeThoughts: true,
    }, "Claude Code's budget clamped to the family's range");
    assert.deepEqual(msg.content[0], { type: "thinking", thinking: "Thinking about it.", signature: "" });
    await client.messages.create({
      ...m,
      model: "gemini-2.5-flash",
      thinking: { type: "enabled", budget_tokens: 2000, display: "omitted" } as Anthropic.ThinkingConfigParam,
    });
    assert.deepEqual((generateBodies(h).at(-1)!.generationConfig as Json).thinkingConfig, {
      thinkingBudget: 2000,
      includeThoughts: false,
    });
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: count_tokens counts system, messages and tools through Gemini's countTokens", async () => {
  const h = await startHarness();
  try {
    const r = await sdk(h).messages.countTokens({
      model: "gemini-2.5-flash",
      system: "two words",
      messages: [{ role: "user", content: "a b c" }],
    });
    assert.deepEqual(r, { input_tokens: 5 });
    const call = h.mock.requests.at(-1)!;
    assert.match(call.path, /gemini-2\.5-flash:countTokens$/);
    const inner = (call.json as Json).generateContentRequest as Json;
    assert.equal(inner.model, "models/gemini-2.5-flash");
    assert.deepEqual(inner.systemInstruction, { role: "user", parts: [{ text: "two words" }] });
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: GET /v1/models with anthropic-version answers Anthropic's page", async () => {
  const h = await startHarness();
  try {
    const page = await sdk(h).models.list();
    const ids = page.data.map((m) => m.id);
    assert.ok(ids.includes("gemini-2.5-flash"), ids.join(","));
    assert.equal(page.data[0].type, "model");
    const one = await sdk(h).models.retrieve("gemini-2.5-pro");
    assert.equal(one.id, "gemini-2.5-pro");
  } finally {
    await h.close();
  }
});

async function rejects<T extends APIError>(
  p: Promise<unknown>,
  cls: new (...a: never[]) => T,
): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err}`);
    return err;
  }
  throw new assert.AssertionError({ message: `expected ${cls.name}, but the call succeeded` });
}

const ONE = { max_tokens: 10, messages: [{ role: "user" as const, content: "hi" }] };

Deno.test("anthropic errors: authentication, bad request, not found, permission denied", async () => {
  const h = await startHarness();
  try {
    const auth = await rejects(
      sdk(h, "wrong-token-123456").messages.create({ ...ONE, model: "gemini-2.5-flash" }),
      Anthropic.AuthenticationError,
    );
    assert.equal((auth.error as Json & { error: Json }).error.type, "authentication_error");
    const bad = await rejects(
      sdk(h).messages.create({ ...ONE, model: "gemini-2.5-flash", max_tokens: "lots" as unknown as number }),
      Anthropic.BadRequestError,
    );
    assert.match(bad.message, /max_tokens/);
    assert.equal((bad.error as Json & { error: Json }).error.type, "invalid_request_error");
    // Anthropic's API takes max_tokens from 1; Gemini would read maxOutputTokens 0 as "no limit".
    const sent = h.mock.requests.length;
    const zero = await rejects(
      sdk(h).messages.create({ ...ONE, model: "gemini-2.5-flash", max_tokens: 0 }),
      Anthropic.BadRequestError,
    );
    assert.match(zero.message, /max_tokens/);
    assert.equal(h.mock.requests.length, sent, "nothing goes upstream");
    const missing = await rejects(
      sdk(h).messages.create({ ...ONE, model: "gemini-9-ultra" }),
      Anthropic.NotFoundError,
    );
    assert.equal((missing.error as Json & { error: Json }).error.type, "not_found_error");
    const created = await adminApi(h)("POST", "/tokens", { name: "pro-only", models: ["gemini-2.5-pro"] });
    const denied = await rejects(
      sdk(h, created.json.token).messages.create({ ...ONE, model: "gemini-2.5-flash" }),
      Anthropic.PermissionDeniedError,
    );
    assert.equal((denied.error as Json & { error: Json }).error.type, "permission_error");
  } finally {
    await h.close();
  }
});

Deno.test("anthropic errors: every key rate limited is a RateLimitError with retry-after; 503 everywhere is 529 overloaded", async () => {
  const h = await startHarness();
  try {
    for (const n of [1, 2, 3]) h.mock.setKey(fakeKey(n), { rpm: 1 });
    for (let i = 0; i < 3; i++) await sdk(h).messages.create({ ...ONE, model: "gemini-2.5-flash" });
    const limited = await rejects(
      sdk(h).messages.create({ ...ONE, model: "gemini-2.5-flash" }),
      Anthropic.RateLimitError,
    );
    assert.ok(Number(limited.headers?.get("retry-after")) >= 1);
    assert.equal((limited.error as Json & { error: Json }).error.type, "rate_limit_error");
    h.mock.failNext({ status: 503, count: 10, model: "gemini-2.5-pro" });
    const over = await rejects(
      sdk(h).messages.create({ ...ONE, model: "gemini-2.5-pro" }),
      Anthropic.OverloadedError,
    );
    assert.equal(over.status, 529);
    assert.equal((over.error as Json & { error: Json }).error.type, "overloaded_error");
  } finally {
    await h.close();
  }
});

Deno.test("anthropic errors: a failure mid-stream is an error event the SDK throws", async () => {
  const h = await startHarness();
  try {
    h.mock.failNext({ status: 503, afterChunks: 1 });
    const stream = sdk(h).messages.stream({
      ...ONE,
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "one two three four five" }],
    });
    await assert.rejects(
      stream.finalMessage(),
      (e: unknown) => e instanceof Anthropic.APIError && /overloaded_error/.test(String(e)),
    );
  } finally {
    await h.close();
  }
});

Deno.test("anthropic: web search next to client tools follows the model family (Gemini 3: both, with the flag; 2.5: tools only)", async () => {
  const h = await startHarness();
  try {
    const tools = [...TOOLS, { type: "web_search_20250305" as const, name: "web_search" as const }];
    const messages = [{ role: "user" as const, content: "news and weather in Paris" }];
    await sdk(h).messages.create({ model: G3, max_tokens: 50, tools, messages });
    const g3 = generateBodies(h).at(-1)!;
    assert.deepEqual((g3.tools as Json[]).map((t) => Object.keys(t)[0]), [
      "functionDeclarations",
      "googleSearch",
    ]);
    assert.deepEqual(g3.toolConfig, { includeServerSideToolInvocations: true });
    await sdk(h).messages.create({
      model: "gemini-2.5-flash",
      max_tokens: 50,
      tools,
      tool_choice: { type: "auto" },
      messages,
    });
    const g25 = generateBodies(h).at(-1)!;
    assert.deepEqual((g25.tools as Json[]).map((t) => Object.keys(t)[0]), ["functionDeclarations"]);
    assert.deepEqual(g25.toolConfig, { functionCallingConfig: { mode: "AUTO" } });
  } finally {
    await h.close();
  }
});
