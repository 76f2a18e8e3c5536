/**
 * The admin SSE stream: `event: keys` with `{ now, keys }` on connect and whenever the pool reports a
 * change (coalesced to at most one event per `minIntervalMs`), plus a `: ping` comment every
 * `pingMs`. In `changes` mode it sends `event: changed` with `{ now }` instead, so pages that show a
 * server-side page of a large pool re-fetch only what they show. Ends cleanly when the client disconnects (the runtime cancels the body stream).
 *
 * @module
 */
import type { AdminDeps } from "./deps.ts";

/** Options for {@link keyEventsResponse}. */
export interface KeyEventsOptions extends Pick<AdminDeps, "listKeys" | "subscribe"> {
  /**
   * Optional extra stop signal (e.g. server shutdown). A client disconnect needs none: the runtime
   * cancels the response body, which ends the stream.
   */
  signal?: AbortSignal;
  /** Least time between two `keys` events; default 500 ms. */
  minIntervalMs?: number;
  /** Keep-alive comment interval; default 15 000 ms. */
  pingMs?: number;
  /** `keys` (default): send every key; `changes`: send only `{ now }` as `event: changed`. */
  mode?: "keys" | "changes";
}

const encoder = new TextEncoder();

/** A `text/event-stream` response following the key pool. */
export function keyEventsResponse(opts: KeyEventsOptions): Response {
  const minInterval = opts.minIntervalMs ?? 500;
  let cleanup = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      let lastSent = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const send = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup();
        }
      };
      const sendKeys = () => {
        timer = undefined;
        lastSent = Date.now();
        try {
          send(
            opts.mode === "changes"
              ? `event: changed\ndata: ${JSON.stringify({ now: Date.now() })}\n\n`
              : `event: keys\ndata: ${JSON.stringify({ now: Date.now(), keys: opts.listKeys() })}\n\n`,
          );
        } catch (err) {
          console.error("admin events: listKeys failed", err);
        }
      };
      const unsubscribe = opts.subscribe(() => {
        if (closed || timer !== undefined) return;
        timer = setTimeout(sendKeys, Math.max(0, lastSent + minInterval - Date.now()));
      });
      const ping = setInterval(() => send(": ping\n\n"), opts.pingMs ?? 15_000);
      cleanup = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearTimeout(timer);
        clearInterval(ping);
        opts.signal?.removeEventListener("abort", cleanup);
        try {
          controller.close();
        } catch { /* already closed */ }
      };
      opts.signal?.addEventListener("abort", cleanup);
      send("retry: 3000\n\n");
      sendKeys();
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
