/**
 * The pipeline against a raw-TCP upstream that misbehaves (tests/support/fault_upstream.ts): resets
 * after the headers, stalls before and after them, slow drips, garbage and huge bodies. A paid
 * generation is sent once; what breaks before the client saw anything is retried; what breaks after
 * ends with an error the client sees and is logged as the upstream's failure; every wait is bounded.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { FaultUpstream, geminiAnswer, geminiEvents } from "./support/fault_upstream.ts";
import { type FaultHarness, startFaultHarness } from "./support/fault_harness.ts";

const GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent";
const STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
const BODY = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });

function post(h: FaultHarness, path: string, init: { signal?: AbortSignal } = {}) {
  return fetch(h.url + path, {
    method: "POST",
    headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
    body: BODY,
    signal: init.signal ?? AbortSignal.timeout(10_000),
  });
}

function chat(h: FaultHarness, stream: boolean) {
  return fetch(h.url + "/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }], stream }),
    signal: AbortSignal.timeout(10_000),
  });
}

/** Consecutive transient failures the pool counts for a key on a model. */
function failures(h: FaultHarness, keyId: string, model = "gemini-2.5-flash"): number {
  return h.gw.pool.pairs().find((p) => p.model === model && p.scope === `k:${keyId}`)?.state.failures ?? 0;
}

const keyOf = (h: FaultHarness, i: number) =>
  h.gw.pool.records().find((r) => r.key === h.up.requests[i].headers.get("x-goog-api-key"))!.id;

Deno.test("unary: a connection reset after the headers is retried on another key, and that key is charged", async () => {
  const h = await startFaultHarness();
  try {
    h.up.script({ kind: "reset_after_headers", body: '{"candidates": [' }, { kind: "answer" });
    const r = await post(h, GENERATE);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), JSON.parse(geminiAnswer()));
    assert.equal(h.up.requests.length, 2);
    assert.notEqual(keyOf(h, 0), keyOf(h, 1), "another key");
    assert.equal(failures(h, keyOf(h, 0)), 1, "the first key is charged a transient failure");
    const rec = h.records.at(-1)!;
    assert.equal(rec.status, 200);
    assert.deepEqual(rec.tries!.map((t) => t.status), [502, 200]);
    assert.match(rec.tries![0].reason, /broke off/);
  } finally {
    await h.close();
  }
});

Deno.test("stream: broken before its first byte (reset, or empty) is retried on another key", async () => {
  const h = await startFaultHarness();
  try {
    h.up.script({ kind: "reset_after_headers" }, { kind: "answer", body: [] }, { kind: "answer" });
    const r = await post(h, STREAM);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.equal(text, geminiEvents(["one ", "two ", "three"]).join(""), "the whole stream of the third key");
    assert.equal(h.up.requests.length, 3);
    assert.equal(h.records.at(-1)!.status, 200);
  } finally {
    await h.close();
  }
});

Deno.test("stream: broken after its first event ends with Google's error event; logged as the upstream's failure, not 499", async () => {
  const h = await startFaultHarness();
  try {
    const [first] = geminiEvents(["one ", "two "]);
    h.up.script({ kind: "reset_after_headers", body: first, contentLength: 10_000 });
    const r = await post(h, STREAM);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.ok(text.startsWith(first), "the first event arrived as it was");
    const events = text.split("\r\n\r\n").filter(Boolean);
    assert.equal(events.length, 2);
    const error = JSON.parse(events[1].replace(/^data: /, "")).error;
    assert.equal(error.code, 502);
    assert.equal(error.status, "UNAVAILABLE");
    assert.equal(h.up.requests.length, 1, "never spliced with another key's answer");
    await new Promise((r) => setTimeout(r, 20));
    const rec = h.records.at(-1)!;
    assert.equal(rec.status, 502, "an upstream failure, not 499 client closed");
    assert.match(rec.error!, /broke off/);
    assert.equal(failures(h, keyOf(h, 0)), 1, "the key's success is not counted: it is charged");
  } finally {
    await h.close();
  }
});

