/**
 * One JavaScript stage of a stream as a pull-driven `ReadableStream`: each read of the result reads
 * the source once and hands the item to the stage, which emits what it makes of it. In Deno a
 * `TransformStream` joined by `pipeThrough` costs about three times as much per chunk (its writable
 * side, the pipe loop and their promises), which a stream of thousands of small events pays on every
 * event. Nothing is read ahead (high-water mark 0); cancelling the result cancels the source.
 *
 * @module
 */

/** What one stage does with the items of its source. */
export interface PullStage<I, O> {
  /** Runs once, first; `emit` may be kept for output that is not an answer to an item (a timer). */
  start?(emit: (out: O) => void): void;
  /** Emits what `item` becomes: any number of outputs (none is fine; the next item is read then). */
  transform(item: I, emit: (out: O) => void): void;
  /** Emits the last outputs after the source ended. */
  flush?(emit: (out: O) => void): void;
  /** Runs once when the stream ends in any way (its end, an error, or a cancel). */
  close?(): void;
  /**
   * Emits what a failed read of the source becomes; without it, the failure errors the result. The
   * stage then says with {@link PullStage.stopped} whether the stream ends.
   */
  readFailed?(err: unknown, emit: (out: O) => void): void;
  /** True once the stage takes no more input: the source is cancelled, the stage flushed, the result ends. */
  stopped?(): boolean;
}

/** What {@link pullThrough} reads: a stream's reader, or any reader of the same shape. */
export interface PullSource<I> {
  read(): Promise<ReadableStreamReadResult<I>>;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * The source's items through `stage`, read one per pull.
 *
 * @throws (through the result) whatever the source or the stage throws; the source is then cancelled.
 */
export function pullThrough<I, O>(
  source: ReadableStream<I> | PullSource<I>,
  stage: PullStage<I, O>,
): ReadableStream<O> {
  const reader = source instanceof ReadableStream ? source.getReader() : source;
  let emitted = 0;
  let closed = false;
  let emit: (out: O) => void = () => {};
  const close = () => {
    if (closed) return;
    closed = true;
    stage.close?.();
  };
  return new ReadableStream<O>({
    start(controller) {
      emit = (out: O) => {
        controller.enqueue(out);
        emitted++;
      };
      stage.start?.(emit);
    },
    async pull(controller) {
      const before = emitted;
      try {
        // A pull must end with an output (or the end): otherwise no further pull comes.
        while (emitted === before) {
          let r: ReadableStreamReadResult<I> | undefined;
          try {
            r = await reader.read();
          } catch (err) {
            if (!stage.readFailed) throw err;
            stage.readFailed(err, emit);
          }
          if (r && !r.done) stage.transform(r.value, emit);
          const stopped = stage.stopped?.() ?? false;
          if (r?.done || stopped) {
            if (stopped && !r?.done) await reader.cancel().catch(() => {});
            stage.flush?.(emit);
            close();
            controller.close();
            return;
          }
        }
      } catch (e) {
        close();
        reader.cancel(e).catch(() => {});
        controller.error(e);
      }
    },
    cancel(reason) {
      close();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Two stages as one: what `first` emits goes to `second`, in the same call (no stream between them).
 * `second` starts first (so it is ready for what `first` emits when it starts); `first` flushes first;
 * both close.
 */
export function composeStages<A, B, C>(first: PullStage<A, B>, second: PullStage<B, C>): PullStage<A, C> {
  let out: (c: C) => void = () => {};
  const into = (b: B) => second.transform(b, out);
  return {
    start(emit) {
      out = emit;
      second.start?.(emit);
      first.start?.(into);
    },
    transform(item, emit) {
      out = emit;
      first.transform(item, into);
    },
    flush(emit) {
      out = emit;
      first.flush?.(into);
      second.flush?.(emit);
    },
    close() {
      first.close?.();
      second.close?.();
    },
    readFailed: first.readFailed && ((err, emit) => {
      out = emit;
      first.readFailed!(err, into);
    }),
    stopped: () => (first.stopped?.() ?? false) || (second.stopped?.() ?? false),
  };
}
