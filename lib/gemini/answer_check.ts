/**
 * What a 2xx Gemini answer calls for, and the checks that ask the pipeline for one more attempt
 * (`AnswerCheck` in `../pipeline/gemini_client.ts`):
 *
 * - an **empty answer** (no candidate has a part with content, no block reason, and no finish reason
 *   that explains the silence such as MAX_TOKENS or SAFETY): Gemini does this now and then under
 *   load, so it is tried once more on another key;
 * - a **failed tool call** (`MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS`):
 *   often transient, tried once more on another key; if it persists the dialect reports it;
 * - a **400 about a thought signature** ("Function call is missing a thought_signature",
 *   "Image part is missing a thought_signature", "Corrupted thought signature", "invalid thought
 *   signature"): tried once more with Google's skip value on every signed or signable model part.
 *
 * A stream is held back until its first answer part, the same test the verdict on a whole answer uses
 * ({@link isAnswerPart}: content that is not a thought); then everything passes through untouched. A
 * stream that ends before one is judged like a whole answer, so a stream of thoughts only is tried
 * again just as a whole answer of thoughts only is. The cost (documented decision): a client that asked
 * for thought summaries gets them only when the answer starts (or the stream ends), not while the model
 * thinks, and the held thoughts are kept in memory until then. A check that retries nothing holds nothing.
 * Only SSE streams (`alt=sse`) are read; other bodies pass through.
 *
 * Sources: https://ai.google.dev/api/generate-content#FinishReason,
 * https://ai.google.dev/gemini-api/docs/thought-signatures
 *
 * @module
 */
import { createSseParser } from "../http/sse.ts";
import { GatewayError } from "../http/errors.ts";
import type { AnswerCheck } from "../pipeline/gemini_client.ts";
import { SKIP_THOUGHT_SIGNATURE } from "./thought_signatures.ts";
import type { GeminiGenerateContentResponse, GeminiPart } from "./types.ts";
import { type ChunkReader, DIRECT_READER } from "./stream.ts";

/**
 * Finish reasons that mean the model's tool call failed, with what each means. Source:
 * https://ai.google.dev/api/generate-content#FinishReason
 */
export const TOOL_CALL_FAILURES: Readonly<Record<string, string>> = {
  MALFORMED_FUNCTION_CALL: "the model produced a function call that is not valid",
  UNEXPECTED_TOOL_CALL: "the model called a tool although no tool is enabled for the request",
  TOO_MANY_TOOL_CALLS: "the model called tools too many times in a row",
};

/**
 * The error a client gets when Gemini's answer ended in a failed tool call (after the gateway's one
 * retry on another key): 502 (OpenAI's `server_error`, Anthropic's `api_error`) with `code` the reason
 * in lower case, e.g. `malformed_function_call`, and Google's `finishMessage` in the message. No
 * dialect's stop reasons have a value for it, and an empty finished answer would look like success.
 */
export function toolCallFailure(reason: string, finishMessage?: string): GatewayError {
  const what = TOOL_CALL_FAILURES[reason] ?? reason;
  return new GatewayError(
    502,
    `Gemini ended the answer with ${reason} (${what})${finishMessage ? `: ${finishMessage}` : ""}. ` +
      "The gateway tried once more on another key. Send the request again, or simplify the tools.",
    { code: reason.toLowerCase() },
  );
}

/** {@link toolCallFailure} for a finish reason that is a failed tool call; undefined for any other. */
export function toolCallFailureFor(
  reason: string | undefined,
  finishMessage?: string,
): GatewayError | undefined {
  return reason && reason in TOOL_CALL_FAILURES ? toolCallFailure(reason, finishMessage) : undefined;
}

/** The dialects' check of a model call: empty answers (when `emptyAnswers`), failed tool calls and signature 400s. */
export function dialectAnswerCheck(o: { emptyAnswers: boolean }): AnswerCheck {
  return geminiAnswerCheck({ emptyAnswers: o.emptyAnswers, toolFailures: true, signatureFallback: true });
}

