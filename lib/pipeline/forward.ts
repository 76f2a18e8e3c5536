/**
 * The one request pipeline: choose a key, send upstream, classify the outcome, retry on another key,
 * stream the answer through, and report usage and a log record. Every edge calls it (through
 * `GeminiClient`); they differ only in how they parse requests and format answers.
 *
 * One request runs these named steps until it is served or gives up:
 * {@link ForwardRun.chooseKey} -> {@link ForwardRun.attempt} -> {@link onSuccess}
 * (`attempt_success.ts`) or {@link onFailure} (`attempt_failure.ts`, which decides whether the next key
 * is tried). `ForwardRun` keeps the request's state and record; the steps see it as a `RunState`
 * (`run_state.ts`); one attempt's upstream call is a `Call` (`attempt_call.ts`).
 *
 * A paid generation is sent once: another key is tried only when nothing was generated (the call
 * failed before an answer started, the answer was a 5xx/429, or a connection broke before anything
 * reached the client). After a timeout the client gets 504 and nothing is sent again unless
 * `RESEND_AFTER_TIMEOUT` is on. Answers are bounded in time (`REQUEST_TIMEOUT_MS` for headers,
 * `IDLE_TIMEOUT_MS` between bytes, `REQUEST_DEADLINE_MS` across attempts) and in memory (error bodies
 * read up to a cap; unary answers held whole only up to `ANSWER_BUFFER_BYTES`; streams hold no chunks).
 *
 * @module
 */
import { asGatewayError, clientClosed, GatewayError, notFound } from "../http/errors.ts";
import type { KeyChoice, KeyPool, KindOrder } from "../pool/key_pool.ts";
import { kindOf } from "../pool/key_record.ts";
import { maskKey, redactKeys } from "../secrets/redact.ts";
import type { UsageCounter, UsageDelta } from "../pool/usage.ts";
import type { RuntimeSettings } from "../config/schema.ts";
import { abortableSleep } from "../util/sleep.ts";
import type { AffinityMap, AffinityRoute } from "./affinity.ts";
import { Deadlines } from "./deadlines.ts";
import type { OpenStreams } from "./open_streams.ts";
import type { RecordSink, RequestRecord } from "./request_record.ts";
import type { Forward, ForwardRequest, ForwardResult } from "./types.ts";
import { geminiTarget, type RequestSplit, type UpstreamTargets } from "./upstream.ts";
import { timeoutError, UpstreamTimeout } from "./upstream_body.ts";
import { fanOut } from "./fan_out.ts";
import type { AttemptEnd, ForwardObserver } from "./observer.ts";
import { answerBody, Call } from "./attempt_call.ts";
import { onSuccess } from "./attempt_success.ts";
import { callFailed, failedOutcome, finalError, noKeyError, onFailure } from "./attempt_failure.ts";
import type { RunState } from "./run_state.ts";

export { ERROR_BODY_CAP } from "./attempt_failure.ts";

/** The settings the pipeline reads (once per request). */
export type ForwarderSettings = Pick<
  RuntimeSettings,
  | "upstreamBaseUrl"
  | "maxAttempts"
  | "requestTimeoutMs"
  | "idleTimeoutMs"
  | "requestDeadlineMs"
  | "resendAfterTimeout"
  | "answerBufferBytes"
  | "defaultCooldownMs"
  | "maxWaitMs"
>;

/** What the pipeline needs. */
export interface ForwarderDeps {
  pool: KeyPool;
  settings: () => ForwarderSettings;
  affinity?: AffinityMap;
  usage?: UsageCounter;
  onRecord?: RecordSink;
  /** An HTTP client per key (upstream proxies), if any. */
  clientFor?: (keyId: string) => Deno.HttpClient | undefined;
  /** Told when a call could not reach the upstream (so a failing proxy can be skipped). */
  onNetworkError?: (keyId: string, error: unknown) => void;
  /** Refuses (throws a GatewayError) a model the client token may not use, by any of its names. */
  admitModel?: (tokenName: string | undefined, names: readonly string[]) => void;
  /** Where streams in flight are registered, so a shutdown can record the ones it cuts. */
  openStreams?: OpenStreams;
  /** The upstream of each key kind (default: Gemini API keys only, at `upstreamBaseUrl`). */
  upstream?: Partial<UpstreamTargets>;
  /**
   * The key kinds that may serve a request, in order (default: Gemini API keys only).
   *
   * @throws {GatewayError} when no key in the pool is of a kind that can serve it.
   */
  kindsFor?: (req: ForwardRequest) => KindOrder;
  /** Told when a request is refused because no key can serve its model (`freeAt` Infinity: none will). */
  onNoKey?: (model: string, info: { freeAt: number; reason: string }) => void;
  /**
   * Masks secrets in upstream text before it is answered, logged or kept as a key's reason (default:
   * secret shapes only; the gateway passes a `Redactor` that knows every pool key and client token).
   */
  redact?: (text: string) => string;
  /** Metrics and traces: told of every attempt and stream (`observer.ts`). */
  observer?: ForwardObserver;
}

