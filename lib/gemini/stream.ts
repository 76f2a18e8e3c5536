/**
 * Reading a Gemini answer stream (`:streamGenerateContent?alt=sse`, events `data: {...}\r\n\r\n`) as
 * objects, for the edges that translate it. Every way such a stream can go wrong becomes one
 * `{type: "error"}` item (and nothing after it): an error event Google writes into the stream
 * (`data: {"error": {...}}`), an event that is not JSON, a body that is not SSE at all (a bare JSON
 * error, an HTML page, JSON without framing, nothing), a bare JSON error written after some events (no
 * `data:` framing), and a connection that breaks off. This is the one place Gemini streams are read.
 *
 * Source: https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import { createSseParser, type SseEvent } from "../http/sse.ts";
import { type GoogleErrorBody, parseGoogleError } from "./rpc_status.ts";
import { redactKeys } from "../secrets/redact.ts";
import type { GeminiGenerateContentResponse } from "./types.ts";

/** One item of a Gemini answer stream. */
export type GeminiStreamItem =
  | { type: "response"; response: GeminiGenerateContentResponse }
  | { type: "error"; error: GatewayError };

/** Text kept from the start of a stream to recognise a body that is not SSE. */
const RAW_LIMIT = 64 * 1024;
/**
 * Longest event (in characters) held to parse it: a Gemini event with a few generated images is a few
 * MB; a longer one (or a body with no event boundary at all) ends the stream with a 502 instead of
 * growing the gateway's memory without bound.
 */
export const MAX_EVENT_CHARS = 64 * 1024 * 1024;

/** Characters after the last event boundary (a blank line) in `carry + text`, given `before` until `text`. */
function charsSinceBoundary(carry: string, text: string, before: number): number {
  const joined = carry + text;
  const lf = joined.lastIndexOf("\n\n");
  const crlf = joined.lastIndexOf("\n\r\n");
  const end = Math.max(lf < 0 ? -1 : lf + 2, crlf < 0 ? -1 : crlf + 3);
  return end < 0 ? before + text.length : joined.length - end;
}

/**
 * The error for Google's error object in a stream it answered with 200, with Google's body as it came
 * (the native edge passes it on verbatim). Its 499 CANCELLED there is Google giving up on the answer
 * (Firebase's recorded `streaming-failure-error-mid-stream`), not the client leaving (a client that
 * left reads nothing more), so it is a 502: a server-side failure in every dialect (Anthropic's
 * `api_error`, which Claude Code retries; OpenAI's `server_error`), never the client's fault.
 */
function streamError(upstream: GoogleErrorBody): GatewayError {
  const code = upstream.error.code || 500;
  return new GatewayError(code === 499 ? 502 : code, upstream.error.message, { upstream });
}

/** The item for one `data:` payload of a Gemini stream. */
export function geminiStreamItem(data: string): GeminiStreamItem {
  let value: GeminiGenerateContentResponse & { error?: unknown };
  try {
    value = JSON.parse(data);
  } catch (err) {
    return {
      type: "error",
      error: new GatewayError(502, "Upstream sent an unreadable stream event.", { cause: err }),
    };
  }
  if (value?.error) return { type: "error", error: streamError(parseGoogleError(data)!) };
  return { type: "response", response: value };
}

/**
 * Reads a Gemini SSE body as {@link GeminiStreamItem}s. Pull-driven (nothing is buffered ahead of the
 * reader); cancelling the result cancels the upstream body; after an error item the stream ends and
 * the upstream body is cancelled.
 */
