/**
 * Streaming for the mock Gemini upstream (wire reference A4): splits a full reply into delta chunks and
 * writes them as SSE (`data: {...}\r\n\r\n`) or as an incrementally streamed JSON array.
 *
 * @module
 */

import { googleHeaders } from "./mock_gemini_http.ts";
import { arrayField, field, isObject, type Json, numberField, sleep } from "./mock_gemini_util.ts";

/** Splits text at spaces (each piece keeps its trailing space); short texts are cut into 3 slices. */
export function splitText(text: string): string[] {
  const pieces = text.split(/(?<=\s)(?=\S)/);
  const chars = Array.from(text);
  if (pieces.length >= 3 || chars.length < 3) return pieces;
  const size = Math.ceil(chars.length / 3);
  return [0, 1, 2].map((i) => chars.slice(i * size, (i + 1) * size).join("")).filter((s) => s !== "");
}

function partEvents(candidate: Json): Json[] {
  const parts = arrayField(field(candidate, "content"), "parts").filter(isObject);
  return parts.flatMap((p) => {
    if (typeof p.text !== "string") return [p];
    const pieces = splitText(p.text);
    if (pieces.length === 0) return [p];
    const { thoughtSignature, ...rest } = p;
    return pieces.map((text, i) => {
      const ev: Json = { ...rest, text };
      if (thoughtSignature !== undefined && i === pieces.length - 1) ev.thoughtSignature = thoughtSignature;
      return ev;
    });
  });
}

/**
 * Turns one full GenerateContentResponse into stream chunks: text as deltas, other parts whole,
 * `finishReason` (and grounding) only on a candidate's last chunk, cumulative `usageMetadata` on every chunk.
 */
export function toStreamChunks(full: Json): Json[] {
  const candidates = Array.isArray(full.candidates) ? full.candidates.filter(isObject) : [];
  if (candidates.length === 0) return [full];
  const events = candidates.map(partEvents);
  const total = Math.max(1, ...events.map((e) => e.length));
  const usage = isObject(full.usageMetadata) ? full.usageMetadata : {};
  const finalCandidates = numberField(usage, "candidatesTokenCount") ?? 0;
  const other = (numberField(usage, "totalTokenCount") ?? 0) - finalCandidates;
  const chunks: Json[] = [];
  for (let k = 0; k < total; k++) {
    const chunkCandidates: Json[] = [];
    candidates.forEach((c, ci) => {
      const own = events[ci];
      const lastIndex = Math.max(0, own.length - 1);
      if (k > lastIndex) return;
      const { content: _content, ...meta } = c;
      const out: Json = { content: { parts: own[k] ? [own[k]] : [], role: "model" } };
      if (k === lastIndex) Object.assign(out, meta);
      else out.index = c.index;
      chunkCandidates.push(out);
    });
    const soFar = k === total - 1 ? finalCandidates : Math.round((finalCandidates * (k + 1)) / total);
    const usageMetadata = { ...usage, candidatesTokenCount: soFar, totalTokenCount: other + soFar };
    const { candidates: _c, usageMetadata: _u, ...rest } = full;
    chunks.push({ candidates: chunkCandidates, usageMetadata, ...rest });
  }
  return chunks;
}

/** Options of {@link streamResponse}. */
export interface StreamOptions {
  /** Chunks to send, in order. */
  chunks: Json[];
  /** SSE framing when true, JSON array otherwise. */
  sse: boolean;
  /** Delay between chunks in ms. */
  delayMs: number;
  /** Stops the stream early (mock closing). */
  closing: AbortSignal;
  /** Called exactly once when the stream ends, is cancelled by the client, or the mock closes. */
  onDone: () => void;
  /** After `afterChunks` chunks, write this error object as the next element and end the stream. */
  failure?: { afterChunks: number; body: Json };
}

function frame(chunk: Json, i: number, sse: boolean): string {
  if (sse) return `data: ${JSON.stringify(chunk)}\r\n\r\n`;
  return (i === 0 ? "[" : ",\r\n") + JSON.stringify(chunk, null, 2);
}

/** A streaming Response that writes chunks one by one so that client aborts are observed. */
export function streamResponse(o: StreamOptions): Response {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  const onClosing = () => stop.abort();
  o.closing.addEventListener("abort", onClosing, { once: true });
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    o.closing.removeEventListener("abort", onClosing);
    o.onDone();
  };
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i > 0 && o.delayMs > 0) await sleep(o.delayMs, stop.signal);
      if (finished) return;
      if (stop.signal.aborted) {
        finish();
        controller.close();
        return;
      }
      if (o.failure && i >= o.failure.afterChunks) {
        const error = o.sse
          ? `data: ${JSON.stringify(o.failure.body)}\r\n\r\n`
          : frame(o.failure.body, i, false) + "]";
        controller.enqueue(encoder.encode(error));
        finish();
        controller.close();
        return;
      }
      if (i < o.chunks.length) {
        controller.enqueue(encoder.encode(frame(o.chunks[i], i, o.sse)));
        i++;
        return;
      }
      if (!o.sse) controller.enqueue(encoder.encode(i === 0 ? "[]" : "]"));
      finish();
      controller.close();
    },
    cancel() {
      stop.abort();
      finish();
    },
  });
  const headers = googleHeaders(o.sse ? "text/event-stream" : "application/json; charset=UTF-8");
  if (o.sse) headers.set("content-disposition", "attachment");
  return new Response(body, { status: 200, headers });
}
