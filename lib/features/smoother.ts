/**
 * Streaming smoother: re-chunks large text deltas of Gemini stream events into small, evenly paced
 * events. Works on Gemini stream items, so it serves the native route and — placed before a
 * translator — every other dialect. Added delay is bounded per pause (`maxDelayMs`) and per stream
 * (`budgetMs`); pending timers are cleared when the stream is cancelled.
 *
 * @module
 */
import type { GeminiStreamItem } from "../gemini/stream.ts";
import type { GeminiGenerateContentResponse } from "../gemini/types.ts";
import { abortableSleep } from "../util/sleep.ts";

/** Options of {@link SmootherStream}. */
export interface SmootherOptions {
  /** Target characters per piece. */
  chunkChars: number;
  /** Longest pause between two pieces of one event (0 = no pauses). */
  maxDelayMs: number;
  /** Total pause the smoother may add over the whole stream. */
  budgetMs: number;
  /** Waits `ms` or until `signal` aborts; for tests (default: a cleared-on-abort timer). */
  pause?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Candidate fields that belong only on the last piece of a split event. */
const CANDIDATE_LAST_ONLY = [
  "finishReason",
  "finishMessage",
  "groundingMetadata",
  "citationMetadata",
  "urlContextMetadata",
  "tokenCount",
  "avgLogprobs",
  "logprobsResult",
];
/** Top-level fields that belong only on the last / first piece. */
const EVENT_LAST_ONLY = ["usageMetadata"];
const EVENT_FIRST_ONLY = ["promptFeedback"];

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Splits text into pieces of about `size` characters, preferring whitespace and never splitting a surrogate pair. */
export function splitText(text: string, size: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > size) {
    let cut = size;
    const space = rest.lastIndexOf(" ", size);
    if (space >= size / 2) cut = space + 1;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut++;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest) out.push(rest);
  return out;
}

const omit = (o: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/**
 * Splits one Gemini response event whose single candidate has only text parts, one of them longer than
 * `chunkChars`, into several events (one piece each). All other fields are kept; `usageMetadata`,
 * `finishReason` and the other final-only candidate fields go on the last piece only; `thoughtSignature`
 * stays on the last piece of its part. Returns `[event]` when there is nothing to split.
 */
export function splitGeminiEvent(
  event: Record<string, unknown>,
  chunkChars: number,
): Record<string, unknown>[] {
  const cands = event.candidates;
  if (!Array.isArray(cands) || cands.length !== 1 || !isObj(cands[0])) return [event];
  const cand = cands[0];
  const content = cand.content;
  if (!isObj(content) || !Array.isArray(content.parts) || !content.parts.length) return [event];
  const parts = content.parts;
  if (!parts.every((p) => isObj(p) && typeof p.text === "string")) return [event];
  if (!parts.some((p) => (p as { text: string }).text.length > chunkChars)) return [event];

  const pieces: Record<string, unknown>[] = [];
  for (const part of parts as Array<Record<string, unknown> & { text: string }>) {
    const texts = splitText(part.text, chunkChars);
    texts.forEach((t, i) =>
      pieces.push({ ...(i === texts.length - 1 ? part : omit(part, ["thoughtSignature"])), text: t })
    );
  }
  return pieces.map((piece, i) => {
    const last = i === pieces.length - 1;
    const drop = [...(last ? [] : EVENT_LAST_ONLY), ...(i === 0 ? [] : EVENT_FIRST_ONLY)];
    return {
      ...omit(event, drop),
      candidates: [{
        ...(last ? cand : omit(cand, CANDIDATE_LAST_ONLY)),
        content: { ...content, parts: [piece] },
      }],
    };
  });
}

/**
 * A transform over Gemini stream items that splits large text events into small, paced ones; other
 * items pass through unchanged.
 *
 * Pacing only fills time the stream would be idle anyway: the pieces of a split event are paced in the
 * background, and as soon as the next upstream item arrives the remaining pieces are sent at once, so
 * the delay never accumulates over a long answer. Only the pacing of the last event (after which the
 * upstream ends) adds to the time to last byte, bounded by `maxDelayMs` per pause and `budgetMs` in all.
 */
export class SmootherStream extends TransformStream<GeminiStreamItem, GeminiStreamItem> {
  constructor(opts: SmootherOptions) {
    const stop = new AbortController();
    let budget = opts.budgetMs;
    const chunk = Math.max(1, opts.chunkChars);
    /** The pieces of the event being paced, not yet sent. */
    let pending: GeminiStreamItem[] = [];
    let pacing: Promise<void> | undefined;
    let hurry = new AbortController();
    const wait = opts.pause ?? ((ms: number, signal: AbortSignal) => abortableSleep(ms, signal));

    const send = (controller: TransformStreamDefaultController<GeminiStreamItem>, item: GeminiStreamItem) => {
      try {
        controller.enqueue(item);
      } catch {
        stop.abort(); // the readable side is gone
      }
    };

    async function pace(controller: TransformStreamDefaultController<GeminiStreamItem>, gap: number) {
      while (pending.length && !stop.signal.aborted) {
        if (!hurry.signal.aborted && gap > 0 && budget > 0) {
          const t0 = performance.now();
          await wait(Math.min(gap, budget), AbortSignal.any([stop.signal, hurry.signal]));
          budget -= performance.now() - t0;
        }
        if (stop.signal.aborted) return;
        send(controller, pending.shift()!);
      }
    }

    /** Sends what is still being paced, at once. */
    async function settle() {
      if (!pacing) return;
      hurry.abort();
      await pacing;
      pacing = undefined;
      hurry = new AbortController();
    }

    super({
      async transform(item, controller) {
        await settle(); // newer upstream data is here: no reason to hold back older text
        const events = item.type === "response"
          ? splitGeminiEvent(item.response as Record<string, unknown>, chunk)
          : null;
        if (!events || events.length === 1) return send(controller, item);
        const items = events.map((e): GeminiStreamItem => ({
          type: "response",
          response: e as GeminiGenerateContentResponse,
        }));
        send(controller, items[0]);
        pending = items.slice(1);
        const gap = Math.min(opts.maxDelayMs, Math.floor(Math.max(0, budget) / (events.length - 1)));
        pacing = pace(controller, gap);
      },
      async flush() {
        if (pacing) await pacing; // the last event keeps its pacing (bounded by the budget)
      },
      cancel() {
        stop.abort();
      },
    });
  }
}
