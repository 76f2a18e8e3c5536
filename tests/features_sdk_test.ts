import assert from "node:assert/strict";
import { GoogleGenAI } from "@google/genai";
import { createKeepAliveTransform } from "../lib/features/keep_alive.ts";
import { createSseSmoother } from "../lib/features/smoother.ts";

const enc = new TextEncoder();

Deno.test("the official @google/genai SDK reads smoothed + keep-alive SSE unchanged", async () => {
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
          c.enqueue(enc.encode(": keep-alive\n\n")); // what the keep-alive transform writes
          await new Promise((r) => setTimeout(r, 20)); // idle gap: the transform may add more
        }
        c.close();
      },
    });
    const body = upstream
      .pipeThrough(createKeepAliveTransform({ intervalMs: 5 }))
      .pipeThrough(createSseSmoother({ chunkChars: 20, maxDelayMs: 0, budgetMs: 0 }));
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
