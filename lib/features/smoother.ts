/**
 * Streaming smoother: re-chunks large text deltas of Gemini SSE events into small, evenly paced events.
 * Works on the Gemini wire (`data: {...}\r\n\r\n`), so it serves the native route and — placed before
 * the OpenAI translation — the OpenAI route. Added delay is bounded per pause (`maxDelayMs`) and per
 * stream (`budgetMs`); pending timers are cleared when the stream is cancelled.
 *
 * @module
 */
import { frameJson, SseFrameSplitter } from "./sse_frames.ts";

/** Options of {@link createSseSmoother}. */
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

/** Sleeps `ms`, resolving early (and clearing the timer) when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(id);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const id = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/**
 * A byte transform over Gemini SSE that splits large text events into small, paced ones.
 *
 * Pacing only fills time the stream would be idle anyway: the pieces of a split event are paced in the
 * background, and as soon as the next upstream bytes arrive the remaining pieces are sent at once, so
 * the delay never accumulates over a long answer. Only the pacing of the last event (after which the
 * upstream ends) adds to the time to last byte, bounded by `maxDelayMs` per pause and `budgetMs` in all.
 */
export function createSseSmoother(opts: SmootherOptions): TransformStream<Uint8Array, Uint8Array> {
  const splitter = new SseFrameSplitter();
  const enc = new TextEncoder();
  const stop = new AbortController();
  let budget = opts.budgetMs;
  const chunk = Math.max(1, opts.chunkChars);
  /** The pieces of the event being paced, not yet sent. */
  let pending: Uint8Array[] = [];
  let pacing: Promise<void> | undefined;
  let hurry = new AbortController();
  const wait = opts.pause ?? pause;

  const send = (controller: TransformStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    try {
      controller.enqueue(bytes);
    } catch {
      stop.abort(); // the readable side is gone
    }
  };

  async function pace(controller: TransformStreamDefaultController<Uint8Array>, gap: number) {
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

  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(bytes, controller) {
      await settle(); // newer upstream data is here: no reason to hold back older text
      for (const frame of splitter.push(bytes)) {
        const json = frameJson(frame.text);
        const events = json ? splitGeminiEvent(json, chunk) : null;
        if (!events || events.length === 1) {
          await settle();
          send(controller, enc.encode(frame.text + frame.separator));
          continue;
        }
        await settle(); // several events in one read: earlier ones go out unpaced
        const frames = events.map((ev) => enc.encode(`data: ${JSON.stringify(ev)}\r\n\r\n`));
        send(controller, frames[0]);
        pending = frames.slice(1);
        const gap = Math.min(opts.maxDelayMs, Math.floor(Math.max(0, budget) / (events.length - 1)));
        pacing = pace(controller, gap);
      }
    },
    async flush(controller) {
      if (pacing) await pacing; // the last event keeps its pacing (bounded by the budget)
      const rest = splitter.rest();
      if (rest) send(controller, enc.encode(rest));
    },
    cancel() {
      stop.abort();
    },
  });
}
