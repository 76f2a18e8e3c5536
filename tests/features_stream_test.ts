import assert from "node:assert/strict";
import {
  type SmootherOptions,
  SmootherStream,
  splitGeminiEvent,
  splitText,
} from "../lib/features/smoother.ts";
import { KeepAliveStream } from "../lib/features/keep_alive.ts";
import { GeminiEventStream, readGeminiStream } from "../lib/gemini/stream.ts";
import { SseEncoderStream, type SseEvent, SseParserStream } from "../lib/http/sse.ts";
import { ChatCompletionStream } from "../lib/openai/chat_stream.ts";
import { wholeAnswerItems } from "../lib/openai/whole_answer.ts";
import { GatewayError } from "../lib/http/errors.ts";

/** Deno 2.9 no longer sanitizes timers by default: turn the sanitizers on so leaked timers fail. */
function leakTest(name: string, fn: () => void | Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += dec.decode(chunk, { stream: true });
  return out;
}

function bytesStream(chunks: string[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks.map((c) => enc.encode(c)));
}

/** What the native edge does with the smoother on: read the items, smooth, re-encode in Google's framing. */
function smoothWire(body: ReadableStream<Uint8Array>, o: SmootherOptions): ReadableStream<Uint8Array> {
  return readGeminiStream(body).pipeThrough(new SmootherStream(o)).pipeThrough(new GeminiEventStream())
    .pipeThrough(new SseEncoderStream({ lineEnding: "\r\n" }));
}

/** A smoother fed by hand with Gemini SSE bytes, read as bytes (for tests that step through it). */
function manualSmoother(o: SmootherOptions) {
  const input = new TransformStream<Uint8Array, Uint8Array>();
  return { writable: input.writable, readable: smoothWire(input.readable, o) };
}

async function parseEvents(text: string): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of ReadableStream.from([text]).pipeThrough(new SseParserStream({ comments: true }))) {
    out.push(e);
  }
  return out;
}

const bigEvent = {
  candidates: [{
    content: { role: "model", parts: [{ text: "The quick brown fox jumps over the lazy dog. ".repeat(3) }] },
    finishReason: "STOP",
    index: 0,
  }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 30, totalTokenCount: 33 },
  modelVersion: "gemini-2.5-flash",
  responseId: "r1",
};

leakTest("splitText keeps the text and respects surrogate pairs", () => {
  const t = "a😀b😀c😀d😀e😀f".repeat(5);
  const pieces = splitText(t, 3);
  assert.equal(pieces.join(""), t);
  for (const p of pieces) assert.ok(!/[\ud800-\udbff]$/.test(p), "no piece ends in a high surrogate");
  assert.deepEqual(splitText("", 5), []);
});

leakTest("splitGeminiEvent: usage/finishReason only on the last piece, other fields kept", () => {
  const events = splitGeminiEvent(bigEvent, 20);
  assert.ok(events.length > 3);
  const texts = events.map((e) =>
    (e.candidates as Array<{ content: { parts: Array<{ text: string }> } }>)[0]
  );
  assert.equal(
    texts.map((c) => c.content.parts[0].text).join(""),
    bigEvent.candidates[0].content.parts[0].text,
  );
  events.forEach((e, i) => {
    const last = i === events.length - 1;
    const cand = (e.candidates as Array<Record<string, unknown>>)[0];
    assert.equal("usageMetadata" in e, last);
    assert.equal("finishReason" in cand, last);
    assert.equal(cand.index, 0);
    assert.equal(e.modelVersion, "gemini-2.5-flash");
    assert.equal(e.responseId, "r1");
    assert.equal((cand.content as { role: string }).role, "model");
  });
  assert.deepEqual(events.at(-1)!.usageMetadata, bigEvent.usageMetadata);
});