Deno.test("stream: broken in the middle of an event errors the client's body (no event can be framed)", async () => {
  const h = await startFaultHarness();
  try {
    const [first] = geminiEvents(["one "]);
    h.up.script({ kind: "reset_after_headers", body: first + 'data: {"candi', contentLength: 10_000 });
    const r = await post(h, STREAM);
    assert.equal(r.status, 200);
    await assert.rejects(r.text(), "the client sees a broken body");
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.records.at(-1)!.status, 502);
  } finally {
    await h.close();
  }
});

Deno.test("OpenAI stream broken after its first chunk: an OpenAI error event, no [DONE]; logged 502", async () => {
  const h = await startFaultHarness();
  try {
    const [first] = geminiEvents(["one "]);
    h.up.script({ kind: "reset_after_headers", body: first, contentLength: 10_000 });
    const r = await chat(h, true);
    const text = await r.text();
    assert.match(text, /"content":"one "/);
    assert.match(text, /"error"/);
    assert.doesNotMatch(text, /\[DONE\]/);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.records.at(-1)!.status, 502);
  } finally {
    await h.close();
  }
});

// A chunked answer is read chunk by chunk; a small one that declares its length is read whole (one read).
for (
  const [framing, contentLength] of [["", undefined], [
    " (a small answer that declares its length, read whole)",
    400,
  ]] as const
) {
  Deno.test(`a stall after the headers ends at IDLE_TIMEOUT_MS (unary, native)${framing}: 504, socket closed, not resent, key charged`, async () => {
    const h = await startFaultHarness({ env: { IDLE_TIMEOUT_MS: "300" } });
    try {
      h.up.script({ kind: "stall_after_headers", body: '{"candidates": [', contentLength });
      const r = await post(h, GENERATE);
      assert.equal(r.status, 504);
      const err = (await r.json()).error;
      assert.equal(err.status, "DEADLINE_EXCEEDED");
      assert.match(err.message, /IDLE_TIMEOUT_MS/);
      assert.ok(await h.up.waitPeerClosed(1), "the upstream socket was closed");
      assert.equal(h.up.requests.length, 1, "a paid generation is not sent again");
      assert.equal(failures(h, keyOf(h, 0)), 1);
    } finally {
      await h.close();
    }
  });
}

Deno.test("a stall after the first event ends the native stream with a 504 error event; a slow but moving stream is fine", async () => {
  const h = await startFaultHarness({ env: { IDLE_TIMEOUT_MS: "400", REQUEST_TIMEOUT_MS: "400" } });
  try {
    const [first] = geminiEvents(["one "]);
    h.up.script({ kind: "stall_after_headers", body: first });
    const r = await post(h, STREAM);
    const text = await r.text();
    assert.ok(text.startsWith(first));
    assert.match(text, /"code":504/);
    assert.ok(await h.up.waitPeerClosed(1));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.records.at(-1)!.status, 504);

    // Six events 150 ms apart: longer in total than both timeouts, never idle for long.
    const pieces = ["a ", "b ", "c ", "d ", "e ", "f"];
    h.up.script({ kind: "answer", body: geminiEvents(pieces), delayMs: 150 });
    const slow = await post(h, STREAM);
    assert.equal(await slow.text(), geminiEvents(pieces).join(""));
  } finally {
    await h.close();
  }
});

Deno.test("OpenAI routes: a stalled answer ends at IDLE_TIMEOUT_MS (stream and unary); the keep-alive does not hide it", async () => {
  const h = await startFaultHarness({ env: { IDLE_TIMEOUT_MS: "400", KEEP_ALIVE_MS: "100" } });
  try {
    const [first] = geminiEvents(["one "]);
    h.up.script({ kind: "stall_after_headers", body: first });
    const text = await (await chat(h, true)).text();
    assert.match(text, /"content":"one "/);
    assert.match(text, /"error"/);
    assert.match(text, /IDLE_TIMEOUT_MS/);
    h.up.script({ kind: "stall_after_headers", body: '{"cand' });
    const unary = await chat(h, false);
    assert.equal(unary.status, 504);
    assert.match((await unary.json()).error.message, /IDLE_TIMEOUT_MS/);
    assert.ok(await h.up.waitPeerClosed(2));
  } finally {
    await h.close();
  }
});

