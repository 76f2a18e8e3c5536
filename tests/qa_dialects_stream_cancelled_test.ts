/**
 * QA (issue 12): Google may end a 200 stream with a bare error object after some events (wire notes
 * "Streams can end in a bare error", Firebase `vertexai/streaming-failure-error-mid-stream.txt`: 499
 * CANCELLED). The client did not cancel anything and its request was valid, so the failure must reach
 * it as a server-side error: Anthropic's `api_error` (Claude Code retries those, not
 * `invalid_request_error`), and a `response.failed` whose code is `server_error`, not `invalid_prompt`.
 */
import assert from "node:assert/strict";
import Anthropic from "./support/sdk/anthropic.ts";
import OpenAI from "./support/sdk/openai.ts";
import { sseBody, sseResponse, startScripted } from "./support/scripted_upstream.ts";

const PARTIAL = {
  candidates: [{ content: { role: "model", parts: [{ text: "partial " }] }, index: 0 }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
};
const CANCELLED = '{\n  "error": {\n    "code": 499,\n    "message": "The operation was cancelled.",\n' +
  '    "status": "CANCELLED"\n  }\n}\n';

Deno.test("qa stream errors: Google's CANCELLED mid-stream is an api_error event on the Anthropic route", async () => {
  const h = await startScripted(() => sseResponse(sseBody([PARTIAL], CANCELLED)));
  try {
    const client = new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });
    const err = await client.messages.stream({
      model: "gemini-2.5-flash",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
    }).finalMessage().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Anthropic.APIError, `the SDK throws: ${err}`);
    const type = (err.error as { error?: { type?: string } } | undefined)?.error?.type;
    assert.equal(type, "api_error", `error event: ${JSON.stringify(err.error)}`);
  } finally {
    await h.close();
  }
});

Deno.test("qa stream errors: Google's CANCELLED mid-stream is response.failed with server_error on the Responses route", async () => {
  const h = await startScripted(() => sseResponse(sseBody([PARTIAL], CANCELLED)));
  try {
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const stream = await client.responses.create({ model: "gemini-2.5-flash", input: "hi", stream: true });
    let failed: OpenAI.Responses.Response | undefined;
    for await (const e of stream) if (e.type === "response.failed") failed = e.response;
    assert.ok(failed, "the stream ends in response.failed");
    assert.equal(failed.error?.code, "server_error", JSON.stringify(failed.error));
  } finally {
    await h.close();
  }
});

Deno.test("qa stream errors: Google's CANCELLED mid-stream is a server_error event on the OpenAI chat route", async () => {
  const h = await startScripted(() => sseResponse(sseBody([PARTIAL], CANCELLED)));
  try {
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const err = await (async () => {
      for await (const _ of stream) { /* read to the end */ }
    })().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof OpenAI.APIError, `the SDK throws: ${err}`);
    const type = (err.error as { type?: string } | undefined)?.type;
    assert.equal(type, "server_error", `error event: ${JSON.stringify(err.error)}`);
  } finally {
    await h.close();
  }
});
