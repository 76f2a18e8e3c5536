/** The SSE encoder's shared buffers: every chunk it hands out keeps its bytes, whatever comes after it. */
import assert from "node:assert/strict";
import { SlabEncoder } from "../lib/http/sse.ts";

Deno.test("SlabEncoder: chunks keep their bytes (ASCII, multi-byte, large); a buffer taken over is replaced", () => {
  const encoder = new SlabEncoder();
  const decoder = new TextDecoder();
  const texts = Array.from(
    { length: 600 },
    (_, i) => i % 50 === 7 ? "x".repeat(5000) : i % 3 ? `data: {"n":${i}}\n\n` : `data: "é€😀 ${i}"\n\n`,
  );
  const chunks = texts.map((t) => encoder.encode(t));
  // Several chunks share a buffer, and none overwrote another.
  assert.ok(new Set(chunks.map((c) => c.buffer)).size < chunks.length / 10);
  chunks.forEach((chunk, i) => assert.equal(decoder.decode(chunk), texts[i], `chunk ${i}`));
  // A consumer that transfers a chunk's buffer empties it: the encoder's next chunks go into a new one.
  const taken = encoder.encode("taken");
  structuredClone(taken.buffer, { transfer: [taken.buffer as ArrayBuffer] });
  assert.equal(taken.length, 0);
  const after = texts.map((t) => encoder.encode(t));
  after.forEach((chunk, i) => assert.equal(decoder.decode(chunk), texts[i], `chunk ${i} after the transfer`));
});
