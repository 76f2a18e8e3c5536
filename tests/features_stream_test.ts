import assert from "node:assert/strict";
import { createSseSmoother, splitGeminiEvent, splitText } from "../lib/features/smoother.ts";
import { createKeepAliveTransform, streamWholeAnswer } from "../lib/features/keep_alive.ts";
import { frameJson, SseFrameSplitter } from "../lib/features/sse_frames.ts";

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
  const out = await readAll(
    bytesStream(chunks).pipeThrough(createSseSmoother({ chunkChars: 16, maxDelayMs: 0, budgetMs: 0 })),
  );
  const splitter = new SseFrameSplitter();
  const frames = splitter.push(enc.encode(out));
  assert.equal(splitter.rest(), "");
  const json = frames.map((f) => frameJson(f.text));
  assert.ok(frames.length > 4);
  assert.equal(frames.at(-2)!.text, ": comment", "non-data frames pass through");
  assert.deepEqual(json.at(-1), { candidates: [] });
  const pieces = json.slice(0, -2);
  assert.equal(pieces.filter((e) => e && "usageMetadata" in e).length, 1);
  assert.ok(pieces.at(-1) && "usageMetadata" in pieces.at(-1)!);
});

leakTest("SSE smoother with pacing finishes and clears its timers", async () => {
  const wire = `data: ${JSON.stringify(bigEvent)}\r\n\r\n`;
  const out = await readAll(
    bytesStream([wire]).pipeThrough(createSseSmoother({ chunkChars: 40, maxDelayMs: 2, budgetMs: 4 })),
  );
  assert.ok(out.split("\r\n\r\n").length > 3);
});

leakTest("SSE smoother cancel during a pause clears the timer", async () => {
  const smoother = createSseSmoother({ chunkChars: 5, maxDelayMs: 1000, budgetMs: 10_000 });
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
leakTest("keep-alive injects a comment between frames and clears its timer", async () => {
  const ka = createKeepAliveTransform({ intervalMs: 5 });
  const writer = ka.writable.getWriter();
  const reader = ka.readable.getReader();
  const w1 = writer.write(enc.encode("data: {}\r\n\r\n"));
  assert.equal(dec.decode((await reader.read()).value), "data: {}\r\n\r\n");
  await w1;
  assert.equal(dec.decode((await reader.read()).value), ": keep-alive\n\n");
  const w2 = writer.write(enc.encode('data: {"a":1}'));
  const w3 = writer.write(enc.encode("\n\n"));
  const closed = writer.close();
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += dec.decode(r.value);
  await Promise.all([w2, w3, closed]);
  assert.match(rest, /^(: keep-alive\n\n)*data: \{"a":1\}\n\n$/);
});

leakTest("keep-alive never injects inside a frame", async () => {
  const ka = createKeepAliveTransform({ intervalMs: 1, comment: ": ka\n\n" });
  const writer = ka.writable.getWriter();
  const reader = ka.readable.getReader();
  const w1 = writer.write(enc.encode('data: {"par'));
  await reader.read();
  await w1;
  await new Promise((r) => setTimeout(r, 20));
  const w2 = writer.write(enc.encode('tial":1}\n\n'));
  const next = await reader.read();
  await w2;
  assert.equal(dec.decode(next.value), 'tial":1}\n\n', "no comment was queued mid-frame");
  await reader.cancel();
});

leakTest("keep-alive cancel clears a long pending timer", async () => {
  const ka = createKeepAliveTransform({ intervalMs: 60_000 });
  const writer = ka.writable.getWriter();
  const reader = ka.readable.getReader();
  const w = writer.write(enc.encode("data: {}\n\n"));
  await reader.read();
  await w;
  await reader.cancel("client left");
  await writer.closed.catch(() => {});
});

leakTest("keep-alive close clears the timer", async () => {
  const out = await readAll(
    bytesStream(["data: {}\n\n"]).pipeThrough(createKeepAliveTransform({ intervalMs: 60_000 })),
  );
  assert.equal(out, "data: {}\n\n");
});

leakTest("streamWholeAnswer sends empty chunks, then the answer and [DONE]", async () => {
  let resolve!: (v: unknown[]) => void;
  const final = new Promise<unknown[]>((r) => resolve = r);
  const empty = { object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: null }] };
  const reader = streamWholeAnswer({ final, intervalMs: 2, emptyChunk: empty }).getReader();
  assert.equal(dec.decode((await reader.read()).value), `data: ${JSON.stringify(empty)}\n\n`);
  resolve([{ id: "x", choices: [{ index: 0, delta: { content: "hi" }, finish_reason: "stop" }] }]);
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += dec.decode(r.value);
  assert.ok(rest.includes('"content":"hi"'));
  assert.ok(rest.endsWith("data: [DONE]\n\n"));
});

leakTest("streamWholeAnswer reports a failure as an error event", async () => {
  const out = await readAll(
    streamWholeAnswer({
      final: Promise.reject(new Error("upstream down")),
      intervalMs: 1000,
      emptyChunk: {},
    }),
  );
  assert.equal(
    out,
    `data: ${JSON.stringify({ error: { message: "upstream down", type: "server_error" } })}\n\n`,
  );
});

leakTest("streamWholeAnswer cancel clears the interval", async () => {
  const stream = streamWholeAnswer({ final: new Promise(() => {}), intervalMs: 1000, emptyChunk: {} });
  await stream.cancel();
});

leakTest("keep-alive stays silent on a JSON array stream", async () => {
  const ka = createKeepAliveTransform({ intervalMs: 1 });
  const writer = ka.writable.getWriter();
  const reader = ka.readable.getReader();
  const w1 = writer.write(enc.encode('[{"candidates":[]}\n\n'));
  await reader.read();
  await w1;
  await new Promise((r) => setTimeout(r, 15));
  const w2 = writer.write(enc.encode(","));
  assert.equal(dec.decode((await reader.read()).value), ",");
  await w2;
  await reader.cancel();
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
    const smoother = createSseSmoother({ chunkChars: 40, maxDelayMs: 1000, budgetMs: 60_000, pause });
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
    const frames = text.split("\r\n\r\n").filter(Boolean).map((f) => frameJson(f)!);
    assert.equal(frames.length, pieces, "the rest of event 1 and the first piece of event 2");
    assert.ok("usageMetadata" in frames[pieces - 2], "event 1 ended with its final piece");
    assert.deepEqual(pauses, [1000, 1000], "no pause for event 1 after the hurry; event 2 paces again");
    await reader.cancel("client left"); // ends event 2's pause (the sanitizer checks nothing is left)
    await writer.close().catch(() => {});
  },
);
