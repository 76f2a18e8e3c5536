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

/** Options of {@link KeepAliveStream}. */
export interface KeepAliveOptions {
  /** Idle time before an idle event is sent, in ms (must be > 0). */
  intervalMs: number;
  /** The event to send; default a `keep-alive` comment. */
  idleEvent?: () => SseEvent;
}

const COMMENT = (): SseEvent => ({ comment: "keep-alive" });

/** An {@link SseEvent} transform that sends an idle event after `intervalMs` without output. */
export class KeepAliveStream extends TransformStream<SseEvent, SseEvent> {
  constructor(options: KeepAliveOptions) {
    const idle = options.idleEvent ?? COMMENT;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    const arm = (controller: TransformStreamDefaultController<SseEvent>) => {
      stop();
      timer = setTimeout(() => {
        try {
          controller.enqueue(idle());
        } catch {
          return; // the stream is already closed
        }
        arm(controller);
      }, options.intervalMs);
    };
    super({
      start: arm,
      transform(event, controller) {
        controller.enqueue(event);
        arm(controller);
      },
      flush: stop,
      cancel: stop,
    });
  }
}
