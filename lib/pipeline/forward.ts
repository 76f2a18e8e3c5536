/**
 * The one request pipeline: choose a key, send upstream, classify the outcome, retry on another key,
 * stream the answer through, and report usage and a log record. Every edge calls it (through
 * `GeminiClient`); they differ only in how they parse requests and format answers.
 *
 * One request runs these named steps until it is served or gives up:
 * {@link ForwardRun.chooseKey} -> {@link ForwardRun.attempt} -> {@link ForwardRun.onSuccess} or
 * {@link ForwardRun.onFailure} (which decides whether the next key is tried).
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
import { asGatewayError, badGateway, clientClosed, GatewayError, notFound } from "../http/errors.ts";
import { type GoogleErrorBody, parseGoogleError } from "../gemini/rpc_status.ts";
import { classify } from "../pool/classify.ts";
import type { KeyChoice, KeyPool, KindOrder, NoKey } from "../pool/key_pool.ts";
import { kindOf } from "../pool/key_record.ts";
import { maskKey, redactKeys } from "../secrets/redact.ts";
import type { UsageCounter, UsageDelta } from "../pool/usage.ts";
import type { RuntimeSettings } from "../config/schema.ts";
import { abortableSleep } from "../util/sleep.ts";
import type { AffinityMap, AffinityRoute } from "./affinity.ts";
import { Deadlines } from "./deadlines.ts";
import type { OpenStreams } from "./open_streams.ts";
import type { Outcome, RecordSink, RequestRecord } from "./request_record.ts";
import { usageFromTail } from "./request_record.ts";
import type { Forward, ForwardRequest, ForwardResult } from "./types.ts";
import { geminiTarget, type RequestSplit, type UpstreamTargets } from "./upstream.ts";
import { BodyFailure, concatBytes, timeoutError, UpstreamBody, UpstreamTimeout } from "./upstream_body.ts";
import { relayAnswer } from "./stream_relay.ts";
import { fanOut } from "./fan_out.ts";
import { type AttemptEnd, type ForwardObserver, outcomeOf } from "./observer.ts";
import { clientHeaders } from "./client_headers.ts";

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

/** Google's error bodies are a few KiB; anything beyond this is not read. */
export const ERROR_BODY_CAP = 64 * 1024;
/** First pause before retrying after Google said the model is overloaded (doubles per attempt, up to 2 s). */
const OVERLOAD_PAUSE_MS = 250;
const OVERLOAD_PAUSE_MAX_MS = 2_000;
/** `Retry-After` (seconds) on the 503 answered when Google stays overloaded. */
const OVERLOAD_RETRY_AFTER_S = 5;

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

/** One decoder for whole texts (a `TextDecoder` per request is an allocation per request). */
const UTF8 = new TextDecoder();

/** An attempt's reason when it served (no secret to mask). */
const SERVED = "served";

/** Google's resumable upload session URLs (upload; query and cancel), rewritten to the gateway. */
const UPLOAD_SESSION_URLS = ["x-goog-upload-url", "x-goog-upload-control-url"] as const;

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

/** One attempt's upstream call: its abort controller, linked to the client's signal until released. */
class Call {
  readonly ctl = new AbortController();
  readonly started: number;
  #unlink: () => void;

