/**
 * The pulled stage ({@link PullStage}) every translating route builds its stream on: Gemini stream items
 * go to a dialect's translator, an error item or an answer that ended in a failed tool call becomes the
 * dialect's one failure event, and nothing is sent after a failure.
 *
 * @module
 */
import type { GatewayError } from "./errors.ts";
import type { SseEvent } from "./sse.ts";
import type { GeminiGenerateContentResponse } from "../gemini/types.ts";
import type { GeminiStreamItem } from "../gemini/stream.ts";
import type { PullStage } from "../util/pull_through.ts";

/** What a dialect's stream translator offers {@link translatorStage}. */
export interface StreamTranslator {
  /** True once a failure event was made; nothing follows it. */
  readonly failed: boolean;
  /** The events of one Gemini answer chunk. */
  onResponse(response: GeminiGenerateContentResponse): SseEvent[];
  /** The failure event (and the translator is failed). */
  fail(err: GatewayError): SseEvent[];
  /** The failure of an answer that ended in a tool call Gemini could not make, if it did. */
  toolCallFailure(): GatewayError | undefined;
  /** The closing events of a finished answer. */
  finish(): SseEvent[];
}

/** Options of {@link translatorStage}. */
export interface TranslatorStageOptions {
  /** The events sent at once, before any item (Responses' `response.created`). */
  start?: () => SseEvent[];
  /** Runs after the closing events of an answer that finished without a failure. */
  onDone?: () => void;
}

/** The stage that drives `translator` (see the module doc). */
export function translatorStage(
  translator: StreamTranslator,
  o: TranslatorStageOptions = {},
): PullStage<GeminiStreamItem, SseEvent> {
  const send = (events: SseEvent[], emit: (e: SseEvent) => void) => {
    for (let i = 0; i < events.length; i++) emit(events[i]);
  };
  return {
    start: o.start && ((emit) => send(o.start!(), emit)),
    transform(item, emit) {
      if (translator.failed) return;
      send(item.type === "error" ? translator.fail(item.error) : translator.onResponse(item.response), emit);
    },
    flush(emit) {
      if (translator.failed) return;
      const failure = translator.toolCallFailure();
      send(failure ? translator.fail(failure) : translator.finish(), emit);
      if (!translator.failed) o.onDone?.();
    },
  };
}
