import assert from "node:assert/strict";
import { randomAlnum, toolCallId, toolCallRef } from "../lib/gemini/tool_call_ids.ts";
import { completionId } from "../lib/openai/chat_response.ts";

Deno.test("randomAlnum: the asked length, alphanumeric, no repeats", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5_000; i++) {
    const s = randomAlnum(24);
    assert.match(s, /^[A-Za-z0-9]{24}$/);
    seen.add(s);
  }
  assert.equal(seen.size, 5_000);
  // A reference round-trips through a tool-call id.
  const ref = randomAlnum(24);
  assert.equal(toolCallRef(toolCallId(ref)), ref);
  assert.match(completionId(), /^chatcmpl-[A-Za-z0-9]{29}$/);
});

Deno.test("randomAlnum: every character is equally likely (no modulo bias toward A-H)", () => {
  const counts = new Map<string, number>();
  const text = Array.from({ length: 8_000 }, () => randomAlnum(25)).join("");
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  assert.equal(counts.size, 62);
  const expected = text.length / 62; // ~3,226 each
  // With `byte % 62` the characters A-H come 5/256 of the time instead of 4/256: 25% above the rest.
  for (const [ch, n] of counts) {
    assert.ok(Math.abs(n - expected) / expected < 0.1, `${ch}: ${n} times, expected about ${expected}`);
  }
});