Deno.test("no answer within REQUEST_TIMEOUT_MS: 504 after one attempt, the socket closed; resent only when RESEND_AFTER_TIMEOUT is on", async () => {
  const h = await startFaultHarness({ env: { REQUEST_TIMEOUT_MS: "300" } });
  try {
    h.up.otherwise({ kind: "stall_before_headers" });
    const r = await post(h, GENERATE);
    assert.equal(r.status, 504);
    assert.match((await r.json()).error.message, /REQUEST_TIMEOUT_MS/);
    assert.equal(h.up.requests.length, 1, "the paid generation was sent once");
    assert.ok(await h.up.waitPeerClosed(1));
    assert.deepEqual(h.records.at(-1)!.tries!.map((t) => t.status), [504]);

    await h.gw.settings.update({ resendAfterTimeout: true, maxAttempts: 3 });
    const again = await post(h, GENERATE);
    assert.equal(again.status, 504);
    assert.equal(h.up.requests.length, 4, "the operator turned resending on: three attempts");
  } finally {
    await h.close();
  }
});

Deno.test("one overall deadline per request: stalls cost REQUEST_DEADLINE_MS, not attempts x timeout", async () => {
  const h = await startFaultHarness({
    env: {
      REQUEST_TIMEOUT_MS: "400",
      REQUEST_DEADLINE_MS: "600",
      RESEND_AFTER_TIMEOUT: "true",
      MAX_ATTEMPTS: "5",
    },
  });
  try {
    h.up.otherwise({ kind: "stall_before_headers" });
    const r = await post(h, GENERATE);
    assert.equal(r.status, 504);
    assert.match((await r.json()).error.message, /REQUEST_DEADLINE_MS/);
    assert.equal(h.up.requests.length, 2, "the second attempt was cut by the deadline; no third");
    assert.ok(await h.up.waitPeerClosed(2));
  } finally {
    await h.close();
  }
});

Deno.test("a unary answer larger than ANSWER_BUFFER_BYTES is streamed through, not held whole", async () => {
  const h = await startFaultHarness({ env: { ANSWER_BUFFER_BYTES: "1024", IDLE_TIMEOUT_MS: "5000" } });
  try {
    const start = '{"candidates": [{"content": {"parts": [{"text": "' + "x".repeat(4000);
    h.up.script({ kind: "stall_after_headers", body: start });
    const ctl = new AbortController();
    const r = await post(h, GENERATE, { signal: AbortSignal.any([ctl.signal, AbortSignal.timeout(10_000)]) });
    assert.equal(r.status, 200);
    const reader = r.body!.getReader();
    let got = 0;
    while (got < start.length) got += (await reader.read()).value!.length;
    assert.equal(got, start.length, "the first 4 KB arrived while the answer is still unfinished");
    ctl.abort();
    await reader.cancel().catch(() => {});
    assert.ok(await h.up.waitPeerClosed(1), "the client leaving closes the upstream");
  } finally {
    await h.close();
  }
});

Deno.test("an error body is read only up to a cap: a huge one is cut and its connection closed", async () => {
  const h = await startFaultHarness({ keys: ["AIza" + "e".repeat(35)] });
  try {
    h.up.script({ kind: "huge", status: 500, bytes: 64 * 1024 * 1024 });
    const r = await post(h, GENERATE);
    assert.equal(r.status, 500);
    assert.ok((await r.text()).length < 70_000);
    assert.ok(await h.up.waitPeerClosed(1), "the gateway stopped reading long before 64 MB");
  } finally {
    await h.close();
  }
});

Deno.test("a 200 that is an HTML page is not Gemini's answer: another key is tried", async () => {
  const h = await startFaultHarness();
  try {
    h.up.script({
      kind: "answer",
      contentType: "text/html",
      body: "<html><body>Please log in</body></html>",
    });
    const r = await chat(h, false);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).choices[0].message.content, "fine");
    assert.equal(h.up.requests.length, 2);
  } finally {
    await h.close();
  }
});