leakTest("splitGeminiEvent leaves small, non-text and multi-candidate events alone", () => {
  const small = { candidates: [{ content: { parts: [{ text: "hi" }] } }] };
  assert.deepEqual(splitGeminiEvent(small, 20), [small]);
  const call = {
    candidates: [{ content: { parts: [{ text: "x".repeat(50) }, { functionCall: { name: "f" } }] } }],
  };
  assert.deepEqual(splitGeminiEvent(call, 20), [call]);
  const sig = {
    candidates: [{ content: { parts: [{ text: "y".repeat(50), thoughtSignature: "SIG", thought: true }] } }],
  };
  const parts = splitGeminiEvent(sig, 20).map((e) =>
    (e.candidates as Array<{ content: { parts: Array<Record<string, unknown>> } }>)[0].content.parts[0]
  );
  assert.ok(parts.every((p) => p.thought === true));
  assert.deepEqual(parts.map((p) => "thoughtSignature" in p), [false, false, true]);
});

leakTest("SSE smoother re-chunks frames split at odd byte boundaries", async () => {
  const wire = `data: ${JSON.stringify(bigEvent)}\r\n\r\n: comment\r\n\r\ndata: {"candidates":[]}\r\n\r\n`;
  const chunks = [wire.slice(0, 7), wire.slice(7, 100), wire.slice(100)];
  const out = await readAll(smoothWire(bytesStream(chunks), { chunkChars: 16, maxDelayMs: 0, budgetMs: 0 }));
  assert.ok(out.endsWith("\r\n\r\n"), "Google's framing");
  const frames = await parseEvents(out);
  const json = frames.map((f) => JSON.parse(String(f.data)));
  assert.ok(frames.length > 4);
  assert.ok(
    frames.every((f) => f.comment === undefined),
    "only data events go out (Google sends no comments)",
  );
  assert.deepEqual(json.at(-1), { candidates: [] });
  const pieces = json.slice(0, -1);
  assert.equal(pieces.filter((e) => "usageMetadata" in e).length, 1);
  assert.ok("usageMetadata" in pieces.at(-1)!);
});

leakTest("SSE smoother with pacing finishes and clears its timers", async () => {
  const wire = `data: ${JSON.stringify(bigEvent)}\r\n\r\n`;
  const out = await readAll(smoothWire(bytesStream([wire]), { chunkChars: 40, maxDelayMs: 2, budgetMs: 4 }));
  assert.ok(out.split("\r\n\r\n").length > 3);
});

leakTest("SSE smoother cancel during a pause clears the timer", async () => {
  const smoother = manualSmoother({ chunkChars: 5, maxDelayMs: 1000, budgetMs: 10_000 });
  const writer = smoother.writable.getWriter();
  const reader = smoother.readable.getReader();
  writer.write(enc.encode(`data: ${JSON.stringify(bigEvent)}\r\n\r\n`)).catch(() => {});
  const first = await reader.read();
  assert.ok(first.value && dec.decode(first.value).startsWith("data: "));
  await reader.cancel("client left");
  // The sanitizer fails this test if the 1000 ms pause timer were still pending.
});

