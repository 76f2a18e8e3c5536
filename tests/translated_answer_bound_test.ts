/**
 * Memory stays bounded on the translating routes: a unary answer larger than ANSWER_BUFFER_BYTES is
 * streamed through on the native route, but the OpenAI and Anthropic routes must hold an answer whole to
 * translate it. They refuse one over the bound with a clear 502 (and close the upstream socket) instead of
 * reading hundreds of MB into memory.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import Anthropic from "./support/sdk/anthropic.ts";
import { startFaultHarness } from "./support/fault_harness.ts";

const HUGE = 64 * 1024 * 1024;

Deno.test("OpenAI SDK: a unary answer over ANSWER_BUFFER_BYTES is refused with 502, not read whole", async () => {
  const h = await startFaultHarness({ env: { ANSWER_BUFFER_BYTES: String(1024 * 1024) } });
  try {
    h.up.script({ kind: "huge", bytes: HUGE });
    const client = new OpenAI({ baseURL: h.url + "/v1", apiKey: h.token, maxRetries: 0 });
    const e = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "hi" }],
    }).catch((e) => e);
    assert.ok(e instanceof OpenAI.APIError, String(e));
    assert.equal(e.status, 502);
    assert.match(e.message, /ANSWER_BUFFER_BYTES/);
    assert.ok(await h.up.waitPeerClosed(1), "the gateway stopped reading long before 64 MB");
    assert.equal(h.up.requests.length, 1, "the paid generation was not sent again");
  } finally {
    await h.close();
  }
});

Deno.test("Anthropic SDK: a unary answer over ANSWER_BUFFER_BYTES is refused with 502, not read whole", async () => {
  const h = await startFaultHarness({ env: { ANSWER_BUFFER_BYTES: String(1024 * 1024) } });
  try {
    h.up.script({ kind: "huge", bytes: HUGE });
    const client = new Anthropic({ baseURL: h.url, apiKey: h.token, maxRetries: 0 });
    const e = await client.messages.create({
      model: "gemini-2.5-flash",
      max_tokens: 50,
      messages: [{ role: "user", content: "hi" }],
    }).catch((e) => e);
    assert.ok(e instanceof Anthropic.APIError, String(e));
    assert.equal(e.status, 502);
    assert.match(e.message, /ANSWER_BUFFER_BYTES/);
    assert.ok(await h.up.waitPeerClosed(1), "the gateway stopped reading long before 64 MB");
  } finally {
    await h.close();
  }
});

Deno.test("the native route still streams a unary answer over ANSWER_BUFFER_BYTES through", async () => {
  const h = await startFaultHarness({ env: { ANSWER_BUFFER_BYTES: String(1024 * 1024) } });
  try {
    h.up.script({ kind: "huge", bytes: 4 * 1024 * 1024 });
    const r = await fetch(h.url + "/v1beta/models/gemini-2.5-flash:generateContent", {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.arrayBuffer()).byteLength, 4 * 1024 * 1024);
  } finally {
    await h.close();
  }
});

Deno.test("OpenAI stream: an upstream event with no end (100 MB without a blank line) ends with an error event; the gateway stops reading", async () => {
  const h = await startFaultHarness();
  try {
    h.up.script({ kind: "huge", bytes: 100 * 1024 * 1024, contentType: "text/event-stream" });
    const r = await fetch(h.url + "/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gemini-2.5-flash",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    const text = await r.text();
    assert.match(text, /"error"/);
    assert.match(text, /larger than/);
    assert.ok(await h.up.waitPeerClosed(1), "the gateway stopped reading long before 100 MB");
  } finally {
    await h.close();
  }
});
