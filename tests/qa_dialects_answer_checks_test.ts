/**
 * QA (issue 12): the Anthropic and Responses routes run on the one pipeline, so they must get the
 * answer checks the OpenAI route has (lib/gemini/answer_check.ts, wire notes "OpenAI route against
 * real answers"):
 * - a 400 about a thought signature ("Corrupted thought signature.", e.g. history signed by another
 *   Gemini model after a model switch) is tried once more with Google's skip value;
 * - a failed tool call (`MALFORMED_FUNCTION_CALL`) is tried once more on another key and, if it
 *   persists, reported as an error, never as a finished answer with no content;
 * - an empty answer is tried once more on another key (`RETRY_EMPTY_ANSWERS`, default on).
 */
import assert from "node:assert/strict";
import Anthropic from "./support/sdk/anthropic.ts";
import OpenAI from "./support/sdk/openai.ts";
import { startHarness } from "./support/harness.ts";
import { jsonAnswer, startScripted } from "./support/scripted_upstream.ts";

/** A signature token in the gateway's format whose signature this mock never issued. */
const FOREIGN = "gemini.v1.c2lnbmVkLWJ5LWFub3RoZXItZ2VtaW5pLW1vZGVs";

Deno.test("qa answer checks: a history signature Gemini calls corrupted is retried with the skip value (Anthropic)", async () => {
  const h = await startHarness();
  try {
    const client = new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });
    const msg = await client.messages.create({
      model: "gemini-3-flash-preview",
      max_tokens: 100,
      tools: [{ name: "run", input_schema: { type: "object", properties: {} } }],
      messages: [
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "", signature: FOREIGN },
            { type: "tool_use", id: "toolu_01Q8bZ6Yxq3FfY5nJtW3zR2k", name: "run", input: {} },
          ],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_01Q8bZ6Yxq3FfY5nJtW3zR2k", content: "ok" }],
        },
      ],
    });
    assert.equal(msg.stop_reason, "end_turn");
    assert.equal((msg.content.at(-1) as Anthropic.TextBlock).text, 'result: [{"output":"ok"}]');
  } finally {
    await h.close();
  }
});

Deno.test("qa answer checks: a history signature Gemini calls corrupted is retried with the skip value (Responses)", async () => {
  const h = await startHarness();
  try {
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const r = await client.responses.create({
      model: "gemini-3-flash-preview",
      store: false,
      tools: [{
        type: "function",
        name: "run",
        strict: false,
        parameters: { type: "object", properties: {} },
      }],
      input: [
        { role: "user", content: "go" },
        { type: "reasoning", id: "rs_1", summary: [], encrypted_content: FOREIGN },
        { type: "function_call", call_id: "call_1", name: "run", arguments: "{}" },
        { type: "function_call_output", call_id: "call_1", output: "ok" },
      ],
    });
    assert.equal(r.status, "completed");
    assert.equal(r.output_text, 'result: [{"output":"ok"}]');
  } finally {
    await h.close();
  }
});

const MALFORMED = {
  candidates: [{
    finishReason: "MALFORMED_FUNCTION_CALL",
    finishMessage: "Malformed function call: print(default_api.run(",
    index: 0,
  }],
  usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 },
};

Deno.test("qa answer checks: MALFORMED_FUNCTION_CALL is retried on another key, then an error (Anthropic, Responses)", async () => {
  const h = await startScripted(() => jsonAnswer(MALFORMED));
  try {
    const anthropic = new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });
    const before = h.calls.length;
    const msg = await anthropic.messages.create({
      model: "gemini-2.5-flash",
      max_tokens: 100,
      tools: [{ name: "run", input_schema: { type: "object", properties: {} } }],
      messages: [{ role: "user", content: "go" }],
    }).catch((e: unknown) => e);
    assert.equal(h.calls.length - before, 2, "tried once more on another key");
    assert.ok(
      msg instanceof Anthropic.APIError,
      `a failed tool call is an error, not a finished answer: ${JSON.stringify(msg)}`,
    );

    const openai = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const before2 = h.calls.length;
    const r = await openai.responses.create({
      model: "gemini-2.5-flash",
      tools: [{
        type: "function",
        name: "run",
        strict: false,
        parameters: { type: "object", properties: {} },
      }],
      input: "go",
    }).catch((e: unknown) => e);
    assert.equal(h.calls.length - before2, 2, "tried once more on another key");
    assert.ok(
      r instanceof OpenAI.APIError || (r as OpenAI.Responses.Response).status === "failed",
      `a failed tool call is an error, not a completed response: ${JSON.stringify(r)}`,
    );
  } finally {
    await h.close();
  }
});

const EMPTY = {
  candidates: [{ content: { role: "model" }, finishReason: "STOP", index: 0 }],
  usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 },
};
const FINE = {
  candidates: [{
    content: { role: "model", parts: [{ text: "second try" }] },
    finishReason: "STOP",
    index: 0,
  }],
  usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 },
};

Deno.test("qa answer checks: an empty answer is tried once more on another key (Anthropic)", async () => {
  const h = await startScripted((_call, n) => jsonAnswer(n === 0 ? EMPTY : FINE));
  try {
    const anthropic = new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });
    const msg = await anthropic.messages.create({
      model: "gemini-2.5-flash",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.deepEqual(msg.content, [{ type: "text", text: "second try", citations: null }]);
    assert.equal(h.calls.length, 2);
  } finally {
    await h.close();
  }
});

Deno.test("qa answer checks: an empty answer is tried once more on another key (Responses)", async () => {
  const h = await startScripted((_call, n) => jsonAnswer(n === 0 ? EMPTY : FINE));
  try {
    const openai = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const r = await openai.responses.create({ model: "gemini-2.5-flash", input: "hi" });
    assert.equal(r.output_text, "second try");
    assert.equal(h.calls.length, 2);
  } finally {
    await h.close();
  }
});
