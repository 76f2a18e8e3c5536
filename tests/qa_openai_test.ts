/**
 * QA of the OpenAI route against real Gemini answers and real clients (issue 11): faults found while
 * driving it with the openai SDK against the mock and a scripted upstream. Each test fails on the code
 * it was written against and says what a client saw.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { coolDown, fakeKey, startHarness } from "./support/harness.ts";
import { jsonAnswer, sseBody, sseResponse, startScripted } from "./support/scripted_upstream.ts";
import { keyId } from "../lib/pool/key_record.ts";
import type { RequestRecord } from "../lib/pipeline/request_record.ts";
import type { Forward } from "../lib/pipeline/types.ts";
import { rateLimited } from "../lib/http/errors.ts";
import { openAIEdge } from "../routes/openai.ts";
import { edgeDeps, serveEdge } from "./support/edge.ts";

const sdk = (h: { url: string; token: string }) =>
  new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1", maxRetries: 0 });

const textEvent = (t: string, extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: { role: "model", parts: [{ text: t }] }, index: 0, ...extra }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
});

/** The record of the first request on `route` (waits: a stream is recorded when it ends). */
async function recordOf(records: RequestRecord[], route: string): Promise<RequestRecord> {
  for (let i = 0; i < 200; i++) {
    const found = records.find((r) => r.route === route);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no ${route} record`);
}

Deno.test("qa openai: a stream Google breaks off is logged as the upstream's failure, not as the client leaving", async () => {
  const encoder = new TextEncoder();
  const h = await startScripted(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(encoder.encode(sseBody([textEvent("Hello, "), textEvent("wor")])));
          await new Promise((r) => setTimeout(r, 30));
          c.error(new Error("connection reset")); // the upstream connection breaks
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    )
  );
  try {
    const stream = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    await assert.rejects(
      async () => {
        for await (const _ of stream) { /* read to the end */ }
      },
      /broke off/,
      "the client is told the answer was cut",
    );
    const rec = await recordOf(h.records, "openai");
    assert.notEqual(rec.status, 499, `logged as ${rec.status} "${rec.error}": the client did not leave`);
    assert.ok(rec.status >= 500, `the log names the upstream failure: ${rec.status} ${rec.error}`);
  } finally {
    await h.close();
  }
});

Deno.test("qa openai: a stream that ends without Gemini's finishReason is not reported as a complete answer", async () => {
  // Two events of text, then the body ends cleanly: no event carried a finishReason, so Gemini never
  // said the answer was done (every recorded Gemini stream ends with one, or with a block reason).
  const h = await startScripted(() =>
    sseResponse(sseBody([textEvent("The first half of the "), textEvent("answ")]))
  );
  try {
    const stream = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let finish: string | null = null;
    let text = "";
    let failed = false;
    try {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
    } catch {
      failed = true;
    }
    assert.ok(
      failed || finish !== "stop",
      `the client got ${JSON.stringify(text)} with finish_reason "stop", as if the answer were complete`,
    );
  } finally {
    await h.close();
  }
});

Deno.test("qa openai: stream:true on an image model keeps the HTTP status of a refusal (429 + Retry-After, 404)", async () => {
  const keys = [fakeKey(1), fakeKey(2)];
  const h = await startHarness({ keys });
  try {
    const client = sdk(h);
    // Unknown model: a text model answers 404 streamed or not; the image model must too.
    await assert.rejects(
      client.chat.completions.create({
        model: "gemini-9-nope-image",
        messages: [{ role: "user", content: "draw a cat" }],
        stream: true,
      }),
      (e: unknown) => e instanceof OpenAI.APIError && e.status === 404,
      "an unknown image model streamed gets 404",
    );
    // Every key cooling for the image model: 429 with Retry-After, which the SDK's retry logic reads.
    for (const k of keys) coolDown(h, keyId(k), "gemini-2.5-flash-image", { ms: 60_000 });
    const whole = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gemini-2.5-flash-image", messages: [{ role: "user", content: "x" }] }),
    });
    assert.equal(whole.status, 429, "not streamed: 429");
    await whole.body?.cancel();
    const streamed = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gemini-2.5-flash-image",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      }),
    });
    const body = await streamed.text();
    assert.equal(streamed.status, 429, `streamed: ${streamed.status} ${body.slice(0, 160)}`);
    assert.ok(streamed.headers.get("retry-after"), "Retry-After is kept");

    // Once the first keep-alive was due, the stream has started (200): a later failure is its error event.
    let open!: () => void;
    const gate = new Promise<void>((r) => open = r);
    const forward: Forward = async () => {
      await gate;
      throw rateLimited("Every key is cooling down for gemini-2.5-flash-image.", 30);
    };
    const edge = serveEdge(openAIEdge, edgeDeps(forward, { settings: { keepAliveMs: 50 } }));
    try {
      const late = await new OpenAI({ apiKey: h.token, baseURL: edge.url, maxRetries: 0 }).chat.completions
        .create({ model: "gemini-2.5-flash-image", messages: [{ role: "user", content: "x" }], stream: true })
        .withResponse();
      assert.equal(late.response.status, 200, "the stream had started: its status was sent");
      const seen: unknown[] = [];
      await assert.rejects(
        async () => {
          for await (const c of late.data) {
            seen.push(c.choices[0].delta);
            open();
          }
        },
        (e: unknown) => e instanceof OpenAI.APIError && /cooling down/.test(e.message),
      );
      assert.deepEqual(seen, [{}], "the keep-alive chunk that was due, then the error event");
    } finally {
      open();
      await edge.shutdown();
    }
  } finally {
    await h.close();
  }
});

Deno.test("qa openai: a function tool without its function (or its name) is refused, not silently dropped", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    for (
      const [tools, param] of [
        [[{ type: "function" }], "tools[0].function"],
        [
          [{ type: "function", function: { parameters: { type: "object", properties: {} } } }],
          "tools[0].function.name",
        ],
      ] as const
    ) {
      let error: InstanceType<typeof OpenAI.APIError> | undefined;
      const res = await client.chat.completions.create({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: "call my tool" }],
        tools: tools as unknown as OpenAI.ChatCompletionTool[],
      }).then(
        (r) => `200 ${r.choices[0].message.content}`,
        (e) => e instanceof OpenAI.APIError ? (error = e).status : e,
      );
      assert.equal(
        res,
        400,
        `tools ${JSON.stringify(tools)}: the model was called without the tool (${res})`,
      );
      assert.equal(error?.param, param, "the error names the missing field");
      assert.match(
        error!.message,
        new RegExp(`Missing required parameter: '${param.replace(/[.[\]]/g, "\\$&")}'`),
      );
    }
  } finally {
    await h.close();
  }
});

Deno.test("qa openai: a streamed answer of thoughts only is retried like a whole one", async () => {
  const thoughtsOnly = {
    candidates: [{
      content: { role: "model", parts: [{ text: "Let me think about a greeting.", thought: true }] },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: { promptTokenCount: 3, thoughtsTokenCount: 6, totalTokenCount: 9 },
  };
  const answer = textEvent("Hello!", { finishReason: "STOP" });
  let first = true;
  const h = await startScripted((call) => {
    const reply = first ? thoughtsOnly : answer;
    first = false;
    return call.method === "streamGenerateContent" ? sseResponse(sseBody([reply])) : jsonAnswer(reply);
  });
  try {
    const client = sdk(h);
    const request = {
      model: "gemini-2.5-flash",
      messages: [{ role: "user" as const, content: "hi" }],
      reasoning_effort: "low" as const,
    };
    const whole = await client.chat.completions.create(request);
    assert.equal(whole.choices[0].message.content, "Hello!", "a whole answer of thoughts only is retried");
    first = true;
    h.calls.length = 0;
    const stream = await client.chat.completions.create({ ...request, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(
      text,
      "Hello!",
      `streamed: the client got ${JSON.stringify(text)} after ${h.calls.length} call(s)`,
    );
  } finally {
    await h.close();
  }
});

Deno.test("qa openai: Google Search from a -search model is not sent next to the client's functions", async () => {
  // Gemini 2.x refuses the mix ("Tool use with function calling is unsupported", googleapis/go-genai#323);
  // Gemini 3 refuses it unless toolConfig.includeServerSideToolInvocations is set ("Please enable
  // tool_config.include_server_side_tool_invocations to use Built-in tools with Function calling.",
  // cloudwego/eino-ext#761), and then answers with toolCall/toolResponse parts that OpenAI's history has
  // no slot for (docs/wire_notes.md, "Built-in tools next to functions"). A chat front end with a
  // -search model and tools switched on sends exactly this.
  const h = await startHarness();
  try {
    const client = sdk(h);
    for (const model of ["gemini-2.5-flash-search", "gemini-3-flash-preview-search"]) {
      await client.chat.completions.create({
        model,
        messages: [{ role: "user", content: "what time is it in Paris, and today's news?" }],
        tools: [{
          type: "function",
          function: { name: "get_time", parameters: { type: "object", properties: {} } },
        }],
      });
      const sent = h.mock.requests.at(-1)!.json as {
        tools?: Array<Record<string, unknown>>;
        toolConfig?: { includeServerSideToolInvocations?: boolean };
      };
      const search = (sent.tools ?? []).some((t) => "googleSearch" in t);
      const functions = (sent.tools ?? []).some((t) => "functionDeclarations" in t);
      assert.ok(
        !(search && functions && sent.toolConfig?.includeServerSideToolInvocations !== true),
        `${model}: sent tools ${JSON.stringify(sent.tools)} and toolConfig ${
          JSON.stringify(sent.toolConfig ?? null)
        }, which Gemini refuses`,
      );
    }
  } finally {
    await h.close();
  }
});
