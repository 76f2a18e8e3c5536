/**
 * The relay's masking fast path (lib/pipeline/stream_relay.ts `RelayMasking.pass`): a chunk that passes
 * unchanged goes on as the bytes that came only when they are what encoding its text gives. Cases a
 * check on the chunk's last byte alone gets wrong: an empty chunk while the decoder still holds a
 * character's first bytes, invalid UTF-8 (raw when a chunk is aligned, U+FFFD when split elsewhere), and
 * a byte-order mark at the body's start (decoding drops it).
 */
import assert from "node:assert/strict";
import { RelayMasking } from "../lib/pipeline/stream_relay.ts";
import { startScripted } from "./support/scripted_upstream.ts";

const utf8 = new TextEncoder();
const keep = (t: string) => t;

/** Everything `chunks` come out as, through one masking. */
function relayed(chunks: Uint8Array[]): Uint8Array {
  const m = new RelayMasking(keep);
  const out: number[] = [];
  for (const c of chunks) out.push(...(m.pass(c) ?? []));
  out.push(...(m.end() ?? []));
  return new Uint8Array(out);
}

Deno.test("relay masking: an empty chunk between the halves of a split character does not drop the character's first bytes", () => {
  const body = utf8.encode('data: {"candidates":[{"content":{"parts":[{"text":"你好"}]}}]}\r\n\r\n');
  const cut = body.indexOf(0xe4) + 1; // after the first byte of 你
  const out = relayed([body.subarray(0, cut), new Uint8Array(0), body.subarray(cut)]);
  assert.equal(new TextDecoder().decode(out), new TextDecoder().decode(body));
});

Deno.test("relay masking: invalid UTF-8 comes out the same however the upstream's chunks fall", () => {
  const head = utf8.encode('data: {"candidates":[{"content":{"parts":[{"text":"');
  const body = new Uint8Array([...head, 0xff, 0x41, 0xc3, ...utf8.encode('"}]}}]}\r\n\r\n')]);
  const whole = relayed([body]);
  for (let cut = 1; cut < body.length; cut++) {
    const split = relayed([body.subarray(0, cut), body.subarray(cut)]);
    assert.deepEqual([...split], [...whole], `cut at ${cut}`);
  }
});

/** A streamed response whose body is exactly these chunks, with a pause between them (so they are read apart). */
function chunked(chunks: Uint8Array[]): Response {
  let i = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i >= chunks.length) return c.close();
        if (i > 0) await new Promise((r) => setTimeout(r, 3));
        c.enqueue(chunks[i++]);
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );
}

Deno.test("native SSE stream: invalid UTF-8 from upstream reaches the client the same whether or not the upstream's chunks split it", async () => {
  const head = utf8.encode('data: {"candidates":[{"content":{"role":"model","parts":[{"text":"a');
  const body = new Uint8Array([
    ...head,
    0xc3, // a lead byte without its continuation
    0x41,
    0xff, // never valid in UTF-8
    ...utf8.encode('"}]},"finishReason":"STOP"}]}\r\n\r\n'),
  ]);
  const cut = head.length + 1; // right after the lone lead byte
  let split = false;
  const h = await startScripted(() => chunked(split ? [body.subarray(0, cut), body.subarray(cut)] : [body]));
  try {
    const stream = async () => {
      const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
        method: "POST",
        headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
      });
      return [...new Uint8Array(await res.arrayBuffer())];
    };
    const whole = await stream();
    split = true;
    assert.deepEqual(whole, await stream());
  } finally {
    await h.close();
  }
});

Deno.test("relay masking: a byte-order mark at the body's start is dropped as decoding drops it, whatever the chunking", () => {
  const event = utf8.encode('data: {"candidates":[]}\r\n\r\n');
  const body = new Uint8Array([0xef, 0xbb, 0xbf, ...event]);
  for (const cut of [body.length, 3, 1]) {
    const out = relayed([body.subarray(0, cut), body.subarray(cut)]);
    assert.deepEqual([...out], [...event], `first chunk of ${cut} bytes`);
  }
});