  /** @param now `performance.now()` as the attempt starts. */
  constructor(client: AbortSignal, now: number) {
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

/** One request's way through the pipeline: its record, the keys it tried, the last failure. */
class ForwardRun {
  readonly #deps: ForwarderDeps;
  readonly #deadlines: Deadlines;
  readonly #req: ForwardRequest;
  readonly #s: ForwarderSettings;
  readonly #t0 = performance.now();
  /** `performance.now()` when the request's overall deadline passes (Infinity: none). */
  readonly #deadlineAt: number;
  readonly #signal: AbortSignal;
  /** Per-model cooldowns key on this; `*` for calls that name no model. */
  readonly #model: string;
  readonly #rec: RequestRecord;
  /** Where the resources the request names live (set when the run starts). */
  #route: AffinityRoute = {};
  /** The key kinds that may serve the request, in order (set when the run starts). */
  #kinds?: KindOrder;
  readonly #tried = new Set<string>();
  readonly #redact: (text: string) => string;
  #last?: GatewayError;
  /** The upstream said the request itself is wrong (not the key's fault). */
  #clientError = false;
  #waited = 0;
  /** Pause before the next attempt (after Google said the model is overloaded). */
  #pause = 0;
  #overloads = 0;
  /** Ends the observer's view of the attempt in flight (`now`: the step's `performance.now()`). */
  #ended?: (end: Omit<AttemptEnd, "elapsedMs">, now?: number) => void;
  /** The attempt in flight, so that a shutdown can end it. */
  #call?: Call;
  /** Set when a shutdown cut the request before its answer started: every later step ends with it. */
  #cut?: GatewayError;
  /** True once the record was written (it is written once). */
  #recorded = false;

  /** Set on a part of a split request: its first key (already chosen), and no record of its own. */
  readonly #part?: { first?: KeyChoice };

  constructor(deps: ForwarderDeps, deadlines: Deadlines, req: ForwardRequest, part?: { first?: KeyChoice }) {
    this.#deps = deps;
    this.#part = part;
    this.#redact = deps.redact ?? redactKeys;
    this.#deadlines = deadlines;
    this.#req = req;
    this.#s = deps.settings();
    this.#deadlineAt = this.#s.requestDeadlineMs > 0 ? this.#t0 + this.#s.requestDeadlineMs : Infinity;
    this.#signal = req.signal ?? new AbortController().signal;
    this.#model = req.model ?? "*";
    this.#rec = {
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
    const unregister = this.#deps.openStreams?.add({ cut: (reason) => this.#cutWaiting(reason) });
    try {
      this.#check();
      const req = this.#req;
      this.#deps.admitModel?.(req.tokenName, req.modelNames ?? (req.model ? [req.model] : []));
      this.#route = this.#deps.affinity?.route(req) ?? {};
      this.#kinds = this.#deps.kindsFor?.(req);
      while (this.#rec.attempts < this.#s.maxAttempts) {
        const choice = await this.chooseKey();
        if (!choice) break;
        if (this.#pause) await this.#sleep(this.#pause);
        const served = await this.attempt(choice);
        if (served) return served;
      }
      throw this.#finalError();
    } catch (e) {
      const err = asGatewayError(e);
      this.#end({ outcome: err.status >= 500 ? "server_error" : "client_error", status: err.status });
      if (this.#recorded) throw err;
      this.#rec.status = err.status;
      this.#rec.latencyMs = this.#elapsed();
      this.#rec.error = this.#redact(err.options.upstreamText ?? JSON.stringify(err.toGoogle()));
      this.#rec.outcome = this.#outcome(err);
      this.#rec.refusal = err.options.refusal;
      this.#finish({});
      err.recorded = true;
      throw err;
    } finally {
      unregister?.();
    }
  }

  /** How a failed request ended: refused by the gateway, the client's mistake, rate limited or failed. */
  #outcome(err: GatewayError): Outcome {
    const status: number = err.status;
    if (err.options.refusal) return "refused";
    if (status === 499) return "cancelled";
    if (status === 429) return "rate_limited";
    if (this.#clientError || (status === 404 && !err.options.upstream)) return "client_error";
    return "error";
  }

  /**
   * A shutdown's grace period ended while the request waited for its answer (a stream thinking before
   * its first byte, a unary call): record it as cut (503) now, then end the attempt in flight. Not the
   * key's fault: nothing is charged.
   */
  #cutWaiting(reason: string): void {
    if (this.#recorded) return;
    this.#cut = new GatewayError(503, reason, { headers: { "retry-after": "1" } });
    this.#rec.status = 503;
    this.#rec.latencyMs = this.#elapsed();
    this.#rec.error = reason;
    this.#finish({});
    this.#call?.ctl.abort(this.#cut);
  }

  /**
   * Refuses what must never reach a key: methods Google does not serve (405), paths outside Google's
   * API prefixes or that could leave them once normalised (404). Nothing is charged to any key.
   */
  #check(): void {
    const { method, path } = this.#req;
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
  #left(now: number = performance.now()): number {
    return this.#deadlineAt - now;
  }

  /** Waits `ms` (cut short by the deadline); throws 499 when the client leaves meanwhile. */
  async #sleep(ms: number): Promise<void> {
    const wait = Math.max(0, Math.min(ms, this.#left()));
    if (!await abortableSleep(wait, this.#signal)) throw clientClosed();
    this.#pause = 0;
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
    const { pool } = this.#deps;
    if (this.#left() <= 0) {
      if (this.#last) return undefined;
      throw timeoutError(new UpstreamTimeout("deadline", this.#s.requestDeadlineMs), { sent: false });
    }
    const first = this.#part?.first;
    if (first) {
      this.#part!.first = undefined;
      return this.#take(first);
    }
    const { pinned, preferred } = this.#route;
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
        !this.#last && Number.isFinite(wait) && wait <= this.#s.maxWaitMs - this.#waited &&
        wait < this.#left()
      ) {
        if (!await abortableSleep(Math.max(wait, 1), this.#signal)) throw clientClosed();
        this.#waited += wait;
        continue;
      }
      if (this.#deps.onNoKey) {
        // Tell the operator only when no key at all can serve the model now (not just this request's).
        const free = pool.nextFreeAt(this.#model, this.#kinds);
        if (free > Date.now()) {
          this.#deps.onNoKey(this.#model, {
            freeAt: free,
            reason: pool.noKeyReason(this.#model, this.#kinds),
          });
        }
      }
      if (this.#last) return undefined;
      throw this.#noKeyError(pick, wait);
    }
  }

  /** The answer when no key can serve: the real reason, with `Retry-After` when a wait is known. */
  #noKeyError(pick: NoKey, wait: number): GatewayError {
    const retryAfter = Number.isFinite(wait)
      ? { "retry-after": String(Math.max(1, Math.ceil(wait / 1000))) }
      : undefined;
    const message = `No key can serve this request: ${pick.reason}.`;
    if (pick.why === "no_access") {
      const answer = pick.answer;
      const upstream = answer ? parseGoogleError(answer.text) : null;
      if (answer && upstream) {
        return new GatewayError(answer.status, upstream.error.message, {
          upstream,
          upstreamText: answer.text,
        });
      }
      return new GatewayError(429, message, { googleStatus: "RESOURCE_EXHAUSTED" });
    }
    if (pick.why === "quota" || (pick.why === undefined && Number.isFinite(wait))) {
      return new GatewayError(429, message, { headers: retryAfter, googleStatus: "RESOURCE_EXHAUSTED" });
    }
    return new GatewayError(503, message, { headers: retryAfter, googleStatus: "UNAVAILABLE" });
  }

  /** The pool's choice, leaving out the request's `avoidKeyId` when another key can serve. */
  #pick(preferred?: string): ReturnType<KeyPool["pick"]> {
    const { pool } = this.#deps;
    const avoid = this.#req.avoidKeyId;
    const options = { prefer: preferred, kinds: this.#kinds };
    if (avoid && !this.#tried.has(avoid)) {
      const other = pool.pick(this.#model, new Set([...this.#tried, avoid]), options);
      if (!("freeAt" in other)) return other;
    }
    return pool.pick(this.#model, this.#tried, options);
  }

  #take(choice: KeyChoice): KeyChoice {
    this.#tried.add(choice.id);
    this.#rec.attempts++;
    this.#rec.keyId = choice.id;
    const end = this.#deps.observer?.attempt?.({
      keyId: choice.id,
      keyMasked: maskKey(choice.key),
      model: this.#req.model,
      route: this.#req.route,
      attempt: this.#rec.attempts,
      pinned: !!this.#route.pinned,
      waitedMs: this.#waited,
    });
    this.#ended = end && ((e, now) => end({ ...e, elapsedMs: this.#elapsed(now) }));
    return choice;
  }

  /** Tells the observer how the attempt in flight ended (once); `now`: the step's `performance.now()`. */
  #end(e: Omit<AttemptEnd, "elapsedMs">, now?: number): void {
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
    const { requestTimeoutMs } = this.#s;
    const target = this.#deps.upstream?.[choice.kind];
    if (!target) throw new GatewayError(500, `No upstream is configured for ${choice.kind} keys.`);
    const split = target.split?.(this.#req);
    if (split) return await this.#fanOut(choice, split);
    if (this.#cut) throw this.#cut;
    const now = performance.now();
    const call = this.#call = new Call(this.#signal, now);
    const left = this.#left(now);
    const deadline = left < requestTimeoutMs || requestTimeoutMs === 0;
    const ms = Math.min(left, requestTimeoutMs || Infinity);
    // The start timer runs until the answer starts: its headers, and for a stream its first bytes
    // (Google may send a stream's headers at once and think for minutes before the first event).
    // Its error is built only when it fires (an Error captures a stack: µs on every request).
    const cancel = Number.isFinite(ms)
      ? this.#deadlines.add(ms, () =>
        call.ctl.abort(
          deadline
            ? new UpstreamTimeout("deadline", this.#s.requestDeadlineMs)
            : new UpstreamTimeout("headers", requestTimeoutMs),
        ), now)
      : () => {};
    let res: Response;
    try {
      res = await target.send({
        request: this.#req,
        key: choice.key,
        signal: call.signal,
        client: this.#deps.clientFor?.(choice.id),
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
      return this.#callFailed(choice, call, call.signal.aborted ? call.signal.reason : e);
    }
    if (!this.#req.stream || !res.ok) cancel();
    if (!res.ok) {
      try {
        await this.onFailure(choice, res, call);
      } finally {
        call.release();
      }
      return undefined;
    }
    if (foreignSuccess(res)) {
      cancel();
      const text = await this.#body(res, call).text(200);
      call.release();
      return this.#callFailed(
        choice,
        call,
        new Error(`a ${res.status} answer that is not Gemini's (${text.slice(0, 80)})`),
      );
    }
    try {
      return await this.onSuccess(choice, res, call);
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
      signal: this.#signal,
      runPart: (request, first) => new ForwardRun(this.#deps, this.#deadlines, request, { first }).run(),
      countAttempts: (attempts) => this.#rec.attempts += Math.max(0, attempts - 1),
    });
    this.#rec.status = 200;
    this.#rec.latencyMs = this.#elapsed();
    this.#finish({});
    return { keyId: choice.id, attempts: this.#rec.attempts, response: Response.json(answer) };
  }

  /**
   * A call that failed without a usable answer: a timer, the client leaving, or the connection.
   *
   * @returns undefined when another key may try.
   * @throws {GatewayError} 499 (client gone), 504 (timeout, unless `resendAfterTimeout`).
   */
  #callFailed(choice: KeyChoice, call: Call, e: unknown): undefined {
    if (this.#cut) throw this.#cut;
    if (this.#signal.aborted) {
      this.#end({ outcome: "client_error" });
      throw clientClosed();
    }
    const timeout = e instanceof UpstreamTimeout
      ? e
      : e instanceof BodyFailure && e.cause instanceof UpstreamTimeout
      ? e.cause
      : undefined;
    const err = timeout ? timeoutError(timeout, { sent: true }) : badGateway(
      e instanceof BodyFailure
        ? `The upstream's answer broke off: ${this.#redact(e.message)}`
        : `Could not reach the upstream: ${this.#redact(String(e))}`,
      e,
    );
    if (!timeout && !(e instanceof BodyFailure)) this.#deps.onNetworkError?.(choice.id, e);
    this.#end({ outcome: timeout ? "timeout" : "network" });
    this.#deps.pool.report(choice.id, this.#model, { kind: "transient", reason: err.message });
    this.#count(choice.id, { requests: 1, errors: 1 });
    this.#try(choice, call, err.status, err.message);
    this.#last = err;
    if (timeout && (timeout.what === "deadline" || !this.#s.resendAfterTimeout)) throw err;
    return undefined;
  }

  /** Records an attempt's end (`now`: the step's `performance.now()`). */
  #try(choice: KeyChoice, call: Call, status: number, reason: string, now?: number): void {
    (this.#rec.tries ??= []).push({
      keyId: choice.id,
      status,
      reason: reason === SERVED ? reason : this.#redact(reason).slice(0, 300),
      ms: call.ms(now),
    });
  }

  /**
   * A 2xx answer. A stream is handed over once its first bytes arrived (within the attempt's start
   * timer, `REQUEST_TIMEOUT_MS`); a unary answer once it was read whole (up to `answerBufferBytes`; larger ones stream through). Until then a broken
   * connection lets another key try; the key's success is counted when the answer has ended.
   */
  async onSuccess(choice: KeyChoice, res: Response, call: Call): Promise<ForwardResult | undefined> {
    const response = res;
    if (!response.body) {
      call.release();
      return this.#served(choice, call, response, new Uint8Array());
    }
    const body = this.#body(response, call, { tail: this.#req.stream === true });
    if (this.#req.stream) {
      const first = await this.#readHeld(choice, call, body, { idle: false });
      if (first === undefined) return undefined;
      if (first === null) {
        return this.#callFailed(
          choice,
          call,
          new BodyFailure("broken", 0, "the stream ended before its first byte"),
        );
      }
      call.release();
      this.#learnResources(response, choice.id);
      return this.#relay(choice, call, response, body, [first]);
    }
    const now = performance.now();
    const left = this.#left(now);
    if (body.wholeLength(this.#s.answerBufferBytes) !== undefined) {
      const bytes = await this.#readWhole(choice, call, body, { leftMs: left, now });
      if (bytes === undefined) return undefined;
      call.release();
      return this.#served(choice, call, response, bytes);
    }
    const chunks: Uint8Array[] = [];
    const cancel = Number.isFinite(left)
      ? this.#deadlines.add(
        left,
        () => call.ctl.abort(new UpstreamTimeout("deadline", this.#s.requestDeadlineMs)),
        now,
      )
      : undefined;
    try {
      for (;;) {
        const chunk = await this.#readHeld(choice, call, body);
        if (chunk === undefined) return undefined;
        if (chunk === null) break;
        // A small piece of a larger read buffer is kept as an exact copy, not with its whole buffer.
        chunks.push(chunk.length < chunk.buffer.byteLength / 2 ? chunk.slice() : chunk);
        if (body.bytes > this.#s.answerBufferBytes) {
          call.release();
          if (!this.#req.passThrough) throw this.#tooLarge(choice, call, body);
          this.#learnResources(response, choice.id);
          body.keepTail(chunks);
          return { ...this.#relay(choice, call, response, body, chunks), streamedThrough: true };
        }
      }
    } finally {
      cancel?.();
    }
    call.release();
    return this.#served(choice, call, response, concatBytes(chunks, body.bytes));
  }

  /**
   * The error for a unary answer over `answerBufferBytes` that the edge would have to hold whole to
   * translate it: the upstream socket is closed; not the key's fault, not sent again (it was generated).
   */
  #tooLarge(choice: KeyChoice, call: Call, body: UpstreamBody): GatewayError {
    body.cancel();
    const err = new GatewayError(
      502,
      `The upstream's answer is larger than ANSWER_BUFFER_BYTES (${this.#s.answerBufferBytes} bytes), which this route must hold whole to translate it; raise ANSWER_BUFFER_BYTES or use the native Gemini route, which streams large answers through.`,
      { headers: { "x-should-retry": "false" } },
    );
    this.#try(choice, call, err.status, err.message);
    return err;
  }

  /**
   * An answer's body, read under the attempt's timers (`IDLE_TIMEOUT_MS` between bytes); `tail`: keep
   * its last bytes as it is read (streams; default no).
   */
  #body(res: Response, call: Call, o: { tail?: boolean } = {}): UpstreamBody {
    return new UpstreamBody(res, {
      deadlines: this.#deadlines,
      idleMs: this.#s.idleTimeoutMs,
      abort: (reason) => call.ctl.abort(reason),
      signal: call.signal,
      tail: o.tail ?? false,
    });
  }

  /**
   * Reads one chunk of an answer the client has not seen yet.
   *
   * @returns the chunk; null at the end of the body; undefined when the connection broke and another
   *   key may try.
   * @throws {GatewayError} 504 after a timeout (unless `resendAfterTimeout`), 499 when the client left.
   */
  async #readHeld(
    choice: KeyChoice,
    call: Call,
    body: UpstreamBody,
    o: { idle: boolean } = { idle: true },
  ): Promise<Uint8Array | null | undefined> {
    try {
      return await body.read(o) ?? null;
    } catch (e) {
      call.release();
      body.cancel();
      return this.#callFailed(choice, call, e);
    }
  }

  /**
   * Reads a small answer the client has not seen yet whole ({@link UpstreamBody.whole}).
   *
   * @returns its bytes; undefined when the connection broke and another key may try.
   * @throws {GatewayError} 504 after a timeout (unless `resendAfterTimeout`), 499 when the client left.
   */
  async #readWhole(
    choice: KeyChoice,
    call: Call,
    body: UpstreamBody,
    o: { leftMs: number; now: number },
  ): Promise<Uint8Array<ArrayBuffer> | undefined> {
    try {
      return await body.whole({ ...o, deadlineMs: this.#s.requestDeadlineMs });
    } catch (e) {
      call.release();
      body.cancel();
      return this.#callFailed(choice, call, e);
    }
  }

  /** A unary answer read whole: the key served; usage comes from its tail. */
  #served(choice: KeyChoice, call: Call, response: Response, bytes: Uint8Array<ArrayBuffer>): ForwardResult {
    const now = performance.now();
    this.#end({ outcome: "ok", status: response.status }, now);
    this.#learnResources(response, choice.id, bytes);
    this.#deps.pool.report(choice.id, this.#model, { kind: "ok" });
    this.#try(choice, call, response.status, SERVED, now);
    this.#rec.status = response.status;
    this.#rec.latencyMs = this.#elapsed(now);
    this.#finish(
      usageFromTail(UTF8.decode(bytes.subarray(Math.max(0, bytes.length - 2048)))),
      true,
    );
    return {
      keyId: choice.id,
      attempts: this.#rec.attempts,
      response: new Response(bytes, { status: response.status, headers: this.#answerHeaders(response) }),
      body: bytes,
    };
  }

  /**
   * Hands the answer to the client as a stream that pulls from the upstream one chunk per read (no
   * chunk is queued or kept). How it ends decides the record: the upstream's end (the key served), a
   * break or stall after the first bytes (an error the client sees: Google's error event when the
   * SSE framing allows, else a broken body; the key is charged), the client leaving (499), or a
   * shutdown cutting it.
   */
  #relay(
    choice: KeyChoice,
    call: Call,
    res: Response,
    body: UpstreamBody,
    head: Uint8Array[],
  ): ForwardResult {
    const rec = this.#rec;
    const { pool, openStreams, observer } = this.#deps;
    rec.status = res.status;
    // The client gets its first byte now: the attempt served (a later break is the stream's record).
    this.#end({ outcome: "ok", status: res.status });
    const streamEnded = this.#req.stream ? observer?.stream?.(this.#req.route) : undefined;
    const relay = relayAnswer({
      body,
      head,
      contentType: res.headers.get("content-type") ?? "",
      status: res.status,
      redact: this.#redact,
      clientGone: () => this.#signal.aborted,
      defaultCooldownMs: this.#s.defaultCooldownMs,
      end: (outcome) => {
        unregister?.();
        streamEnded?.();
        const now = performance.now();
        rec.latencyMs = this.#elapsed(now);
        rec.status = outcome.status;
        if (outcome.error) rec.error = outcome.error;
        pool.report(choice.id, this.#model, outcome.verdict);
        this.#try(choice, call, outcome.status, outcome.error ?? SERVED, now);
        const tokens = usageFromTail(body.tail.text());
        if (outcome.ok) this.#finish(tokens, true);
        else {
          this.#count(choice.id, { requests: 1, errors: 1, ...tokens });
          this.#finish(tokens);
        }
        return true;
      },
    });
    const unregister = openStreams?.add({ cut: (reason) => relay.cut(reason) });
    return {
      keyId: choice.id,
      attempts: rec.attempts,
      response: new Response(relay.stream, { status: res.status, headers: this.#answerHeaders(res) }),
    };
  }

  /**
   * A non-2xx answer: classify it, tell the pool, count it, and decide whether another key may try.
   *
   * @throws {GatewayError} the upstream's error when no other key can help (the client's own error,
   *   or a pinned resource whose key failed for good).
   */
  async onFailure(choice: KeyChoice, res: Response, call: Call): Promise<void> {
    const { pool, clientFor, onNetworkError } = this.#deps;
    if (res.status === 407 && clientFor?.(choice.id)) {
      // The proxy, not Google, refused (plain-http upstreams see this as a response): skip that proxy.
      await res.body?.cancel();
      this.#last = badGateway(
        "The upstream proxy refused the request (407); check the credentials in PROXIES.",
      );
      onNetworkError?.(choice.id, new Error("proxy authentication required (407)"));
      this.#end({ outcome: "network", status: 407 });
      pool.report(choice.id, this.#model, { kind: "transient", reason: this.#last.message });
      this.#try(choice, call, 407, this.#last.message);
      return;
    }
    // Google quotes the key in some messages ("Consumer 'api_key:AIza…' has been suspended") and
    // echoes parts of the request (`Unknown name "…"`): mask every secret before anyone sees it.
    const text = res.body ? this.#redact(await this.#body(res, call).text(ERROR_BODY_CAP)) : "";
    if (this.#cut) throw this.#cut;
    const parsed = parseGoogleError(text);
    const body: GoogleErrorBody = parsed ??
      { error: { code: res.status, message: text.slice(0, 500) || res.statusText, status: res.statusText } };
    const verdict = classify({
      status: res.status,
      body,
      now: Date.now(),
      defaultCooldownMs: this.#s.defaultCooldownMs,
    });
    if (verdict.kind === "no_access") verdict.answer = { status: res.status, text };
    pool.report(choice.id, this.#model, verdict);
    this.#end({
      outcome: outcomeOf(verdict, res.status),
      status: res.status,
      cooldownUntil: verdict.kind === "cooldown" ? verdict.until : undefined,
    });
    this.#count(choice.id, { requests: 1, rateLimited: res.status === 429 ? 1 : 0, errors: 1 });
    this.#try(choice, call, res.status, body.error.message || res.statusText);
    if (verdict.kind === "disable") pool.patch(choice.id, { lastError: this.#redact(body.error.message) });
    const retryAfter = res.headers.get("retry-after");
    this.#last = new GatewayError(res.status, body.error.message, {
      upstream: body,
      upstreamText: parsed ? text : undefined,
      headers: retryAfter ? { "retry-after": retryAfter } : {},
    });
    if (verdict.kind === "overloaded") {
      this.#pause = verdict.retryAfterMs ??
        Math.min(OVERLOAD_PAUSE_MS * 2 ** this.#overloads, OVERLOAD_PAUSE_MAX_MS);
      this.#overloads++;
    }
    if (verdict.kind === "client_error") {
      this.#clientError = true;
      throw this.#last;
    }
    if (this.#route.pinned && verdict.kind !== "transient" && verdict.kind !== "overloaded") throw this.#last;
  }

  /** The error to answer when every attempt failed: the last upstream error (with Retry-After for 429s and 503s). */
  #finalError(): GatewayError {
    const last = this.#last;
    if (!last) return new GatewayError(503, "No key could serve this request.");
    const headers = last.options.headers ??= {};
    if (last.status === 429 && !headers["retry-after"]) {
      const free = this.#deps.pool.nextFreeAt(this.#model, this.#kinds);
      if (Number.isFinite(free)) {
        headers["retry-after"] = String(Math.max(1, Math.ceil((free - Date.now()) / 1000)));
      }
    }
    if (last.status === 503 && !headers["retry-after"]) {
      headers["retry-after"] = String(OVERLOAD_RETRY_AFTER_S);
    }
    return last;
  }

  /** Ms since the request arrived, at `now` (`performance.now()`). */
  #elapsed(now: number = performance.now()): number {
    return Math.round(now - this.#t0);
  }

  #count(keyId: string, delta: UsageDelta): void {
    this.#deps.usage?.count({ keyId, model: this.#req.model, tokenName: this.#req.tokenName }, delta);
  }

  /**
   * Reports the finished request; a success is counted here together with its tokens (one usage update).
   * A part of a split request counts its usage but leaves the record to the whole request.
   */
  #finish(tokens: { inputTokens?: number; outputTokens?: number }, served = false): void {
    if (this.#recorded) return;
    this.#recorded = true;
    const rec = this.#rec;
    Object.assign(rec, tokens);
    rec.outcome ??= rec.status === 499 ? "cancelled" : "ok";
    if (served && rec.keyId) {
      this.#count(rec.keyId, {
        requests: 1,
        ok: 1,
        inputTokens: tokens.inputTokens,
        outputTokens: tokens.outputTokens,
      });
    }
    if (!this.#part) this.#deps.onRecord?.(rec);
  }

  /**
   * Pins every resource a key created (files, caches, batches, operations, stores, upload sessions)
   * to that key (`AffinityMap.learn`): from the answer's headers, and from its body when the answer
   * was read whole (`bytes`) and is one the map scans for names.
   */
  #learnResources(res: Response, keyId: string, bytes?: Uint8Array): void {
    const { affinity } = this.#deps;
    if (!affinity) return;
    const req = this.#req;
    const text = bytes && affinity.readsAnswer(req, res.headers)
      ? new TextDecoder().decode(bytes)
      : undefined;
    affinity.learn({ request: req, keyId, headers: res.headers, text });
  }

  /** The answer's headers for the client, with Google's upload session URLs pointing at the gateway. */
  #answerHeaders(res: Response): Record<string, string> {
    const headers = clientHeaders(res.headers);
    const { origin } = this.#req;
    if (!origin) return headers; // only upload requests carry one
    for (const name of UPLOAD_SESSION_URLS) {
      const url = headers[name];
      if (!url) continue;
      const u = new URL(url);
      headers[name] = origin + u.pathname + u.search;
    }
    return headers;
  }
}
