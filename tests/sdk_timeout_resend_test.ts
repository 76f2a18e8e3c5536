/**
 * A paid generation is sent once, also through the clients' own retries: the OpenAI and Anthropic SDKs
 * retry every 5xx twice by default (three paid generations for one call) unless the answer says
 * `x-should-retry: false`. A 504 after the request reached Google (no answer start within
 * REQUEST_TIMEOUT_MS, a stall beyond IDLE_TIMEOUT_MS) says so; errors before anything was generated
 * (503 overloaded) stay retryable.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import Anthropic from "./support/sdk/anthropic.ts";
import { startFaultHarness } from "./support/fault_harness.ts";

const MESSAGES = [{ role: "user" as const, content: "hi" }];

Deno.test("OpenAI SDK: a request that timed out upstream (REQUEST_TIMEOUT_MS) reaches Google once, not three times", async () => {
  const h = await startFaultHarness({ env: { REQUEST_TIMEOUT_MS: "300" } });
  try {
    h.up.otherwise({ kind: "stall_before_headers" });
    const client = new OpenAI({ baseURL: h.url + "/v1", apiKey: h.token });
    const e = await client.chat.completions.create({ model: "gemini-2.5-flash", messages: MESSAGES })
      .catch((e) => e);
    assert.ok(e instanceof OpenAI.APIError, String(e));
    assert.equal(e.status, 504);
    assert.match(e.message, /REQUEST_TIMEOUT_MS/);
    assert.equal(h.up.requests.length, 1, "the SDK did not send the paid generation again");
  } finally {
    await h.close();
  }
});

Deno.test("OpenAI SDK stream and Anthropic SDK: an answer that stalled (IDLE_TIMEOUT_MS) is not sent again by the SDK", async () => {
  const h = await startFaultHarness({ env: { IDLE_TIMEOUT_MS: "300", REQUEST_TIMEOUT_MS: "300" } });
  try {
    h.up.otherwise({ kind: "stall_after_headers", body: '{"candidates": [' });
    const anthropic = new Anthropic({ baseURL: h.url, apiKey: h.token });
    const e = await anthropic.messages.create({
      model: "gemini-2.5-flash",
      max_tokens: 50,
      messages: MESSAGES,
    })
      .catch((e) => e);
    assert.ok(e instanceof Anthropic.APIError, String(e));
    assert.equal(e.status, 504);
    assert.equal(h.up.requests.length, 1, "the Anthropic SDK did not send it again");

    h.up.requests.length = 0;
    h.up.otherwise({ kind: "stall_after_headers" });
    const openai = new OpenAI({ baseURL: h.url + "/v1", apiKey: h.token });
    const s = await openai.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: MESSAGES,
      stream: true,
    })
      .catch((e) => e);
    assert.ok(s instanceof OpenAI.APIError, String(s));
    assert.equal(s.status, 504);
    assert.equal(h.up.requests.length, 1, "the OpenAI SDK did not send the stream again");
  } finally {
    await h.close();
  }
});

Deno.test("OpenAI SDK: a 503 (nothing generated) stays retryable by the client", async () => {
  const h = await startFaultHarness({ keys: ["AIza" + "q".repeat(35)], env: { MAX_ATTEMPTS: "1" } });
  try {
    const overloaded = JSON.stringify({
      error: {
        code: 503,
        message: "The model is overloaded. Please try again later.",
        status: "UNAVAILABLE",
      },
    });
    h.up.script({
      kind: "answer",
      status: 503,
      contentType: "application/json; charset=UTF-8",
      body: overloaded,
    });
    const client = new OpenAI({ baseURL: h.url + "/v1", apiKey: h.token, maxRetries: 1 });
    const r = await client.chat.completions.create({ model: "gemini-2.5-flash", messages: MESSAGES })
      .withResponse()
      .catch((e) => e);
    assert.equal(h.up.requests.length, 2, "the SDK retried the 503");
    assert.equal(r.data?.choices[0].message.content, "fine");
  } finally {
    await h.close();
  }
});
