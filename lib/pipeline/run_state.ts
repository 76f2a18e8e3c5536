/**
 * What the attempt's steps (`attempt_success.ts`, `attempt_failure.ts`, `attempt_call.ts`) see of a
 * request's run (`ForwardRun` in `forward.ts`, which implements it): its request and record, its
 * timers, and the failure state that decides whether another key is tried. The steps are plain
 * functions that take the run itself as this context (no object is built for them per request).
 *
 * @module
 */
import type { GatewayError } from "../http/errors.ts";
import type { KindOrder } from "../pool/key_pool.ts";
import type { UsageDelta } from "../pool/usage.ts";
import type { AffinityRoute } from "./affinity.ts";
import type { Deadlines } from "./deadlines.ts";
import type { ForwarderDeps, ForwarderSettings } from "./forward.ts";
import type { AttemptEnd } from "./observer.ts";
import type { RequestRecord } from "./request_record.ts";
import type { ForwardRequest } from "./types.ts";

/** One request's run, as its attempt steps read and update it. */
export interface RunState {
  /** The pipeline's dependencies the steps use. */
  readonly deps: Pick<
    ForwarderDeps,
    "pool" | "affinity" | "openStreams" | "observer" | "clientFor" | "onNetworkError"
  >;
  /** The shared timer wheel (start, idle and deadline timers). */
  readonly deadlines: Deadlines;
  /** The settings, read once as the request arrived. */
  readonly settings: ForwarderSettings;
  readonly req: ForwardRequest;
  /** The request's record (written once, by {@link RunState.finish}). */
  readonly rec: RequestRecord;
  /** Per-model cooldowns key on this; `*` for calls that name no model. */
  readonly model: string;
  /** The client's signal (aborted when it went away). */
  readonly signal: AbortSignal;
  /** Masks secrets in upstream text before it is answered, logged or kept as a key's reason. */
  readonly redact: (text: string) => string;
  /** Where the resources the request names live (`pinned`: only that key may serve). */
  readonly route: AffinityRoute;
  /** The key kinds that may serve the request, in order. */
  readonly kinds?: KindOrder;
  /** Set when a shutdown cut the request before its answer started: every later step ends with it. */
  readonly cut?: GatewayError;
  /** The last attempt's failure (the answer when no other key serves). */
  last?: GatewayError;
  /** The upstream said the request itself is wrong (not the key's fault). */
  clientError: boolean;
  /** Pause (ms) before the next attempt (after Google said the model is overloaded). */
  pause: number;
  /** How many attempts Google answered "overloaded" (the pause doubles with each). */
  overloads: number;
  /** Ms left before the overall deadline at `now` (`performance.now()`; Infinity when there is none). */
  left(now?: number): number;
  /** Ms since the request arrived, at `now` (`performance.now()`). */
  elapsed(now?: number): number;
  /** Tells the observer how the attempt in flight ended (once); `now`: the step's `performance.now()`. */
  end(e: Omit<AttemptEnd, "elapsedMs">, now?: number): void;
  /** Counts usage against a key (and the request's model and client token). */
  count(keyId: string, delta: UsageDelta): void;
  /**
   * Reports the finished request (once); `served`: the key served, its success is counted with the
   * tokens (one usage update).
   */
  finish(tokens: { inputTokens?: number; outputTokens?: number }, served?: boolean): void;
}
