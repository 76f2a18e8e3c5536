/**
 * A request the chosen key's service takes in several calls (`UpstreamTarget.split`: Vertex takes a
 * batch of embedding inputs one per call): each part runs as a request of its own through the pipeline
 * (the first on the key already chosen, the others on the keys the pool picks, so every call counts
 * against a key's limits and a part that fails is retried elsewhere), up to {@link FAN_OUT} at once;
 * their answers are joined in order. The first part that fails for good fails the request.
 *
 * @module
 */
import type { KeyChoice } from "../pool/key_pool.ts";
import type { ForwardRequest, ForwardResult } from "./types.ts";
import type { RequestSplit } from "./upstream.ts";

/** How many parts of a split request run at once. */
export const FAN_OUT = 4;

/** Options of {@link fanOut}. */
export interface FanOutOptions {
  /** The parts and how their answers join. */
  split: RequestSplit;
  /** The key the first part runs on (already chosen). */
  first: KeyChoice;
  /** The client's signal: when it aborts, so do the parts. */
  signal: AbortSignal;
  /** Runs one part as a request of its own (on `first` when given); its record is the whole request's. */
  runPart: (request: ForwardRequest, first?: KeyChoice) => Promise<ForwardResult>;
  /** Told the upstream attempts the parts made, once they are over (served or not). */
  countAttempts: (attempts: number) => void;
}

/**
 * Runs the parts and joins their answers.
 *
 * @returns the whole request's answer (Gemini API JSON).
 * @throws {GatewayError} the error of the first part that failed for good (the other parts are cancelled).
 */
export async function fanOut(o: FanOutOptions): Promise<unknown> {
  const { split } = o;
  const answers: unknown[] = [];
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let first: KeyChoice | undefined = o.first;
  let next = 0;
  let attempts = 0;
  const worker = async () => {
    while (next < split.requests.length && !stop.signal.aborted) {
      const i = next++;
      const part = o.runPart({ ...split.requests[i], signal }, first);
      first = undefined;
      const served = await part;
      attempts += served.attempts;
      answers[i] = await served.response.json();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(FAN_OUT, split.requests.length) }, worker));
  } catch (e) {
    stop.abort();
    throw e;
  } finally {
    o.countAttempts(attempts);
  }
  return split.join(answers);
}