/** Finish reasons that explain an answer without content (it is not worth another try). */
const EXPLAINED_SILENCE = new Set([
  "MAX_TOKENS",
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "LANGUAGE",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

/** What an answer calls for: `ok`, `empty` (retry on another key) or `tool_failure` (retry, then report). */
export type AnswerVerdict = "ok" | "empty" | "tool_failure";

/** True when a part carries something (text that is not empty, a call, media, code, ...), thoughts included. */
export function partHasContent(part: GeminiPart): boolean {
  for (const [k, v] of Object.entries(part)) {
    if (k === "thought" || k === "thoughtSignature" || v === undefined || v === null) continue;
    if (k === "text" ? v !== "" : true) return true;
  }
  return false;
}

/**
 * True for a part of the answer itself: content that is not a thought. Thoughts alone are no answer
 * (Gemini's "empty response" under load often has only thoughts).
 */
export function isAnswerPart(part: GeminiPart): boolean {
  return !part.thought && partHasContent(part);
}

/** The verdict on a whole answer: one response, or every event of a stream. */
export function answerVerdict(responses: readonly GeminiGenerateContentResponse[]): AnswerVerdict {
  const reasons: string[] = [];
  let content = false;
  for (const r of responses) {
    if (r.promptFeedback?.blockReason) return "ok";
    for (const c of r.candidates ?? []) {
      if (c.finishReason) reasons.push(c.finishReason);
      if ((c.content?.parts ?? []).some(isAnswerPart)) content = true;
    }
  }
  if (reasons.some((r) => r in TOOL_CALL_FAILURES)) return "tool_failure";
  if (content || reasons.some((r) => EXPLAINED_SILENCE.has(r))) return "ok";
  return "empty";
}

/** True for Google's 400 about a thought signature. */
export function isThoughtSignatureError(err: GatewayError): boolean {
  const message = err.options.upstream?.error.message ?? err.message;
  return err.status === 400 && /thought[ _]?signature/i.test(message);
}

/**
 * A GenerateContentRequest (JSON bytes) with Google's skip value on every model part that is or
 * can be signed: parts that carry a signature, function calls and inline media. Undefined when the
 * body is not such a request.
 */
export function withSkippedSignatures(body: Uint8Array | null): Uint8Array<ArrayBuffer> | undefined {
  if (!body?.length) return undefined;
  let request: { contents?: Array<{ role?: string; parts?: GeminiPart[] }> };
  try {
    request = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  if (!Array.isArray(request?.contents)) return undefined;
  for (const content of request.contents) {
    if (content?.role !== "model" || !Array.isArray(content.parts)) continue;
    for (const part of content.parts) {
      if (part.thoughtSignature || part.functionCall || part.inlineData) {
        part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
      }
    }
  }
  return new TextEncoder().encode(JSON.stringify(request));
}

/** Options of {@link geminiAnswerCheck}. */
export interface AnswerCheckOptions {
  /** Retry an empty answer once on another key. */
  emptyAnswers: boolean;
  /** Retry a failed tool call once on another key. */
  toolFailures: boolean;
  /** Retry Google's 400 about a thought signature once with the skip value. */
  signatureFallback: boolean;
}

/** The check for one model call (see the module docs). */
export function geminiAnswerCheck(o: AnswerCheckOptions): AnswerCheck {
  const wanted = (v: AnswerVerdict) =>
    (v === "empty" && o.emptyAnswers) || (v === "tool_failure" && o.toolFailures);
  return {
    retryBodyAfter: o.signatureFallback
      ? (err, body) => isThoughtSignatureError(err) ? withSkippedSignatures(body) : undefined
      : undefined,
    retryAnswer: (_text, json) => {
      if (json === undefined) return false; // not JSON: not ours to judge
      try {
        return wanted(answerVerdict([json as GeminiGenerateContentResponse]));
      } catch {
        return false;
      }
    },
    retryStream: o.emptyAnswers || o.toolFailures
      ? (body, again) => holdUntilContent(body, (events) => wanted(answerVerdict(events)), again)
      : undefined,
  };
}

/**
 * Most bytes of a stream held back before its first answer: events before it are small (metadata,
 * thought summaries, a safety verdict); a stream still without an answer past this is passed on as it is.
 */
export const HOLD_LIMIT_BYTES = 1024 * 1024;

/**
 * Passes an SSE body through, holding it back until its first event with an answer part
 * ({@link isAnswerPart}), an error or a block reason (at most {@link HOLD_LIMIT_BYTES}). If it ends
 * first and `retry(events)` says so, the body of `again()` is passed on instead (or, when that fails,
 * the held bytes after all). The result offers {@link DIRECT_READER}: a reader that, once the hold is
 * over, reads the upstream body directly (the translating edges read it so; no stream in between).
 */
export function holdUntilContent(
  body: ReadableStream<Uint8Array>,
  retry: (events: GeminiGenerateContentResponse[]) => boolean,
  again: () => Promise<ReadableStream<Uint8Array>>,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let held: Uint8Array[] = [];
  /** The next held chunk to pass on, once committed. */
  let heldAt = 0;
  const events: GeminiGenerateContentResponse[] = [];
  const decoder = new TextDecoder();
  let committed = false;
  let heldBytes = 0;
  const parser = createSseParser({
    onEvent: (e) => {
      if (committed || !e.data.trim()) return;
      try {
        const r = JSON.parse(e.data) as GeminiGenerateContentResponse & { error?: unknown };
        events.push(r);
        const content = (r.candidates ?? []).some((c) => (c.content?.parts ?? []).some(isAnswerPart));
        if (r.error || r.promptFeedback?.blockReason || content) committed = true;
      } catch {
        committed = true; // not ours to judge: pass it on
      }
    },
  });
  let rest: ReadableStreamDefaultReader<Uint8Array> = reader;
  /** The next chunk the client gets: the held ones first, then the rest of the body. */
  const next = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    for (;;) {
      if (committed) {
        if (heldAt < held.length) {
          const value = held[heldAt++];
          if (heldAt === held.length) held = [];
          return { done: false, value };
        }
        return rest.read();
      }
      const r = await reader.read();
      if (!r.done) {
        held.push(r.value);
        heldBytes += r.value.length;
        parser.feed(decoder.decode(r.value, { stream: true }));
        if (heldBytes > HOLD_LIMIT_BYTES) committed = true; // too much to hold: pass it on unjudged
        continue;
      }
      parser.feed("\n\n");
      committed = true;
      if (events.length && retry(events)) {
        try {
          rest = (await again()).getReader();
          held = [];
          heldAt = 0;
        } catch {
          // The first answer after all.
        }
      }
    }
  };
  const cancel = (reason?: unknown) => rest.cancel(reason);
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel,
  }, { highWaterMark: 0 }); // nothing read ahead: a direct reader gets every chunk
  return Object.assign(stream, {
    [DIRECT_READER]: (): ChunkReader => {
      stream.getReader(); // locked: its bytes go to this reader only
      return { read: next, cancel };
    },
  });
}
