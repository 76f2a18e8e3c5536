/**
 * The stream decorators an edge places around a translation: the smoother on Gemini stream items
 * (before a translator, or re-encoded on the native edge) and the keep-alive on the events a
 * translating edge sends. Both read the settings when a stream starts.
 *
 * @module
 */
import { type GeminiStreamItem, pullGeminiStream, readGeminiStream } from "../gemini/stream.ts";
import { sseBodyResponse, sseEncoderStage, type SseEvent } from "../http/sse.ts";
import { composeStages, type PullStage, pullThrough } from "../util/pull_through.ts";
import type { FeatureSettings } from "./settings.ts";
import { keepAliveStage, withKeepAlive } from "./keep_alive.ts";
import { SmootherStream } from "./smoother.ts";

/** Wraps streams with the features the settings turn on; each returns its input when the feature is off. */
export interface StreamDecorators {
  /** True when the smoother is on (the native edge then re-encodes its stream). */
  readonly smoothing: boolean;
  /** Re-chunks large text events into small, paced ones (`SMOOTHER`). */
  smooth(items: ReadableStream<GeminiStreamItem>): ReadableStream<GeminiStreamItem>;
  /** Sends `idle()` (default a `: keep-alive` comment) after `KEEP_ALIVE_MS` without output. */
  keepAlive(events: ReadableStream<SseEvent>, idle?: () => SseEvent): ReadableStream<SseEvent>;
  /**
   * The SSE answer of a translating edge: Gemini's SSE `body` read ({@link pullGeminiStream}), smoothed
   * (`SMOOTHER`), translated by `translate`, kept alive (`KEEP_ALIVE_MS`, sending `idle()`, default a
   * `: keep-alive` comment) and encoded. Reading, translation, keep-alive and encoding are one stream
   * (stages composed, each upstream chunk handled in one pull); the smoother, which paces on its own
   * timers, adds its stream before the translation.
   */
  sseAnswer(
    body: ReadableStream<Uint8Array>,
    translate: PullStage<GeminiStreamItem, SseEvent>,
    idle?: () => SseEvent,
  ): Response;
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
    sseAnswer(body, translate, idle) {
      const s = settings();
      const events = s.keepAliveMs > 0
        ? composeStages(translate, keepAliveStage({ intervalMs: s.keepAliveMs, idleEvent: idle }))
        : translate;
      const bytes = composeStages(events, sseEncoderStage());
      return sseBodyResponse(
        s.smoother ? pullThrough(this.smooth(readGeminiStream(body)), bytes) : pullGeminiStream(body, bytes),
      );
    },
  };
}
