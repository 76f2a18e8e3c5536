/**
 * Keep-alive for slow answers: an SSE byte transform that writes a comment (`: keep-alive\n\n`) when
 * nothing was written for `intervalMs` (only between frames, never inside one), and a stream for clients
 * that asked for a stream from an upstream call that answers whole: it emits empty OpenAI chunks until
 * the final chunks are ready. All timers are cleared when the stream ends, errors or is cancelled.
 *
 * @module
 */

/** Options of {@link createKeepAliveTransform}. */
export interface KeepAliveOptions {
  /** Idle time before a keep-alive is written (must be > 0). */
  intervalMs: number;
  /** The bytes to inject; default `: keep-alive\n\n`. */
  comment?: string;
}

/** True when the bytes written so far end at an SSE frame boundary. */
function atBoundary(tail: number[]): boolean {
  const s = String.fromCharCode(...tail);
  return s === "" || s.endsWith("\n\n") || s.endsWith("\r\r") || s.endsWith("\r\n\r\n");
}

/**
 * An SSE byte transform that injects a keep-alive comment after `intervalMs` without output. Use it only
 * on SSE bodies (`alt=sse`); as a safeguard it stops injecting when the first bytes start a JSON value.
 */
export function createKeepAliveTransform(opts: KeepAliveOptions): TransformStream<Uint8Array, Uint8Array> {
  const comment = new TextEncoder().encode(opts.comment ?? ": keep-alive\n\n");
  let timer: ReturnType<typeof setTimeout> | undefined;
  let tail: number[] = [];
  let disabled = false; // set when the body turns out not to be SSE (e.g. a JSON array stream)
  let ctrl: TransformStreamDefaultController<Uint8Array> | undefined;
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const arm = () => {
    stop();
    timer = setTimeout(() => {
      timer = undefined;
      try {
        if (!disabled && atBoundary(tail)) ctrl?.enqueue(comment);
      } catch {
        return; // stream already closed
      }
      arm();
    }, opts.intervalMs);
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      ctrl = controller;
      arm();
    },
    transform(bytes, controller) {
      if (bytes.length) {
        if (!tail.length) disabled = /^\s*[[{]/.test(new TextDecoder().decode(bytes.subarray(0, 16)));
        tail = [...tail, ...bytes.subarray(Math.max(0, bytes.length - 4))].slice(-4);
      }
      controller.enqueue(bytes);
      arm();
    },
    flush() {
      stop();
    },
    cancel() {
      stop();
    },
  });
}

/** Options of {@link streamWholeAnswer}. */
export interface WholeAnswerOptions {
  /** Resolves to the final OpenAI chunk objects (each sent as one `data:` event). */
  final: Promise<unknown[]>;
  /** Interval between empty keep-alive chunks (must be > 0). */
  intervalMs: number;
  /** The empty chunk to send while waiting (e.g. `{id, object:"chat.completion.chunk", created, model,
   * choices:[{index:0, delta:{}, finish_reason:null}]}`). */
  emptyChunk: unknown;
  /** Turns a rejection into an error event object; default `{error:{message, type:"server_error"}}`. */
  errorChunk?: (err: unknown) => unknown;
  /** Append `data: [DONE]` after the final chunks (default true). */
  done?: boolean;
}

/**
 * An OpenAI SSE stream for a non-streaming upstream call: empty chunks every `intervalMs` while
 * waiting, then the final chunks and `[DONE]`; on failure one error event and the stream closes.
 */
export function streamWholeAnswer(opts: WholeAnswerOptions): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const frame = (v: unknown) => enc.encode(`data: ${JSON.stringify(v)}\n\n`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  const stop = () => {
    finished = true;
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  const errorChunk = opts.errorChunk ??
    ((err: unknown) => ({
      error: { message: err instanceof Error ? err.message : String(err), type: "server_error" },
    }));
  return new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setInterval(() => {
        if (!finished) controller.enqueue(frame(opts.emptyChunk));
      }, opts.intervalMs);
      opts.final.then(
        (chunks) => {
          if (finished) return;
          stop();
          for (const c of chunks) controller.enqueue(frame(c));
          if (opts.done ?? true) controller.enqueue(enc.encode("data: [DONE]\n\n"));
          controller.close();
        },
        (err) => {
          if (finished) return;
          stop();
          controller.enqueue(frame(errorChunk(err)));
          controller.close();
        },
      );
    },
    cancel() {
      stop();
    },
  });
}