export function readGeminiStream(body: ReadableStream<Uint8Array>): ReadableStream<GeminiStreamItem> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const pending: GeminiStreamItem[] = [];
  let events = 0;
  let raw = "";
  /** Characters since the last event boundary, and the end of the previous chunk (a boundary may span two). */
  let open = 0;
  let carry = "";
  /** Lines after the first event that are not SSE (a bare error written mid-stream). */
  let stray = "";
  let ended = false;
  const parser = createSseParser({
    onEvent: (e: SseEvent & { data: string }) => {
      if (!e.data.trim()) return;
      events++;
      pending.push(geminiStreamItem(e.data));
    },
    onStray: (line) => {
      if (events && stray.length < RAW_LIMIT) stray += line + "\n";
    },
  });
  const end = () => {
    parser.feed("\n\n");
    // A bare JSON error object (no `data:` framing) written where a stream was expected, or after events.
    const text = (events ? stray : raw).trim();
    const bare = text ? parseGoogleError(text) : null;
    if (bare) pending.push({ type: "error", error: streamError(bare) });
    else if (!events) {
      // Google always sends at least one event: an empty body, an HTML page or JSON without SSE
      // framing is not an answer, and must not reach the client as an empty success.
      const start = redactKeys(raw.trim().slice(0, 120));
      pending.push({
        type: "error",
        error: new GatewayError(
          502,
          start
            ? `Upstream sent a body that is not a Gemini event stream: ${start}`
            : "Upstream sent an empty stream.",
        ),
      });
    }
    ended = true;
  };
  return new ReadableStream<GeminiStreamItem>({
    async pull(controller) {
      while (true) {
        const item = pending.shift();
        if (item) {
          controller.enqueue(item);
          if (item.type === "error") {
            ended = true;
            pending.length = 0;
            await reader.cancel().catch(() => {});
            controller.close();
          }
          return;
        }
        if (ended) return controller.close();
        try {
          const r = await reader.read();
          if (r.done) {
            end();
            continue;
          }
          const text = decoder.decode(r.value, { stream: true });
          if (!events && raw.length < RAW_LIMIT) raw += text;
          parser.feed(text);
          open = charsSinceBoundary(carry, text, open);
          carry = (carry + text).slice(-2);
          if (open > MAX_EVENT_CHARS) {
            pending.push({
              type: "error",
              error: new GatewayError(
                502,
                `The upstream sent a stream event larger than ${MAX_EVENT_CHARS} characters; the gateway stopped reading it.`,
              ),
            });
          }
        } catch (err) {
          pending.push({
            type: "error",
            error: new GatewayError(502, "The upstream stream broke off before it finished.", { cause: err }),
          });
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * Whether a Gemini answer stream said it is done: Gemini ends every answer with a `finishReason` on each
 * candidate (STOP, MAX_TOKENS, SAFETY, ...), or blocks the prompt (`promptFeedback.blockReason`, no
 * candidates). A stream whose body ends without either was cut off upstream (every recorded stream in
 * `tests/corpus/` ends with one), so it must not reach the client as a complete answer.
 *
 * Source: https://ai.google.dev/api/generate-content#v1beta.Candidate (finishReason: "If empty, the
 * model has not stopped generating tokens").
 */
export class StreamCompletion {
  #blocked = false;
  /** Whether each candidate seen (by index) has a finish reason yet. */
  #finished = new Map<number, boolean>();

  /** Reads one event of the stream. */
  observe(res: GeminiGenerateContentResponse): void {
    if (res.promptFeedback?.blockReason) this.#blocked = true;
    for (const [i, c] of (res.candidates ?? []).entries()) {
      const index = c.index ?? i;
      this.#finished.set(index, this.#finished.get(index) === true || !!c.finishReason);
    }
  }

  /** True when the prompt was blocked, or every candidate seen has a finish reason (and there was one). */
  get complete(): boolean {
    return this.#blocked || (this.#finished.size > 0 && [...this.#finished.values()].every(Boolean));
  }

  /** The error a client gets for a stream that ended before Gemini said it was done (502). */
  static cutOff(): GatewayError {
    return new GatewayError(
      502,
      "The upstream stream ended before Gemini finished the answer (no finishReason): what arrived may be cut " +
        "off. Send the request again.",
    );
  }
}

/**
 * Google's error at the end of a stream's tail (a `data:` event or a bare JSON object, the last thing
 * in the body), or null. The pipeline reads it to log a stream that failed after its 200.
 */
export function trailingStreamError(tail: string): GoogleErrorBody | null {
  const starts = [...tail.matchAll(/\{\s*"error"\s*:/g)].map((m) => m.index);
  for (let i = starts.length - 1; i >= 0; i--) {
    const found = parseGoogleError(tail.slice(starts[i]).trim());
    if (found) return found;
  }
  return null;
}

/**
 * A `TransformStream` from stream items back to Google's events (for the native edge when it
 * re-encodes a stream, e.g. after the smoother): a response as `data: {...}`, an error as Google's
 * error event `data: {"error": {...}}`.
 */
export class GeminiEventStream extends TransformStream<GeminiStreamItem, SseEvent> {
  constructor() {
    super({
      transform(item, controller) {
        controller.enqueue({ data: item.type === "response" ? item.response : item.error.toGoogle() });
      },
    });
  }
}