/** Methods Google serves on its API paths; others get 405 before any key is used. */
export const UPSTREAM_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
]);
/** Upstream paths the gateway forwards: Google's API prefixes. */
const API_PATH = /^\/(?:upload\/|download\/)?v1(?:beta|alpha)?\//;
/** Dot segments, empty segments, backslashes and encoded dots or slashes: paths that could leave the prefix. */
const UNSAFE_PATH = /\/\.\.?(?:\/|$)|\/\/|\\|%2e|%2f|%5c/i;

/** Builds the pipeline function for the given dependencies. */
export function createForwarder(deps: ForwarderDeps): Forward {
  const deadlines = new Deadlines();
  const gemini = geminiTarget(() => deps.settings().upstreamBaseUrl);
  const withUpstream = { ...deps, upstream: { gemini, ...deps.upstream } };
  return function forward(req: ForwardRequest): Promise<ForwardResult> {
    return new ForwardRun(withUpstream, deadlines, req).run();
  };
}

/**
 * True when `fetch` refused a request locally (a forbidden method, an invalid header, URL or body)
 * rather than failing to reach the upstream: Deno throws these as a `TypeError` without a cause,
 * while network failures ("fetch failed", "error sending request for url …") carry one or say so.
 */
function localFetchError(e: unknown): boolean {
  return e instanceof TypeError && e.cause === undefined &&
    /forbidden|invalid|not valid|cannot have (a )?body/i.test(e.message) &&
    !/error sending request/i.test(e.message);
}

/** True for a 2xx answer that cannot be Gemini's (an HTML page from a proxy or captive portal). */
function foreignSuccess(res: Response): boolean {
  return /^text\/html\b/i.test(res.headers.get("content-type") ?? "");
}

/**
 * One request's way through the pipeline: its record, the keys it tried, the last failure. The attempt's
 * steps (`attempt_success.ts`, `attempt_failure.ts`) read and update it as a {@link RunState}; its other
 * members are its own.
 */
class ForwardRun implements RunState {
  readonly deps: ForwarderDeps;
  readonly deadlines: Deadlines;
  readonly req: ForwardRequest;
  readonly settings: ForwarderSettings;
  readonly #t0 = performance.now();
  /** `performance.now()` when the request's overall deadline passes (Infinity: none). */
  readonly #deadlineAt: number;
  readonly signal: AbortSignal;
  /** Per-model cooldowns key on this; `*` for calls that name no model. */
  readonly model: string;
  readonly rec: RequestRecord;
  /** Where the resources the request names live (set when the run starts). */
  route: AffinityRoute = {};
  /** The key kinds that may serve the request, in order (set when the run starts). */
  kinds?: KindOrder;
  readonly #tried = new Set<string>();
  readonly redact: (text: string) => string;
  last?: GatewayError;
  /** The upstream said the request itself is wrong (not the key's fault). */
  clientError = false;
  #waited = 0;
  /** Pause before the next attempt (after Google said the model is overloaded). */
  pause = 0;
  overloads = 0;
  /** Ends the observer's view of the attempt in flight (`now`: the step's `performance.now()`). */
  #ended?: (end: Omit<AttemptEnd, "elapsedMs">, now?: number) => void;
  /** The attempt in flight, so that a shutdown can end it. */
  #call?: Call;
  /** Set when a shutdown cut the request before its answer started: every later step ends with it. */
  cut?: GatewayError;
  /** True once the record was written (it is written once). */
  #recorded = false;

