/**
 * OpenAI -> Gemini request mapping: messages, content parts, tools, generation config, reasoning, tool
 * call ids and thought signatures, and schema validation.
 */
import assert from "node:assert/strict";
import { GatewayError } from "../lib/http/errors.ts";
import { mapChatRequest } from "../lib/openai/chat_request.ts";
import { SKIP_THOUGHT_SIGNATURE } from "../lib/gemini/thought_signatures.ts";
import { mapChatResponse } from "../lib/openai/chat_response.ts";
import { chatRequestSchema, parseOpenAI } from "../lib/openai/schemas.ts";
import { toolCallId, toolCallRef } from "../lib/gemini/tool_call_ids.ts";
import { ThoughtSignatures } from "../lib/gemini/thought_signatures.ts";

const chatWith = (signatures: ThoughtSignatures | undefined, body: Record<string, unknown>) =>
  mapChatRequest(parseOpenAI(chatRequestSchema, { model: "gemini-2.5-flash", ...body }), {
    fetchImage: (url) => Promise.resolve({ mimeType: "image/png", data: `fetched:${url}` }),
    signatures,
  });
const chat = (body: Record<string, unknown>) => chatWith(undefined, body);

Deno.test("messages: system/developer in order, roles, tool turns with looked-up names", async () => {
  const m = await chat({
    messages: [
      { role: "system", content: "A" },
      { role: "user", content: "hi" },
      { role: "developer", content: [{ type: "text", text: "B" }] },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "t1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
          { id: "t2", type: "function", function: { name: "get_time", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "t1", content: '{"temp":3}' },
      { role: "tool", tool_call_id: "t2", content: "noon" },
      { role: "assistant", content: "It is 3 degrees. ![image](data:image/png;base64,QUJD)" },
    ],
  });
  assert.deepEqual(m.body.contents[3].parts, [{ text: "It is 3 degrees. " }, {
    inlineData: { mimeType: "image/png", data: "QUJD" },
  }]);
  assert.deepEqual(m.body.systemInstruction, { role: "user", parts: [{ text: "A" }, { text: "B" }] });
  assert.deepEqual(m.body.contents.map((c) => c.role), ["user", "model", "user", "model"]);
  assert.deepEqual(m.body.contents[1].parts, [
    { functionCall: { name: "get_weather", args: { city: "Oslo" } } },
    { functionCall: { name: "get_time", args: {} } },
  ]);
  assert.deepEqual(m.body.contents[2].parts, [
    { functionResponse: { name: "get_weather", response: { result: { temp: 3 } } } },
    { functionResponse: { name: "get_time", response: { result: "noon" } } },
  ]);
});

Deno.test("messages: unknown tool_call_id is a 400 naming the field", async () => {
  await assert.rejects(
    chat({
      messages: [{ role: "user", content: "x" }, { role: "tool", tool_call_id: "nope", content: "1" }],
    }),
    (e: unknown) =>
      e instanceof GatewayError && e.status === 400 && e.options.param === "messages[1].tool_call_id",
  );
});

Deno.test("content parts: data URL, fetched URL, audio, files", async () => {
  const m = await chat({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "look" },
        { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA" } },
        { type: "image_url", image_url: { url: "https://example.com/a.png" } },
        { type: "input_audio", input_audio: { data: "BBBB", format: "wav" } },
        { type: "file", file: { file_data: "data:application/pdf;base64,CCCC" } },
        { type: "file", file: { file_data: "DDDD", filename: "x.pdf" } },
        { type: "file", file: { file_id: "files/abc123" } },
      ],
    }],
  });
  assert.deepEqual(m.body.contents[0].parts, [
    { text: "look" },
    { inlineData: { mimeType: "image/jpeg", data: "AAAA" } },
    { inlineData: { mimeType: "image/png", data: "fetched:https://example.com/a.png" } },
    { inlineData: { mimeType: "audio/wav", data: "BBBB" } },
    { inlineData: { mimeType: "application/pdf", data: "CCCC" } },
    { inlineData: { mimeType: "application/pdf", data: "DDDD" } },
    { fileData: { fileUri: "https://generativelanguage.googleapis.com/v1beta/files/abc123" } },
  ]);
});

Deno.test("content parts: failing image download is a 400 with the part path", async () => {
  const req = parseOpenAI(chatRequestSchema, {
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://x/y.png" } }] }],
  });
  await assert.rejects(
    mapChatRequest(req, { fetchImage: () => Promise.reject(new Error("too big")) }),
    (e: unknown) =>
      e instanceof GatewayError && e.status === 400 && e.options.param === "messages[0].content[0]",
  );
});

