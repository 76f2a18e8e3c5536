import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import OpenAI from "./support/sdk/openai.ts";
import { KeepAliveStream } from "../lib/features/keep_alive.ts";
import { SmootherStream } from "../lib/features/smoother.ts";
import { GeminiEventStream, readGeminiStream } from "../lib/gemini/stream.ts";
import { SseEncoderStream } from "../lib/http/sse.ts";
import { GatewayError } from "../lib/http/errors.ts";
import { ChatCompletionStream } from "../lib/openai/chat_stream.ts";
import { wholeAnswerItems } from "../lib/openai/whole_answer.ts";

const enc = new TextEncoder();

Deno.test("the official @google/genai SDK reads the smoothed, re-encoded native SSE", async () => {
  const text = "Streaming text that is long enough to be split into several smoothed pieces. ".repeat(4);
  const events = [
    { candidates: [{ content: { role: "model", parts: [{ text: text.slice(0, 150) }] }, index: 0 }] },
    {
      candidates: [{
        content: { role: "model", parts: [{ text: text.slice(150) }] },
        finishReason: "STOP",
        index: 0,
      }],
      usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 60, totalTokenCount: 62 },
    },
  ];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const upstream = new ReadableStream<Uint8Array>({
      async start(c) {
        for (const e of events) {
          c.enqueue(enc.encode(`data: ${JSON.stringify(e)}\r\n\r\n`));
          await new Promise((r) => setTimeout(r, 20)); // idle gap
        }
        c.close();
      },
    });
    // What the native edge does with the smoother on.
    const body = readGeminiStream(upstream)
      .pipeThrough(new SmootherStream({ chunkChars: 20, maxDelayMs: 0, budgetMs: 0 }))
      .pipeThrough(new GeminiEventStream())
      .pipeThrough(new SseEncoderStream({ lineEnding: "\r\n" }));
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  try {
    const ai = new GoogleGenAI({
      apiKey: "test",
      httpOptions: { baseUrl: `http://127.0.0.1:${server.addr.port}` },
    });
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "hi" });
    const pieces: string[] = [];
    let usage: unknown;
    let finish: unknown;
    for await (const chunk of stream) {
      pieces.push(chunk.text ?? "");
      usage ??= chunk.usageMetadata;
      finish ??= chunk.candidates?.[0]?.finishReason;
    }
    assert.equal(pieces.join(""), text);
    assert.ok(pieces.length > 10, `expected many small pieces, got ${pieces.length}`);
    assert.deepEqual(usage, events[1].usageMetadata);
    assert.equal(finish, "STOP");
  } finally {
    await server.shutdown();
  }
});

Deno.test("the official openai SDK reads a whole-answer stream (heartbeats, answer, error)", async () => {
  let fail = false;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const answer = new Promise<string>((resolve, reject) =>
      setTimeout(
        () =>
          fail ? reject(new GatewayError(502, "Gemini did not answer")) : resolve(JSON.stringify({
            candidates: [{
              content: { role: "model", parts: [{ text: "whole answer" }] },
              finishReason: "STOP",
            }],
          })),
        25,
      )
    );
    // What the OpenAI edge does for a model that answers whole.
    const translate = new ChatCompletionStream({ model: "gemini-2.5-flash-image" });
    const body = wholeAnswerItems(answer).pipeThrough(translate)
      .pipeThrough(
        new KeepAliveStream({
          intervalMs: 5,
          idleEvent: () => ({ data: translate.translator.emptyChunk() }),
        }),
      )
      .pipeThrough(new SseEncoderStream());
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  try {
    const client = new OpenAI({
      apiKey: "test",
      baseURL: `http://127.0.0.1:${server.addr.port}/v1`,
      maxRetries: 0,
    });
    const stream = await client.chat.completions.create({ model: "m", messages: [], stream: true });
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, "whole answer");
    assert.equal(finish, "stop");
    fail = true;
    const failing = await client.chat.completions.create({ model: "m", messages: [], stream: true });
    await assert.rejects(async () => {
      for await (const _ of failing) { /* drain */ }
    }, /Gemini did not answer/);
  } finally {
    await server.shutdown();
  }
});
