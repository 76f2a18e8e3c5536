/**
 * One attempt's upstream call ({@link Call}: the key it uses, its abort controller, when it started),
 * the answer's body read under the attempt's timers, and the attempt's entry in the request's record.
 * Shared by the attempt's steps: `forward.ts` (sending), `attempt_success.ts`, `attempt_failure.ts`.
 *
 * @module
 */
import type { KeyChoice } from "../pool/key_pool.ts";
import type { RunState } from "./run_state.ts";
import { UpstreamBody } from "./upstream_body.ts";

/** An attempt's reason when it served (no secret to mask). */
export const SERVED = "served";

/** One attempt's upstream call: its abort controller, linked to the client's signal until released. */
export class Call {
  readonly ctl = new AbortController();
  /** The key the call uses. */
  readonly choice: KeyChoice;
  readonly started: number;
  #unlink: () => void;

  /** @param now `performance.now()` as the attempt starts. */
  constructor(choice: KeyChoice, client: AbortSignal, now: number) {
    this.choice = choice;
    this.started = now;
    const onAbort = () => this.ctl.abort(client.reason);
    if (client.aborted) onAbort(); // the client left between attempts: nothing is sent
    client.addEventListener("abort", onAbort, { once: true });
    this.#unlink = () => client.removeEventListener("abort", onAbort);
  }

  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  /** Stops following the client's signal (the call is over, or a stream took over). */
  release(): void {
    this.#unlink();
  }

  /** Ms since the call started, at `now` (`performance.now()`). */
  ms(now: number = performance.now()): number {
    return Math.round(now - this.started);
  }
}

/**
 * An answer's body, read under the attempt's timers (`IDLE_TIMEOUT_MS` between bytes); `tail`: keep
 * its last bytes as it is read (streams; default no).
 */
export function answerBody(
  run: RunState,
  call: Call,
  res: Response,
  o: { tail?: boolean } = {},
): UpstreamBody {
  return new UpstreamBody(res, {
    deadlines: run.deadlines,
    idleMs: run.settings.idleTimeoutMs,
    abort: (reason) => call.ctl.abort(reason),
    signal: call.signal,
    tail: o.tail ?? false,
  });
}

/**
 * Records an attempt's end in the request's record (`tries`): its HTTP `status` and `reason`
 * ({@link SERVED}, or what failed: masked, at most 300 characters); `now`: the step's `performance.now()`.
 */
export function recordTry(run: RunState, call: Call, status: number, reason: string, now?: number): void {
  (run.rec.tries ??= []).push({
    keyId: call.choice.id,
    status,
    reason: reason === SERVED ? reason : run.redact(reason).slice(0, 300),
    ms: call.ms(now),
  });
}
