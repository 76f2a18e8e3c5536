import assert from "node:assert/strict";
import { Hono } from "hono";
import { keyEventsResponse } from "../lib/admin/events.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { ADMIN_TOKEN } from "./support/admin_api.ts";
import { serve } from "./support/browser.ts";
import { fakeKey, startHarness } from "./support/harness.ts";

/** A stand-in for the key pool's change notifications. */
function pool() {
  const listeners = new Set<() => void>();
  return {
    listeners,
    subscribe(fn: () => void) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    change() {
      for (const l of listeners) l();
    },
  };
}

/** Reads SSE frames from a body, one at a time. */
function frames(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    async next(): Promise<string> {
      while (!buffer.includes("\n\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
      const end = buffer.indexOf("\n\n");
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      return frame;
    },
    cancel: () => reader.cancel(),
  };
}

/** The server clock of a `changed` frame (and that the frame sends nothing else). */
function changedAt(frame: string): number {
  assert.match(frame, /^event: changed\ndata: \{"now":\d+\}$/);
  return JSON.parse(frame.slice(frame.indexOf("data: ") + 6)).now;
}

Deno.test("SSE sends `changed` with the server clock on connect and after changes, coalescing bursts", async () => {
  const p = pool();
  const res = keyEventsResponse({ subscribe: p.subscribe, minIntervalMs: 20, pingMs: 1000 });
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const f = frames(res.body!);
  assert.equal(await f.next(), "retry: 3000");
  const first = changedAt(await f.next());
  assert.ok(Math.abs(first - Date.now()) < 60_000);
  p.change();
  p.change();
  p.change();
  assert.ok(changedAt(await f.next()) >= first, "one event for the burst");
  assert.equal(await f.next(), ": ping", "the burst sent no second event");
  assert.equal(p.listeners.size, 1);
  await f.cancel();
  assert.equal(p.listeners.size, 0, "cancel unsubscribes");
});

Deno.test("SSE sends ping comments", async () => {
  const p = pool();
  const res = keyEventsResponse({ subscribe: p.subscribe, pingMs: 20 });
  const f = frames(res.body!);
  await f.next();
  await f.next();
  assert.equal(await f.next(), ": ping");
  await f.cancel();
  assert.equal(p.listeners.size, 0, "cancel unsubscribes");
});

Deno.test("SSE ends and unsubscribes when the HTTP client disconnects", async () => {
  const p = pool();
  const app = new Hono();
  let unsubscribed!: () => void;
  const gone = new Promise<void>((resolve) => unsubscribed = resolve);
  app.get("/events", () =>
    keyEventsResponse({
      subscribe(fn) {
        const off = p.subscribe(fn);
        return () => {
          off();
          unsubscribed();
        };
      },
    }));
  const server = serve(app.fetch);
  try {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/events`, { signal: abort.signal });
    const f = frames(res.body!);
    await f.next();
    changedAt(await f.next());
    assert.equal(p.listeners.size, 1);
    abort.abort();
    await f.cancel().catch(() => {});
    await gone;
    assert.equal(p.listeners.size, 0);
  } finally {
    await server.close();
  }
});

Deno.test("the gateway's key events follow the real pool", async () => {
  const h = await startHarness({ keys: [fakeKey(1)] });
  const abort = new AbortController();
  try {
    const res = await fetch(`${h.url}/admin/events`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: abort.signal,
    });
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const f = frames(res.body!);
    assert.equal(await f.next(), "retry: 3000");
    changedAt(await f.next());
    h.gw.pool.setEnabled(keyId(fakeKey(1)), false, "test");
    changedAt(await f.next());
    abort.abort();
    await f.cancel().catch(() => {});
  } finally {
    await h.close();
  }
});