  /** Set on a part of a split request: its first key (already chosen), and no record of its own. */
  readonly #part?: { first?: KeyChoice };

  constructor(deps: ForwarderDeps, deadlines: Deadlines, req: ForwardRequest, part?: { first?: KeyChoice }) {
    this.deps = deps;
    this.#part = part;
    this.redact = deps.redact ?? redactKeys;
    this.deadlines = deadlines;
    this.req = req;
    this.settings = deps.settings();
    this.#deadlineAt = this.settings.requestDeadlineMs > 0
      ? this.#t0 + this.settings.requestDeadlineMs
      : Infinity;
    this.signal = req.signal ?? new AbortController().signal;
    this.model = req.model ?? "*";
    this.rec = {
      time: Date.now(),
      route: req.route,
      method: req.method,
      path: req.path,
      clientMethod: req.client?.method,
      clientPath: req.client?.path,
      clientModel: req.clientModel,
      model: req.model,
      tokenName: req.tokenName,
      source: req.client?.address,
      status: 0,
      latencyMs: 0,
      attempts: 0,
      stream: !!req.stream,
    };
  }

  async run(): Promise<ForwardResult> {
    // Until its answer starts (and a stream registers itself), a shutdown cuts and records the request here.
    const unregister = this.deps.openStreams?.add({ cut: (reason) => this.#cutWaiting(reason) });
    try {
      this.#check();
      const req = this.req;
      this.deps.admitModel?.(req.tokenName, req.modelNames ?? (req.model ? [req.model] : []));
      this.route = this.deps.affinity?.route(req) ?? {};
      this.kinds = this.deps.kindsFor?.(req);
      while (this.rec.attempts < this.settings.maxAttempts) {
        const choice = await this.chooseKey();
        if (!choice) break;
        if (this.pause) await this.#sleep(this.pause);
        const served = await this.attempt(choice);
        if (served) return served;
      }
      throw finalError(this);
    } catch (e) {
      const err = asGatewayError(e);
      this.end({ outcome: err.status >= 500 ? "server_error" : "client_error", status: err.status });
      if (this.#recorded) throw err;
      this.rec.status = err.status;
      this.rec.latencyMs = this.elapsed();
      this.rec.error = this.redact(err.options.upstreamText ?? JSON.stringify(err.toGoogle()));
      this.rec.outcome = failedOutcome(this, err);
      this.rec.refusal = err.options.refusal;
      this.finish({});
      err.recorded = true;
      throw err;
    } finally {
      unregister?.();
    }
  }

  /**
   * A shutdown's grace period ended while the request waited for its answer (a stream thinking before
   * its first byte, a unary call): record it as cut (503) now, then end the attempt in flight. Not the
   * key's fault: nothing is charged.
   */
  #cutWaiting(reason: string): void {
    if (this.#recorded) return;
    this.cut = new GatewayError(503, reason, { headers: { "retry-after": "1" } });
    this.rec.status = 503;
    this.rec.latencyMs = this.elapsed();
    this.rec.error = reason;
    this.finish({});
    this.#call?.ctl.abort(this.cut);
  }

  /**
   * Refuses what must never reach a key: methods Google does not serve (405), paths outside Google's
   * API prefixes or that could leave them once normalised (404). Nothing is charged to any key.
   */
  #check(): void {
    const { method, path } = this.req;
    if (!UPSTREAM_METHODS.has(method.toUpperCase())) {
      throw new GatewayError(
        405,
        `Method ${method} is not served by the Gemini API; use GET, POST, PATCH or DELETE.`,
        {
          headers: { allow: [...UPSTREAM_METHODS].join(", ") },
          googleStatus: "UNIMPLEMENTED",
        },
      );
    }
    if (!API_PATH.test(path) || UNSAFE_PATH.test(path)) {
      throw notFound(
        `No Gemini API path ${path}. Gemini paths start with /v1beta/ (or /v1/, /v1alpha/, /upload/v1beta/) and have no '.', '..' or empty segments.`,
      );
    }
  }

  /** Ms left before the overall deadline (Infinity when there is none). */
  left(now: number = performance.now()): number {
    return this.#deadlineAt - now;
  }

  /** Waits `ms` (cut short by the deadline); throws 499 when the client leaves meanwhile. */
  async #sleep(ms: number): Promise<void> {
    const wait = Math.max(0, Math.min(ms, this.left()));
    if (!await abortableSleep(wait, this.signal)) throw clientClosed();
    this.pause = 0;
  }

  /**
   * The key for the next attempt: the pinned key (a resource's owner), or the pool's choice (the
   * client's home key first, while it can serve); waits up to `maxWaitMs` for a cooling key when
   * nothing failed yet.
   *
   * @returns undefined when no key is left and an earlier attempt failed (its error is the answer).
   * @throws {GatewayError} 404 when the pinned key is gone; 429 (quota), 503 (backoff, disabled, no
   *   keys) or Google's own answer (no access) when no key can serve at all.
   */
  async chooseKey(): Promise<KeyChoice | undefined> {
    const { pool } = this.deps;
    if (this.left() <= 0) {
      if (this.last) return undefined;
      throw timeoutError(new UpstreamTimeout("deadline", this.settings.requestDeadlineMs), { sent: false });
    }
    const first = this.#part?.first;
    if (first) {
      this.#part!.first = undefined;
      return this.#take(first);
    }
    const { pinned, preferred } = this.route;
    if (pinned) {
      const r = pool.get(pinned);
      if (!r) throw notFound("The key that created this resource was removed from the pool.");
      return this.#take({ id: r.id, key: r.key, kind: kindOf(r) });
    }
    for (;;) {
      const pick = this.#pick(preferred);
      if (!("freeAt" in pick)) return this.#take(pick);
      const wait = pick.freeAt - Date.now();
      if (
        !this.last && Number.isFinite(wait) && wait <= this.settings.maxWaitMs - this.#waited &&
        wait < this.left()
      ) {
        if (!await abortableSleep(Math.max(wait, 1), this.signal)) throw clientClosed();
        this.#waited += wait;
        continue;
      }
      if (this.deps.onNoKey) {
        // Tell the operator only when no key at all can serve the model now (not just this request's).
        const free = pool.nextFreeAt(this.model, this.kinds);
        if (free > Date.now()) {
          this.deps.onNoKey(this.model, {
            freeAt: free,
            reason: pool.noKeyReason(this.model, this.kinds),
          });
        }
      }
      if (this.last) return undefined;
      throw noKeyError(pick, wait);
    }
  }

  /** The pool's choice, leaving out the request's `avoidKeyId` when another key can serve. */
  #pick(preferred?: string): ReturnType<KeyPool["pick"]> {
    const { pool } = this.deps;
    const avoid = this.req.avoidKeyId;
    const options = { prefer: preferred, kinds: this.kinds };
    if (avoid && !this.#tried.has(avoid)) {
      const other = pool.pick(this.model, new Set([...this.#tried, avoid]), options);
      if (!("freeAt" in other)) return other;
    }
    return pool.pick(this.model, this.#tried, options);
  }

  #take(choice: KeyChoice): KeyChoice {
    this.#tried.add(choice.id);
    this.rec.attempts++;
    this.rec.keyId = choice.id;
    const end = this.deps.observer?.attempt?.({
      keyId: choice.id,
      keyMasked: maskKey(choice.key),
      model: this.req.model,
      route: this.req.route,
      attempt: this.rec.attempts,
      pinned: !!this.route.pinned,
      waitedMs: this.#waited,
    });
    this.#ended = end && ((e, now) => end({ ...e, elapsedMs: this.elapsed(now) }));
    return choice;
  }

  /** Tells the observer how the attempt in flight ended (once); `now`: the step's `performance.now()`. */
  end(e: Omit<AttemptEnd, "elapsedMs">, now?: number): void {
    const ended = this.#ended;
    this.#ended = undefined;
    ended?.(e, now);
  }

  /**
   * Sends the request upstream with one key, within `requestTimeoutMs` (and the request's deadline)
   * for the answer's headers.
   *
   * @returns the served result, or undefined when another key may try (the failure is recorded).
   * @throws {GatewayError} the final answer: the client's own error, a timeout, or 499 when the client went away.
   */
  async attempt(choice: KeyChoice): Promise<ForwardResult | undefined> {
    const { requestTimeoutMs } = this.settings;
    const target = this.deps.upstream?.[choice.kind];
    if (!target) throw new GatewayError(500, `No upstream is configured for ${choice.kind} keys.`);
    const split = target.split?.(this.req);
    if (split) return await this.#fanOut(choice, split);
    if (this.cut) throw this.cut;
    const now = performance.now();
    const call = this.#call = new Call(choice, this.signal, now);
    const left = this.left(now);
    const deadline = left < requestTimeoutMs || requestTimeoutMs === 0;
    const ms = Math.min(left, requestTimeoutMs || Infinity);
    // The start timer runs until the answer starts: its headers, and for a stream its first bytes
    // (Google may send a stream's headers at once and think for minutes before the first event).
    // Its error is built only when it fires (an Error captures a stack: µs on every request).
    const cancel = Number.isFinite(ms)
      ? this.deadlines.add(ms, () =>
        call.ctl.abort(
          deadline
            ? new UpstreamTimeout("deadline", this.settings.requestDeadlineMs)
            : new UpstreamTimeout("headers", requestTimeoutMs),
        ), now)
      : () => {};
    let res: Response;
    try {
      res = await target.send({
        request: this.req,
        key: choice.key,
        signal: call.signal,
        client: this.deps.clientFor?.(choice.id),
      });
    } catch (e) {
      cancel();
      call.release();
      if (!call.signal.aborted && localFetchError(e)) {
        // `fetch` refused the request itself: it never left the gateway, so it is no key's fault.
        throw new GatewayError(400, `The request cannot be sent upstream: ${(e as Error).message}.`, {
          cause: e,
        });
      }
      return callFailed(this, call, call.signal.aborted ? call.signal.reason : e);
    }
    if (!this.req.stream || !res.ok) cancel();
    if (!res.ok) {
      try {
        await onFailure(this, call, res);
      } finally {
        call.release();
      }
      return undefined;
    }
    if (foreignSuccess(res)) {
      cancel();
      const text = await answerBody(this, call, res).text(200);
      call.release();
      return callFailed(
        this,
        call,
        new Error(`a ${res.status} answer that is not Gemini's (${text.slice(0, 80)})`),
      );
    }
    try {
      return await onSuccess(this, call, res);
    } finally {
      cancel();
    }
  }

  /**
   * A request the chosen key's service takes in several calls (`fan_out.ts`): each part runs as a
   * request of its own (a `ForwardRun` without a record of its own); this request's record counts
   * their attempts.
   *
   * @throws {GatewayError} the error of the first part that failed for good.
   */
  async #fanOut(choice: KeyChoice, split: RequestSplit): Promise<ForwardResult> {
    const answer = await fanOut({
      split,
      first: choice,
      signal: this.signal,
      runPart: (request, first) => new ForwardRun(this.deps, this.deadlines, request, { first }).run(),
      countAttempts: (attempts) => this.rec.attempts += Math.max(0, attempts - 1),
    });
    this.rec.status = 200;
    this.rec.latencyMs = this.elapsed();
    this.finish({});
    return { keyId: choice.id, attempts: this.rec.attempts, response: Response.json(answer) };
  }

  /** Ms since the request arrived, at `now` (`performance.now()`). */
  elapsed(now: number = performance.now()): number {
    return Math.round(now - this.#t0);
  }

  count(keyId: string, delta: UsageDelta): void {
    this.deps.usage?.count({ keyId, model: this.req.model, tokenName: this.req.tokenName }, delta);
  }

  /**
   * Reports the finished request; a success is counted here together with its tokens (one usage update).
   * A part of a split request counts its usage but leaves the record to the whole request.
   */
  finish(tokens: { inputTokens?: number; outputTokens?: number }, served = false): void {
    if (this.#recorded) return;
    this.#recorded = true;
    const rec = this.rec;
    Object.assign(rec, tokens);
    rec.outcome ??= rec.status === 499 ? "cancelled" : "ok";
    if (served && rec.keyId) {
      this.count(rec.keyId, {
        requests: 1,
        ok: 1,
        inputTokens: tokens.inputTokens,
        outputTokens: tokens.outputTokens,
      });
    }
    if (!this.#part) this.deps.onRecord?.(rec);
  }
}
