/**
 * The error Google writes into a 200 answer is masked wherever chunks split it; answer events and
 * event ends pass as they come (lib/pipeline/stream_redaction.ts).
 */
import assert from "node:assert/strict";
import { ErrorTextRedactor } from "../lib/pipeline/stream_redaction.ts";
import { RelayMasking } from "../lib/pipeline/stream_relay.ts";

const SECRET = "custom-secret-key-0123456789";
const mask = (t: string) => t.replaceAll(SECRET, "cust…6789");

/** Feeds `body` in pieces of `size` characters; returns what passed after each piece and in all. */
function feed(body: string, size: number): { steps: string[]; all: string } {
  const r = new ErrorTextRedactor(mask);
  const steps: string[] = [];
  for (let i = 0; i < body.length; i += size) steps.push(r.push(body.slice(i, i + size)));
  steps.push(r.flush());
  return { steps, all: steps.join("") };
}

const event = 'data: {"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}\r\n\r\n';
const errorEvent =
  `data: {"error": {"code": 500, "message": "for api_key:${SECRET}", "status": "INTERNAL"}}\r\n\r\n`;
const bare = `{\n  "error": {\n    "code": 500,\n    "message": "for api_key:${SECRET}"\n  }\n}\n`;

Deno.test("stream redaction: an error event or a bare error after events is masked however chunks split it", () => {
  for (const tail of [errorEvent, bare]) {
    for (const size of [1, 3, 7, 64, 10_000]) {
      const { all } = feed(event + tail, size);
      assert.ok(!all.includes(SECRET), `size ${size}: ${all}`);
      assert.equal(all, event + mask(tail));
    }
  }
});

Deno.test("stream redaction: answer events and their blank line pass at once, untouched", () => {
  const r = new ErrorTextRedactor(() => "MASKED");
  assert.equal(r.push(event), event);
  assert.equal(r.push('data: {"candidates'), 'data: {"candidates');
  assert.equal(r.push(`":[${SECRET}]}\r\n`), `":[${SECRET}]}\r\n`);
});

Deno.test("relay masking: bytes split anywhere (inside multi-byte characters too) come out whole, the error masked", () => {
  const utf8 = new TextEncoder();
  const words = 'data: {"candidates":[{"content":{"parts":[{"text":"你好, ünïcödé 🙂"}]}}]}\r\n\r\n';
  const body = utf8.encode(words + words + errorEvent);
  const expected = words + words + mask(errorEvent);
  for (const size of [1, 2, 5, 13, 64, body.length]) {
    const m = new RelayMasking(mask);
    const out: Uint8Array[] = [];
    for (let i = 0; i < body.length; i += size) {
      const passed = m.pass(body.subarray(i, i + size));
      if (passed) out.push(passed);
    }
    const held = m.end();
    if (held) out.push(held);
    const all = new TextDecoder().decode(new Uint8Array(out.flatMap((c) => [...c])));
    assert.equal(all, expected, `chunks of ${size} bytes`);
  }
});

Deno.test("relay masking: an answer event that passes whole goes on as the same bytes, not a re-encoded copy", () => {
  const m = new RelayMasking(mask);
  const chunk = new TextEncoder().encode(
    'data: {"candidates":[{"content":{"parts":[{"text":"你好"}]}}]}\r\n\r\n',
  );
  assert.equal(m.pass(chunk), chunk);
  // After a chunk that ended inside a character, the next one is decoded and encoded again.
  const split = new TextEncoder().encode(
    'data: {"candidates":[{"content":{"parts":[{"text":"好"}]}}]}\r\n\r\n',
  );
  const cut = split.indexOf(0xe5) + 1;
  const first = m.pass(split.subarray(0, cut));
  const second = m.pass(split.subarray(cut));
  assert.equal(
    new TextDecoder().decode(new Uint8Array([...(first ?? []), ...(second ?? [])])),
    new TextDecoder().decode(split),
  );
});
