/**
 * The requests the pipeline still serves: answers it is streaming to clients, and requests still
 * waiting for their answer to start, so that a shutdown can end and record the ones its grace period
 * cuts (they would otherwise vanish from the logs and usage).
 *
 * @module
 */

/** A stream in flight: ends itself and writes its record when cut. */
export interface OpenStream {
  /** Ends the stream now (upstream closed, client stream errored) and records it with `reason`. */
  cut(reason: string): void;
}

/** The set of open streams. */
export class OpenStreams {
  readonly #streams = new Set<OpenStream>();

  /** Number of streams in flight. */
  get size(): number {
    return this.#streams.size;
  }

  /** Registers a stream; returns the function that removes it (call it when the stream ends). */
  add(stream: OpenStream): () => void {
    this.#streams.add(stream);
    return () => void this.#streams.delete(stream);
  }

  /** Cuts every open stream with `reason`; returns how many there were. */
  cutAll(reason: string): number {
    const all = [...this.#streams];
    this.#streams.clear();
    for (const s of all) s.cut(reason);
    return all.length;
  }
}
