/**
 * The stream decorators an edge places around a translation: the smoother on Gemini stream items
 * (before a translator, or re-encoded on the native edge) and the keep-alive on the events a
 * translating edge sends. Both read the settings when a stream starts.
 *
 * @module
 */
import type { GeminiStreamItem } from "../gemini/stream.ts";
import type { SseEvent } from "../http/sse.ts";
import type { FeatureSettings } from "./settings.ts";
import { withKeepAlive } from "./keep_alive.ts";
import { SmootherStream } from "./smoother.ts";

/** Wraps streams with the features the settings turn on; each returns its input when the feature is off. */
export interface StreamDecorators {
  /** True when the smoother is on (the native edge then re-encodes its stream). */
  readonly smoothing: boolean;
  /** Re-chunks large text events into small, paced ones (`SMOOTHER`). */
  smooth(items: ReadableStream<GeminiStreamItem>): ReadableStream<GeminiStreamItem>;
  /** Sends `idle()` (default a `: keep-alive` comment) after `KEEP_ALIVE_MS` without output. */
  keepAlive(events: ReadableStream<SseEvent>, idle?: () => SseEvent): ReadableStream<SseEvent>;
}

/** Decorators reading `settings` on every call. */
export function streamDecorators(settings: () => FeatureSettings): StreamDecorators {
  return {
    get smoothing() {
      return settings().smoother;
    },
    smooth(items) {
      const s = settings();
      if (!s.smoother) return items;
      return items.pipeThrough(
        new SmootherStream({
          chunkChars: s.smootherChunkChars,
          maxDelayMs: s.smootherMaxDelayMs,
          budgetMs: s.smootherBudgetMs,
        }),
      );
    },
    keepAlive(events, idle) {
      const ms = settings().keepAliveMs;
      return ms > 0 ? withKeepAlive(events, { intervalMs: ms, idleEvent: idle }) : events;
    },
  };
}