Deno.test("tools and tool_choice", async () => {
  const tools = [{
    type: "function",
    function: { name: "f", description: "d", strict: true, parameters: { type: "object", strict: true } },
  }];
  const base = { messages: [{ role: "user", content: "x" }], tools };
  const req = await chat({ ...base, tool_choice: "required" });
  assert.deepEqual(req.body.tools, [{
    functionDeclarations: [{ name: "f", description: "d", parametersJsonSchema: { type: "object" } }],
  }]);
  assert.deepEqual(req.body.toolConfig, { functionCallingConfig: { mode: "ANY" } });
  assert.deepEqual((await chat({ ...base, tool_choice: "none" })).body.toolConfig?.functionCallingConfig, {
    mode: "NONE",
  });
  assert.deepEqual(
    (await chat({ ...base, tool_choice: { type: "function", function: { name: "f" } } })).body.toolConfig,
    { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["f"] } },
  );
});

Deno.test("generation config table; OpenAI-only fields dropped", async () => {
  const m = await chat({
    messages: [{ role: "user", content: "x" }],
    temperature: 0.2,
    top_p: 0.9,
    n: 2,
    stop: "END",
    max_tokens: 50,
    max_completion_tokens: 100,
    seed: 7,
    presence_penalty: 1,
    frequency_penalty: 1,
    user: "u",
    response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object" } } },
  });
  assert.deepEqual(m.body.generationConfig, {
    temperature: 0.2,
    topP: 0.9,
    candidateCount: 2,
    stopSequences: ["END"],
    maxOutputTokens: 100,
    seed: 7,
    responseMimeType: "application/json",
    responseJsonSchema: { type: "object" },
  });
  assert.equal(JSON.stringify(m.body).includes("enalty"), false);
  const lp = await chat({ messages: [{ role: "user", content: "x" }], logprobs: true, top_logprobs: 2 });
  assert.deepEqual(lp.body.generationConfig, { responseLogprobs: true, logprobs: 2 });
});

Deno.test("reasoning_effort per model family and extra_body.google", async () => {
  const msgs = [{ role: "user", content: "x" }];
  const g3 = await chat({ model: "gemini-3-flash-preview", messages: msgs, reasoning_effort: "minimal" });
  assert.deepEqual(g3.body.generationConfig?.thinkingConfig, {
    thinkingLevel: "MINIMAL",
    includeThoughts: true,
  });
  assert.equal(g3.includeThoughts, true);
  const pro3 = await chat({
    model: "models/gemini-3-pro-preview",
    messages: msgs,
    reasoning_effort: "medium",
  });
  assert.equal(pro3.model, "gemini-3-pro-preview");
  assert.equal(pro3.body.generationConfig?.thinkingConfig?.thinkingLevel, "HIGH");
  const pro = await chat({ model: "gemini-2.5-pro", messages: msgs, reasoning_effort: "none" });
  assert.deepEqual(pro.body.generationConfig?.thinkingConfig, { thinkingBudget: 128 });
  const flash = await chat({ messages: msgs, reasoning_effort: "none" });
  assert.deepEqual(flash.body.generationConfig?.thinkingConfig, { thinkingBudget: 0 });
  assert.equal(flash.includeThoughts, false);
  const high = await chat({ messages: msgs, reasoning_effort: "high" });
  assert.deepEqual(high.body.generationConfig?.thinkingConfig, {
    thinkingBudget: 24576,
    includeThoughts: true,
  });
  const extra = await chat({
    messages: msgs,
    extra_body: {
      google: {
        thinking_config: { thinking_budget: 800, include_thoughts: true },
        safety_settings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }],
        cached_content: "cachedContents/abc",
      },
    },
  });
  assert.deepEqual(extra.body.generationConfig?.thinkingConfig, {
    thinkingBudget: 800,
    includeThoughts: true,
  });
  assert.equal(extra.includeThoughts, true);
  assert.deepEqual(extra.body.safetySettings, [{
    category: "HARM_CATEGORY_HARASSMENT",
    threshold: "BLOCK_NONE",
  }]);
  assert.equal(extra.body.cachedContent, "cachedContents/abc");
  assert.equal("google" in extra.body || "extra_body" in extra.body, false);
  await assert.rejects(chat({ messages: msgs, reasoning_effort: "extreme" }), GatewayError);
});