// Note: a TransformStream's readable has a high-water mark of 0, so writes resolve only once read;
// the tests therefore do not await writes before reading.
leakTest("keep-alive sends a comment between events and clears its timer", async () => {
  const ka = new KeepAliveStream({ intervalMs: 5 });
  const writer = ka.writable.getWriter();
  const reader = ka.readable.getReader();
  const w1 = writer.write({ data: {} });
  assert.deepEqual((await reader.read()).value, { data: {} });
  await w1;
  assert.deepEqual((await reader.read()).value, { comment: "keep-alive" });
  const w2 = writer.write({ data: { a: 1 } });
  const closed = writer.close();
  const rest: SseEvent[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
  await Promise.all([w2, closed]);
  assert.deepEqual(rest.filter((e) => e.comment === undefined), [{ data: { a: 1 } }]);
  assert.ok(rest.every((e) => e.comment === undefined || e.comment === "keep-alive"));
  // Encoded, a keep-alive is a whole comment line between whole events.
  const wire = await readAll(ReadableStream.from(rest).pipeThrough(new SseEncoderStream()));
  assert.match(wire, /^(: keep-alive\n\n)*data: \{"a":1\}\n\n$/);
});

leakTest("keep-alive can send another idle event (an empty chunk)", async () => {
  const ka = new KeepAliveStream({ intervalMs: 1, idleEvent: () => ({ data: { choices: [] } }) });
  const reader = ka.readable.getReader();
  assert.deepEqual((await reader.read()).value, { data: { choices: [] } });
  await reader.cancel();
});

leakTest("keep-alive cancel clears a long pending timer", async () => {
  const ka = new KeepAliveStream({ intervalMs: 60_000 });
  const writer = ka.writable.getWriter();
  const reader = ka.readable.getReader();
  const w = writer.write({ data: {} });
  await reader.read();
  await w;
  await reader.cancel("client left");
  await writer.closed.catch(() => {});
});

leakTest("keep-alive close clears the timer", async () => {
  const out: SseEvent[] = [];
  for await (
    const e of ReadableStream.from([{ data: {} }]).pipeThrough(new KeepAliveStream({ intervalMs: 60_000 }))
  ) {
    out.push(e);
  }
  assert.deepEqual(out, [{ data: {} }]);
});

/** A whole answer as the OpenAI edge streams it: empty chunks while waiting, then the translation. */
function wholeAnswerWire(answer: Promise<string>, intervalMs: number): ReadableStream<Uint8Array> {
  const translate = new ChatCompletionStream({ model: "m" });
  return wholeAnswerItems(answer).pipeThrough(translate)
    .pipeThrough(
      new KeepAliveStream({ intervalMs, idleEvent: () => ({ data: translate.translator.emptyChunk() }) }),
    )
    .pipeThrough(new SseEncoderStream());
}

leakTest("a whole answer streams empty chunks, then the answer and [DONE]", async () => {
  let resolve!: (v: string) => void;
  const answer = new Promise<string>((r) => resolve = r);
  const reader = wholeAnswerWire(answer, 2).getReader();
  const first = JSON.parse(dec.decode((await reader.read()).value).replace(/^data: /, ""));
  assert.deepEqual(first.choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: null }]);
  resolve(JSON.stringify({ candidates: [{ content: { parts: [{ text: "hi" }] }, finishReason: "STOP" }] }));
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += dec.decode(r.value);
  assert.ok(rest.includes('"content":"hi"'));
  assert.ok(rest.endsWith("data: [DONE]\n\n"));
});

leakTest("a whole answer that fails becomes one error event", async () => {
  const out = await readAll(wholeAnswerWire(Promise.reject(new GatewayError(502, "upstream down")), 1000));
  assert.equal(
    out,
    `data: ${
      JSON.stringify({
        error: { message: "upstream down", type: "server_error", param: null, code: null },
      })
    }\n\n`,
  );
});

leakTest("a whole answer's stream cancel clears the keep-alive timer", async () => {
  await wholeAnswerWire(new Promise(() => {}), 1000).cancel();
});

leakTest(
  "SSE smoother sends the rest of a paced event at once when newer upstream data arrives",
  async () => {
    const pauses: number[] = [];
    // A pause that only ends when the smoother aborts it: pacing can only progress by hurrying.
    const pause = (ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        pauses.push(ms);
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
    const smoother = manualSmoother({ chunkChars: 40, maxDelayMs: 1000, budgetMs: 60_000, pause });
    const writer = smoother.writable.getWriter();
    const reader = smoother.readable.getReader();
    const wire = `data: ${JSON.stringify(bigEvent)}\r\n\r\n`;
    const pieces = splitGeminiEvent(bigEvent, 40).length;
    assert.ok(pieces > 3);
    const w1 = writer.write(enc.encode(wire));
    const first = dec.decode((await reader.read()).value);
    assert.ok(first.startsWith("data: "));
    await w1;
    assert.deepEqual(pauses, [1000], "pacing waits before the second piece");
    const w2 = writer.write(enc.encode(wire)); // newer data: the first event must not hold it back
    let text = "";
    for (let i = 0; i < pieces; i++) text += dec.decode((await reader.read()).value);
    await w2;
    const frames = (await parseEvents(text)).map((f) => JSON.parse(String(f.data)));
    assert.equal(frames.length, pieces, "the rest of event 1 and the first piece of event 2");
    assert.ok("usageMetadata" in frames[pieces - 2], "event 1 ended with its final piece");
    assert.deepEqual(pauses, [1000, 1000], "no pause for event 1 after the hurry; event 2 paces again");
    await reader.cancel("client left"); // ends event 2's pause (the sanitizer checks nothing is left)
    await writer.close().catch(() => {});
  },
);
