import assert from "node:assert/strict";
import { Hono } from "hono";
import type { KeyView } from "../lib/admin/deps.ts";
import { keyEventsResponse } from "../lib/admin/events.ts";
import { serve } from "./support/browser.ts";

function pool() {
  let keys: KeyView[] = [{ id: "a", masked: "AIza…aaaa", state: "active", cooldowns: [] }];
  const listeners = new Set<() => void>();
  return {
    listeners,
    listKeys: () => keys,
    subscribe(fn: () => void) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    set(next: KeyView[]) {
      keys = next;
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

function keysOf(frame: string): string[] {
  assert.match(frame, /^event: keys\ndata: /);
  const data = JSON.parse(frame.slice(frame.indexOf("data: ") + 6));
  assert.equal(typeof data.now, "number");
  return data.keys.map((k: KeyView) => `${k.id}:${k.state}`);
}

Deno.test("SSE sends the keys on connect and after changes, coalescing bursts", async () => {
  const p = pool();
  const res = keyEventsResponse({ listKeys: p.listKeys, subscribe: p.subscribe, minIntervalMs: 50 });
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const f = frames(res.body!);
  assert.equal(await f.next(), "retry: 3000");
  assert.deepEqual(keysOf(await f.next()), ["a:active"]);
  p.set([{ id: "a", masked: "x", state: "cooling", cooldowns: [] }]);
  p.set([{ id: "a", masked: "x", state: "disabled", cooldowns: [] }]);
  p.set([
    { id: "a", masked: "x", state: "disabled", cooldowns: [] },
    { id: "b", masked: "y", state: "active", cooldowns: [] },
  ]);
  assert.deepEqual(keysOf(await f.next()), ["a:disabled", "b:active"], "one event with the latest state");
  assert.equal(p.listeners.size, 1);
  await f.cancel();
  assert.equal(p.listeners.size, 0, "cancel unsubscribes");
});

Deno.test("SSE sends ping comments", async () => {
  const p = pool();
  const res = keyEventsResponse({ listKeys: p.listKeys, subscribe: p.subscribe, pingMs: 20 });
  const f = frames(res.body!);
  await f.next();
  await f.next();
  assert.equal(await f.next(), ": ping");
  await f.cancel();
});

Deno.test("SSE ends and unsubscribes when the HTTP client disconnects", async () => {
  const p = pool();
  const app = new Hono();
  let unsubscribed!: () => void;
  const gone = new Promise<void>((resolve) => unsubscribed = resolve);
  app.get("/events", () =>
    keyEventsResponse({
      listKeys: p.listKeys,
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
    assert.deepEqual(keysOf(await f.next()), ["a:active"]);
    assert.equal(p.listeners.size, 1);
    abort.abort();
    await f.cancel().catch(() => {});
    await gone;
    assert.equal(p.listeners.size, 0);
  } finally {
    await server.close();
  }
});

Deno.test("SSE stops on the optional stop signal", async () => {
  const p = pool();
  const stop = new AbortController();
  const res = keyEventsResponse({ listKeys: p.listKeys, subscribe: p.subscribe, signal: stop.signal });
  const f = frames(res.body!);
  await f.next();
  await f.next();
  stop.abort();
  await assert.rejects(() => f.next(), /stream ended/);
  assert.equal(p.listeners.size, 0);
});

Deno.test("SSE in changes mode sends only { now } per change, without listing keys", async () => {
  const p = pool();
  let listed = 0;
  const res = keyEventsResponse({
    listKeys: () => {
      listed++;
      return p.listKeys();
    },
    subscribe: p.subscribe,
    minIntervalMs: 10,
    mode: "changes",
  });
  const f = frames(res.body!);
  assert.equal(await f.next(), "retry: 3000");
  const first = await f.next();
  assert.match(first, /^event: changed\ndata: \{"now":\d+\}$/);
  p.set([{ id: "a", masked: "x", state: "cooling", cooldowns: [] }]);
  assert.match(await f.next(), /^event: changed\n/);
  assert.equal(listed, 0);
  await f.cancel();
});