Deno.test("tool call ids are call_ + a 24-character reference; other ids name none", () => {
  const signatures = new ThoughtSignatures();
  const sig = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(1200))));
  const id = toolCallId(signatures.rememberCall({ geminiId: "fc-123", signature: sig }));
  assert.match(id, /^call_[A-Za-z0-9]{24}$/);
  assert.ok(id.length <= 40, `OpenAI caps tool-call ids at 40 characters: ${id.length}`);
  assert.equal(toolCallRef(id)?.length, 24);
  assert.equal(toolCallRef(id.slice(0, 20)), undefined);
  assert.equal(toolCallRef("call_abc"), undefined);
  assert.equal(toolCallRef("toolu_01XYZ"), undefined);
});

Deno.test("thought signature round trip through the tool call id only", async () => {
  const sig = "c2lnbmF0dXJlLWJ5dGVz";
  const signatures = new ThoughtSignatures();
  const res = mapChatResponse({
    candidates: [{
      content: {
        role: "model",
        parts: [
          { functionCall: { id: "g1", name: "f", args: { a: 1 } }, thoughtSignature: sig },
          { functionCall: { id: "g2", name: "f", args: { a: 2 } } },
        ],
      },
      finishReason: "STOP",
    }],
  }, { model: "gemini-3-pro-preview", signatures });
  const calls = res.choices[0].message.tool_calls as Array<
    { id: string; function: { name: string; arguments: string }; extra_content?: unknown }
  >;
  assert.equal(res.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(calls[0].extra_content, { google: { thought_signature: sig } });
  assert.equal(calls[1].extra_content, undefined);
  // A client that drops unknown fields sends back only id/type/function.
  const history = calls.map(({ id, function: f }) => ({ id, type: "function", function: f }));
  const m = await chatWith(signatures, {
    model: "gemini-3-pro-preview",
    messages: [
      { role: "user", content: "x" },
      { role: "assistant", content: null, tool_calls: history },
      { role: "tool", tool_call_id: calls[0].id, content: "1" },
      { role: "tool", tool_call_id: calls[1].id, content: "2" },
    ],
  });
  assert.deepEqual(m.body.contents[1].parts, [
    { functionCall: { id: "g1", name: "f", args: { a: 1 } }, thoughtSignature: sig },
    { functionCall: { id: "g2", name: "f", args: { a: 2 } } },
  ]);
  assert.deepEqual(m.body.contents[2].parts?.map((p) => p.functionResponse?.id), ["g1", "g2"]);
});

Deno.test("extra_content signature wins; Gemini 3 gets the dummy signature for foreign history", async () => {
  const tool_calls = [{
    id: "call_foreign",
    type: "function",
    function: { name: "f", arguments: "{}" },
  }];
  const msgs = (tc: unknown[]) => [
    { role: "user", content: "x" },
    { role: "assistant", tool_calls: tc },
    { role: "tool", tool_call_id: "call_foreign", content: "ok" },
  ];
  const g3 = await chat({ model: "gemini-3-flash-preview", messages: msgs(tool_calls) });
  assert.deepEqual(g3.body.contents[1].parts?.[0], {
    functionCall: { name: "f", args: {} },
    thoughtSignature: SKIP_THOUGHT_SIGNATURE,
  });
  const g25 = await chat({ messages: msgs(tool_calls) });
  assert.equal(g25.body.contents[1].parts?.[0].thoughtSignature, undefined);
  const withExtra = await chat({
    model: "gemini-3-flash-preview",
    messages: msgs([{ ...tool_calls[0], extra_content: { google: { thought_signature: "U0lH" } } }]),
  });
  assert.equal(withExtra.body.contents[1].parts?.[0].thoughtSignature, "U0lH");
});

Deno.test("schema validation names the offending field", () => {
  const msgs = [{ role: "user", content: "x" }];
  const paramOf = (body: Record<string, unknown>) => {
    try {
      parseOpenAI(chatRequestSchema, { model: "m", messages: msgs, ...body });
    } catch (e) {
      assert.ok(e instanceof GatewayError && e.status === 400);
      return e.options.param;
    }
    return "accepted";
  };
  assert.equal(paramOf({ messages: [{ role: "user", content: 5 }] }), "messages[0].content");
  assert.equal(paramOf({ temperature: "hot" }), "temperature");
  assert.equal(paramOf({ model: undefined }), "model");
  assert.equal(paramOf({ foo: 1 }), "accepted");
});