for (
  const [name, body] of [
    ["an HTML page", "<!doctype html><html><body>502 Bad Gateway</body></html>"],
    ["JSON without SSE framing", '{"candidates": [{"content": {"parts": [{"text": "hi"}]}}]'],
    ["a truncated event", 'data: {"candidates": [{"content": {"parts": [{"te'],
  ]
) {
  Deno.test(`OpenAI stream: a 200 event stream carrying ${name} is an error, not an empty success`, async () => {
    const h = await startFaultHarness();
    try {
      h.up.script({ kind: "answer", contentType: "text/event-stream", body });
      const text = await (await chat(h, true)).text();
      assert.match(text, /"error"/);
      assert.doesNotMatch(text, /\[DONE\]/);
      const sdk = new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1", maxRetries: 0 });
      h.up.script({ kind: "answer", contentType: "text/event-stream", body });
      const stream = await sdk.chat.completions.create({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      });
      await assert.rejects(async () => {
        for await (const _ of stream) { /* drain */ }
      }, "the SDK raises the error");
    } finally {
      await h.close();
    }
  });
}

Deno.test("already holding: a burst of 5xx is retried; slow drips are passed on as they come", async () => {
  const h = await startFaultHarness();
  try {
    const internal = JSON.stringify({
      error: { code: 500, message: "Internal error encountered.", status: "INTERNAL" },
    });
    h.up.script({ kind: "answer", status: 500, body: internal }, {
      kind: "answer",
      status: 500,
      body: internal,
    });
    const r = await post(h, GENERATE);
    assert.equal(r.status, 200);
    assert.equal(h.up.requests.length, 3);
    await r.body?.cancel();

    // A drip whose second event never comes: the first is passed on at once (native and OpenAI).
    const [first] = geminiEvents(["drip "]);
    h.up.script({ kind: "stall_after_headers", body: first });
    const ctl = new AbortController();
    const s = await post(h, STREAM, { signal: AbortSignal.any([ctl.signal, AbortSignal.timeout(10_000)]) });
    const reader = s.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value, first);
    ctl.abort();
    await reader.cancel().catch(() => {});
    h.up.script({ kind: "stall_after_headers", body: first });
    const ctl2 = new AbortController();
    const c = await fetch(h.url + "/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}` },
      body: JSON.stringify({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      }),
      signal: AbortSignal.any([ctl2.signal, AbortSignal.timeout(10_000)]),
    });
    const cr = c.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes('"content":"drip "')) seen += (await cr.read()).value;
    ctl2.abort();
    await cr.cancel().catch(() => {});
    assert.ok(await h.up.waitPeerClosed(2), "client aborts reach the upstream");
  } finally {
    await h.close();
  }
});

Deno.test("a stream's first bytes may take REQUEST_TIMEOUT_MS (thinking), not IDLE_TIMEOUT_MS; after that, 504", async () => {
  const h = await startFaultHarness({ env: { IDLE_TIMEOUT_MS: "200", REQUEST_TIMEOUT_MS: "1500" } });
  try {
    const events = geminiEvents(["thought ", "through"]);
    h.up.script({ kind: "answer", body: events, startDelayMs: 600, delayMs: 50 });
    const r = await post(h, STREAM);
    assert.equal(r.status, 200);
    assert.equal(
      await r.text(),
      events.join(""),
      "a silent 600 ms after the headers is thinking, not a stall",
    );

    h.up.script({ kind: "stall_after_headers" });
    const stalled = await post(h, STREAM);
    assert.equal(stalled.status, 504);
    assert.match((await stalled.json()).error.message, /REQUEST_TIMEOUT_MS/);
    assert.equal(h.up.requests.length, 2, "not sent again");
    assert.ok(await h.up.waitPeerClosed(1));
  } finally {
    await h.close();
  }
});

Deno.test("already holding: refused connections recover in seconds, and never turn into the gateway's 429", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const h = await startFaultHarness({ env: { UPSTREAM_BASE_URL: `http://127.0.0.1:${port}` } });
  let up: FaultUpstream | undefined;
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await post(h, GENERATE);
      statuses.push(r.status);
      await r.body?.cancel();
    }
    up = FaultUpstream.start(port);
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      const r = await post(h, GENERATE);
      statuses.push(r.status);
      await r.body?.cancel();
      ok = r.status === 200;
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ok, `served again once the upstream is back: ${statuses.join(", ")}`);
    assert.ok(statuses.every((s) => s === 502 || s === 503 || s === 200), statuses.join(", "));
  } finally {
    up?.close();
    await h.close();
  }
});
