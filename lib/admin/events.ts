/**
 * The admin SSE stream: `event: changed` with `{ now }` (the server clock, epoch ms) on connect and
 * whenever the pool reports a change (coalesced to at most one event per `minIntervalMs`), plus a
 * `: ping` comment every `pingMs`. The Keys page re-fetches only the page of keys it shows, so a
 * change in a pool of 10,000 keys never sends the whole pool. Ends cleanly when the client
 * disconnects (the runtime cancels the body stream).
 *
 * @module
 */
import { type SseEvent, sseResponse } from "../http/sse.ts";
import type { AdminDeps } from "./deps.ts";

/** Options for {@link keyEventsResponse}. */
export interface KeyEventsOptions extends Pick<AdminDeps, "subscribe"> {
  /** Least time between two `changed` events; default 500 ms. */
  minIntervalMs?: number;
  /** Keep-alive comment interval; default 15 000 ms. */
  pingMs?: number;
}

/** A `text/event-stream` response following the key pool. */
export function keyEventsResponse(opts: KeyEventsOptions): Response {
  const minInterval = opts.minIntervalMs ?? 500;
  let cleanup = () => {};
  const events = new ReadableStream<SseEvent>({
    start(controller) {
      let closed = false;
      let lastSent = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const send = (event: SseEvent) => {
        if (closed) return;
        try {
          controller.enqueue(event);
        } catch {
          cleanup();
        }
      };
      const sendChanged = () => {
        timer = undefined;
        lastSent = Date.now();
        send({ event: "changed", data: { now: lastSent } });
      };
      const unsubscribe = opts.subscribe(() => {
        if (closed || timer !== undefined) return;
        timer = setTimeout(sendChanged, Math.max(0, lastSent + minInterval - Date.now()));
      });
      const ping = setInterval(() => send({ comment: "ping" }), opts.pingMs ?? 15_000);
      cleanup = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearTimeout(timer);
        clearInterval(ping);
        try {
          controller.close();
        } catch { /* already closed */ }
      };
      send({ retry: 3000 });
      sendChanged();
    },
    cancel() {
      cleanup();
    },
  });
  return sseResponse(events, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" },
  });
}
