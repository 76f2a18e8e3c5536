/**
 * Keep-alive for slow answers on the translating edges: an event transform that sends an idle event
 * (a `: keep-alive` comment by default, or an empty chunk) when nothing was sent for `intervalMs`.
 * Events are whole objects, so a keep-alive can never land inside one. The timer is cleared when
 * the stream ends, errors or is cancelled.
 *
 * Not used on the Gemini-native edge: Google never sends comments, and Google's Python SDK fails on
 * any non-`data:` line (see `docs/wire_notes.md`).
 *
 * @module
 */
import type { SseEvent } from "../http/sse.ts";
import { type PullStage, pullThrough } from "../util/pull_through.ts";

/** Options of {@link KeepAliveStream}. */
export interface KeepAliveOptions {
  /** Idle time before an idle event is sent, in ms (must be > 0). */
  intervalMs: number;
  /** The event to send; default a `keep-alive` comment. */
  idleEvent?: () => SseEvent;
}

const COMMENT = (): SseEvent => ({ comment: "keep-alive" });

/**
 * The keep-alive stage: events pass through and only note their time; the one timer re-arms itself for
 * what is left of the interval when it fires (a timer cleared and set again per event costs µs on
 * every chunk of a stream). The timer stops when the stream ends, errors or is cancelled.
 */
export function keepAliveStage(options: KeepAliveOptions): PullStage<SseEvent, SseEvent> {
  const idle = options.idleEvent ?? COMMENT;
  const { intervalMs } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = 0;
  let ended = false;
  const arm = (emit: (e: SseEvent) => void, ms: number) => {
    timer = setTimeout(() => {
      if (ended) return;
      const quiet = performance.now() - last;
      if (quiet < intervalMs) return arm(emit, intervalMs - quiet);
      try {
        emit(idle());
      } catch {
        return; // the stream is already closed
      }
      last = performance.now();
      arm(emit, intervalMs);
    }, ms);
  };
  return {
    start(emit) {
      last = performance.now();
      arm(emit, intervalMs);
    },
    transform(event, emit) {
      emit(event);
      last = performance.now();
    },
    close() {
      ended = true;
      clearTimeout(timer);
    },
  };
}

/** Events with a keep-alive after `intervalMs` without output (one pulled stage, {@link keepAliveStage}). */
export function withKeepAlive(
  events: ReadableStream<SseEvent>,
  options: KeepAliveOptions,
): ReadableStream<SseEvent> {
  return pullThrough(events, keepAliveStage(options));
}

/** A transform stream (for `pipeThrough`) that sends an idle event after `intervalMs` without output. */
export class KeepAliveStream implements ReadableWritablePair<SseEvent, SseEvent> {
  readonly readable: ReadableStream<SseEvent>;
  readonly writable: WritableStream<SseEvent>;

  constructor(options: KeepAliveOptions) {
    const { readable, writable } = new TransformStream<SseEvent, SseEvent>();
    this.writable = writable;
    this.readable = withKeepAlive(readable, options);
  }
}
