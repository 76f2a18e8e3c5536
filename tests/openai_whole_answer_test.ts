/**
 * Whole-answer streams (image and TTS models asked to stream): empty keep-alive chunks while waiting,
 * then the translated answer and [DONE]; an upstream error ends the stream with an OpenAI error event.
 */
import assert from "node:assert/strict";
import { answersWhole, wholeAnswerItems } from "../lib/openai/whole_answer.ts";
import { GatewayError } from "../lib/http/errors.ts";
import { ChatCompletionStream } from "../lib/openai/chat_stream.ts";
import { KeepAliveStream } from "../lib/features/keep_alive.ts";
import { SseEncoderStream, type SseEvent } from "../lib/http/sse.ts";

/** What the OpenAI edge streams for a model that answers whole (keep-alive: empty chunks; 0 = off). */
function wholeAnswerStream(o: { model: string; answer: Promise<string>; keepAliveMs: number }) {
  const translate = new ChatCompletionStream({ model: o.model });
  let events: ReadableStream<SseEvent> = wholeAnswerItems(o.answer).pipeThrough(translate);
  if (o.keepAliveMs > 0) {
    events = events.pipeThrough(
      new KeepAliveStream({
        intervalMs: o.keepAliveMs,
        idleEvent: () => ({ data: translate.translator.emptyChunk() }),
      }),
    );
  }
  return events.pipeThrough(new SseEncoderStream());
}

type Chunk = {
  object?: string;
  choices?: { delta: Record<string, unknown>; finish_reason: string | null }[];
};

/** Reads SSE `data:` payloads one event at a time. */
function events(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  return async function next(): Promise<string | null> {
    while (!buf.includes("\n\n")) {
      const r = await reader.read();
      if (r.done) return null;
      buf += dec.decode(r.value, { stream: true });
    }
    const i = buf.indexOf("\n\n");
    const ev = buf.slice(0, i);
    buf = buf.slice(i + 2);
    return ev.replace(/^data: /, "");
  };
}

Deno.test("answersWhole: image-output and TTS models, image/audio output; not chat models", () => {
  const whole = [
    { model: "gemini-2.5-flash-image" },
    { model: "models/gemini-2.0-flash-preview-image-generation" },
    { model: "gemini-2.5-flash-preview-tts" },
    { model: "gemini-2.0-flash-exp", clientModel: "gemini-2.0-flash-exp-image" },
    { model: "gemini-2.0-flash-exp", modalities: ["TEXT", "IMAGE"] },
  ];
  for (const o of whole) assert.ok(answersWhole(o), JSON.stringify(o));
  const streams = [
    { model: "gemini-2.5-flash" },
    { model: "gemini-3-pro-preview", clientModel: "gemini-3-pro-preview-search" },
    { model: "imagine-x", modalities: ["TEXT"] },
  ];
  for (const o of streams) assert.ok(!answersWhole(o), JSON.stringify(o));
});

Deno.test("wholeAnswerStream: empty chunks until the answer, then the answer, finish and [DONE]", async () => {
  let resolve!: (s: string) => void;
  const answer = new Promise<string>((r) => resolve = r);
  const next = events(wholeAnswerStream({ model: "m-image", answer, keepAliveMs: 1 }));
  for (let i = 0; i < 2; i++) {
    const empty = JSON.parse((await next())!) as Chunk;
    assert.equal(empty.object, "chat.completion.chunk");
    assert.deepEqual(empty.choices![0].delta, {});
    assert.equal(empty.choices![0].finish_reason, null);
  }
  resolve(JSON.stringify({
    candidates: [{ content: { role: "model", parts: [{ text: "done" }] }, finishReason: "STOP" }],
  }));
  const rest: string[] = [];
  for (let ev = await next(); ev !== null; ev = await next()) rest.push(ev);
  assert.equal(rest.at(-1), "[DONE]");
  const chunks = rest.slice(0, -1).map((e) => JSON.parse(e) as Chunk).filter((c) =>
    Object.keys(c.choices![0].delta).length || c.choices![0].finish_reason
  );
  assert.deepEqual(chunks.map((c) => c.choices![0].delta.content ?? null), ["", "done", null]);
  assert.equal(chunks.at(-1)!.choices![0].finish_reason, "stop");
});

Deno.test("wholeAnswerStream: a failed call becomes one OpenAI error event", async () => {
  const answer = Promise.reject(new GatewayError(429, "All keys are rate limited."));
  const next = events(wholeAnswerStream({ model: "m-image", answer, keepAliveMs: 0 }));
  const ev = JSON.parse((await next())!) as { error: { message: string; type: string } };
  assert.match(ev.error.message, /rate limited/);
  assert.equal(ev.error.type, "requests");
  assert.equal(await next(), null);
});

Deno.test("wholeAnswerStream: an upstream error body becomes an error event without [DONE]", async () => {
  const answer = Promise.resolve(
    JSON.stringify({ error: { code: 500, message: "boom", status: "INTERNAL" } }),
  );
  const next = events(wholeAnswerStream({ model: "m-image", answer, keepAliveMs: 0 }));
  const ev = JSON.parse((await next())!) as { error: { message: string } };
  assert.match(ev.error.message, /boom/);
  assert.equal(await next(), null);
});
