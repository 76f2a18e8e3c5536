/**
 * The one request pipeline: choose a key, send upstream, classify the outcome, retry on another key,
 * stream the answer through, and report usage and a log record. Every edge calls it (through
 * `GeminiClient`); they differ only in how they parse requests and format answers.
 *
 * One request runs these named steps until it is served or gives up:
 * {@link ForwardRun.chooseKey} -> {@link ForwardRun.attempt} -> {@link ForwardRun.onSuccess} or
 * {@link ForwardRun.onFailure} (which decides whether the next key is tried).
 *
 * @module
 */
import {
  asGatewayError,
  badGateway,
  clientClosed,
  GatewayError,
  notFound,
  upstreamTimeout,
} from "../http/errors.ts";
import { type GoogleErrorBody, parseGoogleError } from "../gemini/rpc_status.ts";
import { trailingStreamError } from "../gemini/stream.ts";
import { classify } from "../pool/classify.ts";
import type { KeyChoice, KeyPool } from "../pool/key_pool.ts";
import { redactKeys } from "../secrets/redact.ts";
import type { UsageCounter, UsageDelta } from "../pool/usage.ts";
import type { RuntimeSettings } from "../config/schema.ts";
import { abortableSleep } from "../util/sleep.ts";
import type { AffinityMap, AffinityRoute } from "./affinity.ts";
import { Deadlines } from "./deadlines.ts";
import type { Outcome, RecordSink, RequestRecord } from "./request_record.ts";
import { usageFromTail } from "./request_record.ts";
import type { Forward, ForwardRequest, ForwardResult } from "./types.ts";

/** What the pipeline needs. */
export interface ForwarderDeps {
  pool: KeyPool;
  settings: () => Pick<
    RuntimeSettings,
    "upstreamBaseUrl" | "maxAttempts" | "requestTimeoutMs" | "defaultCooldownMs" | "maxWaitMs"
  >;
  affinity?: AffinityMap;
  usage?: UsageCounter;
  onRecord?: RecordSink;
  /** An HTTP client per key (upstream proxies), if any. */
  clientFor?: (keyId: string) => Deno.HttpClient | undefined;
  /** Told when a call could not reach the upstream (so a failing proxy can be skipped). */
  onNetworkError?: (keyId: string, error: unknown) => void;
  /** Refuses (throws a GatewayError) a model the client token may not use. */
  admitModel?: (tokenName: string | undefined, model: string | undefined) => void;
  /** Told when a request is refused because no key can serve its model (`freeAt` Infinity: none will). */
  onNoKey?: (model: string, info: { freeAt: number; reason: string }) => void;
  /**
   * Masks secrets in upstream text before it is answered, logged or kept as a key's reason (default:
   * secret shapes only; the gateway passes a `Redactor` that knows every pool key and client token).
   */
  redact?: (text: string) => string;
}

const decoder = new TextDecoder();
const TAIL_BYTES = 2048;

function tailOf(chunks: Uint8Array[]): string {
  const out: string[] = [];
  let n = 0;
  for (let i = chunks.length - 1; i >= 0 && n < TAIL_BYTES; i--) {
    out.unshift(decoder.decode(chunks[i]));
    n += chunks[i].length;
  }
  return out.join("");
}

/** Upstream response headers worth passing on; the rest (length, encoding, hop-by-hop, Google's own) are dropped. */
const KEEP_RESPONSE_HEADERS =
  /^(content-type|content-disposition|x-goog-upload-.*|x-goog-.*|server-timing|retry-after|location)$/i;

/** The upstream's response headers that a client should see. */
export function clientHeaders(from: Headers): Headers {
  const out = new Headers();
  from.forEach((v, k) => KEEP_RESPONSE_HEADERS.test(k) && out.set(k, v));
  return out;
}

/** Builds the pipeline function for the given dependencies. */
export function createForwarder(deps: ForwarderDeps): Forward {
  const deadlines = new Deadlines();
  return function forward(req: ForwardRequest): Promise<ForwardResult> {
    return new ForwardRun(deps, deadlines, req).run();
  };
}

/** One request's way through the pipeline: its record, the keys it tried, the last failure. */
class ForwardRun {
  readonly #deps: ForwarderDeps;
  readonly #deadlines: Deadlines;
  readonly #req: ForwardRequest;
  readonly #s: ReturnType<ForwarderDeps["settings"]>;
  readonly #t0 = performance.now();
  readonly #signal: AbortSignal;
  /** Per-model cooldowns key on this; `*` for calls that name no model. */
  readonly #model: string;
  readonly #rec: RequestRecord;
  /** Where the resources the request names live (set when the run starts). */
  #route: AffinityRoute = {};
  readonly #tried = new Set<string>();
  readonly #redact: (text: string) => string;
  #last?: GatewayError;
  /** The upstream said the request itself is wrong (not the key's fault). */
  #clientError = false;
  #waited = 0;

  constructor(deps: ForwarderDeps, deadlines: Deadlines, req: ForwardRequest) {
    this.#deps = deps;
    this.#redact = deps.redact ?? redactKeys;
    this.#deadlines = deadlines;
    this.#req = req;
    this.#s = deps.settings();
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
    try {
      this.#deps.admitModel?.(this.#req.tokenName, this.#req.model);
      const req = this.#req;
      this.#route = req.pinnedKeyId ? { pinned: req.pinnedKeyId } : this.#deps.affinity?.route(req) ?? {};
      while (this.#rec.attempts < this.#s.maxAttempts) {
        const choice = await this.chooseKey();
        if (!choice) break;
        const res = await this.attempt(choice);
        if (!res) continue;
        if (res.ok) return await this.onSuccess(choice, res);
        await this.onFailure(choice, res);
      }
      throw this.#finalError();
    } catch (e) {
      const err = asGatewayError(e);
      this.#rec.status = err.status;
      this.#rec.latencyMs = this.#elapsed();
      this.#rec.error = this.#redact(JSON.stringify(err.toGoogle()));
      this.#rec.outcome = this.#outcome(err);
      this.#rec.refusal = err.options.refusal;
      this.#finish({});
      err.recorded = true;
      throw err;
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
   * The key for the next attempt: the pinned key (a resource's owner), or the pool's choice (the
   * client's home key first, while it can serve); waits up to `maxWaitMs` for a cooling key when
   * nothing failed yet.
   *
   * @returns undefined when no key is left and an earlier attempt failed (its error is the answer).
   * @throws {GatewayError} 404 when the pinned key is gone; 429/503 when no key can serve at all.
   */
  async chooseKey(): Promise<KeyChoice | undefined> {
    const { pool } = this.#deps;
    const { pinned, preferred } = this.#route;
    if (pinned) {
      const r = pool.get(pinned);
      if (!r) throw notFound("The key that created this resource was removed from the pool.");
      return this.#take({ id: r.id, key: r.key });
    }
    for (;;) {
      const pick = this.#pick(preferred);
      if (!("freeAt" in pick)) return this.#take(pick);
      const wait = pick.freeAt - Date.now();
      if (!this.#last && Number.isFinite(wait) && wait <= this.#s.maxWaitMs - this.#waited) {
        if (!await abortableSleep(Math.max(wait, 1), this.#signal)) throw clientClosed();
        this.#waited += wait;
        continue;
      }
      if (this.#deps.onNoKey) {
        // Tell the operator only when no key at all can serve the model now (not just this request's).
        const free = pool.nextFreeAt(this.#model);
        if (free > Date.now()) {
          this.#deps.onNoKey(this.#model, { freeAt: free, reason: pool.noKeyReason(this.#model) });
        }
      }
      if (this.#last) return undefined;
      const status = pool.size === 0 || !Number.isFinite(wait) ? 503 : 429;
      throw new GatewayError(status, `No key can serve this request: ${pick.reason}.`, {
        headers: Number.isFinite(wait)
          ? { "retry-after": String(Math.max(1, Math.ceil(wait / 1000))) }
          : undefined,
        googleStatus: status === 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE",
      });
    }
  }

  /** The pool's choice, leaving out the request's `avoidKeyId` when another key can serve. */
  #pick(preferred?: string): ReturnType<KeyPool["pick"]> {
    const { pool } = this.#deps;
    const avoid = this.#req.avoidKeyId;
    if (avoid && !this.#tried.has(avoid)) {
      const other = pool.pick(this.#model, new Set([...this.#tried, avoid]), preferred);
      if (!("freeAt" in other)) return other;
    }
    return pool.pick(this.#model, this.#tried, preferred);
  }

  #take(choice: KeyChoice): KeyChoice {
    this.#tried.add(choice.id);
    this.#rec.attempts++;
    this.#rec.keyId = choice.id;
    return choice;
  }

  /**
   * Sends the request upstream with one key, within `requestTimeoutMs` for the answer's headers.
   *
   * @returns the upstream response, or undefined when the call failed before one arrived (timeout or
   *   network error: the failure is recorded and the next key may be tried).
   * @throws {GatewayError} 499 when the client went away.
   */
  async attempt(choice: KeyChoice): Promise<Response | undefined> {
    const { upstreamBaseUrl, requestTimeoutMs } = this.#s;
    const req = this.#req;
    const url = upstreamBaseUrl.replace(/\/$/, "") + req.path + (req.query?.size ? `?${req.query}` : "");
    const headers = new Headers(req.headers);
    headers.set("x-goog-api-key", choice.key);
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(this.#signal.reason);
    this.#signal.addEventListener("abort", onAbort, { once: true });
    const cancel = this.#deadlines.add(
      requestTimeoutMs,
      () => ctl.abort(new DOMException("timeout", "TimeoutError")),
    );
    try {
      return await fetch(url, {
        method: req.method,
        headers,
        body: req.body?.length ? req.body : undefined,
        signal: ctl.signal,
        client: this.#deps.clientFor?.(choice.id),
      });
    } catch (e) {
      if (this.#signal.aborted) throw clientClosed();
      const timeout = e instanceof DOMException && e.name === "TimeoutError";
      this.#last = timeout
        ? upstreamTimeout(
          `The upstream did not answer within ${requestTimeoutMs} ms; try again or raise REQUEST_TIMEOUT_MS.`,
        )
        : badGateway(`Could not reach the upstream: ${this.#redact(String(e))}`, e);
      if (!timeout) this.#deps.onNetworkError?.(choice.id, e);
      this.#deps.pool.report(choice.id, this.#model, { kind: "transient", reason: this.#last.message });
      this.#count(choice.id, { requests: 1, errors: 1 });
      return undefined;
    } finally {
      cancel();
      this.#signal.removeEventListener("abort", onAbort);
    }
  }

  /** A 2xx answer: the key is healthy; resources it created are pinned to it; the body goes to the client. */
  async onSuccess(choice: KeyChoice, res: Response): Promise<ForwardResult> {
    this.#deps.pool.report(choice.id, this.#model, { kind: "ok" });
    this.#rec.status = res.status;
    const response = await this.#learnResources(res, choice.id);
    const result = { keyId: choice.id, attempts: this.#rec.attempts };
    if (this.#req.stream && response.body) return { ...result, response: this.#observeStream(response) };
    // A unary answer is one JSON document: read it whole (cheaper than a stream pipe) and take the
    // usage from its tail.
    const bytes = response.body ? new Uint8Array(await response.arrayBuffer()) : new Uint8Array();
    this.#rec.latencyMs = this.#elapsed();
    this.#finish(usageFromTail(decoder.decode(bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)))), true);
    return {
      ...result,
      response: new Response(bytes, { status: response.status, headers: clientHeaders(response.headers) }),
    };
  }

  /**
   * A non-2xx answer: classify it, tell the pool, count it, and decide whether another key may try.
   *
   * @throws {GatewayError} the upstream's error when no other key can help (the client's own error,
   *   or a pinned resource whose key failed for good).
   */
  async onFailure(choice: KeyChoice, res: Response): Promise<void> {
    const { pool, clientFor, onNetworkError } = this.#deps;
    if (res.status === 407 && clientFor?.(choice.id)) {
      // The proxy, not Google, refused (plain-http upstreams see this as a response): skip that proxy.
      await res.body?.cancel();
      this.#last = badGateway(
        "The upstream proxy refused the request (407); check the credentials in PROXIES.",
      );
      onNetworkError?.(choice.id, new Error("proxy authentication required (407)"));
      pool.report(choice.id, this.#model, { kind: "transient", reason: this.#last.message });
      return;
    }
    // Google quotes the key in some messages ("Consumer 'api_key:AIza…' has been suspended") and
    // echoes parts of the request (`Unknown name "…"`): mask every secret before anyone sees it.
    const text = this.#redact(await res.text());
    const body: GoogleErrorBody = parseGoogleError(text) ??
      { error: { code: res.status, message: text.slice(0, 500) || res.statusText, status: res.statusText } };
    const verdict = classify({
      status: res.status,
      body,
      now: Date.now(),
      defaultCooldownMs: this.#s.defaultCooldownMs,
    });
    pool.report(choice.id, this.#model, verdict);
    this.#count(choice.id, { requests: 1, rateLimited: res.status === 429 ? 1 : 0, errors: 1 });
    if (verdict.kind === "disable") pool.patch(choice.id, { lastError: this.#redact(body.error.message) });
    const retryAfter = res.headers.get("retry-after");
    this.#last = new GatewayError(res.status, body.error.message, {
      upstream: body,
      headers: retryAfter ? { "retry-after": retryAfter } : {},
    });
    if (verdict.kind === "client_error") {
      this.#clientError = true;
      throw this.#last;
    }
    if (this.#route.pinned && verdict.kind !== "transient") throw this.#last;
  }

  /** The error to answer when every attempt failed: the last upstream error (with Retry-After for 429s). */
  #finalError(): GatewayError {
    const last = this.#last;
    if (!last) return new GatewayError(503, "No key could serve this request.");
    if (last.status === 429 && !last.options.headers?.["retry-after"]) {
      const free = this.#deps.pool.nextFreeAt(this.#model);
      if (Number.isFinite(free)) {
        last.options.headers!["retry-after"] = String(Math.max(1, Math.ceil((free - Date.now()) / 1000)));
      }
    }
    return last;
  }

  #elapsed(): number {
    return Math.round(performance.now() - this.#t0);
  }

  #count(keyId: string, delta: UsageDelta): void {
    this.#deps.usage?.count({ keyId, model: this.#req.model, tokenName: this.#req.tokenName }, delta);
  }

  /** Reports the finished request; a success is counted here together with its tokens (one usage update). */
  #finish(tokens: { inputTokens?: number; outputTokens?: number }, served = false): void {
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
    this.#deps.onRecord?.(rec);
  }

  /** Passes the body through chunk by chunk, then reads usage from its tail. */
  #observeStream(res: Response): Response {
    const kept: Uint8Array[] = [];
    let keptBytes = 0;
    const rec = this.#rec;
    const body = res.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          kept.push(chunk);
          keptBytes += chunk.length;
          while (kept.length > 1 && keptBytes - kept[0].length >= TAIL_BYTES) {
            keptBytes -= kept.shift()!.length;
          }
          ctl.enqueue(chunk);
        },
        flush: () => {
          rec.latencyMs = this.#elapsed();
          const tail = tailOf(kept);
          // Google may end a 200 stream with an error object: the log says so.
          const failed = trailingStreamError(tail);
          if (failed) {
            (rec.status = failed.error.code || 500, rec.error = this.#redact(JSON.stringify(failed)));
          }
          this.#finish(usageFromTail(tail), true);
        },
        cancel: () => {
          rec.status = 499;
          rec.error = "client closed the stream";
          this.#finish(usageFromTail(tailOf(kept)), true);
        },
      }),
    );
    return new Response(body, { status: res.status, headers: clientHeaders(res.headers) });
  }

  /**
   * Pins every resource a key created (files, caches, batches, operations, stores, upload sessions)
   * to that key (`AffinityMap.learn`); rewrites the upload URL to the gateway.
   */
  async #learnResources(res: Response, keyId: string): Promise<Response> {
    const req = this.#req;
    const { affinity } = this.#deps;
    const uploadUrl = res.headers.get("x-goog-upload-url");
    const text = affinity?.readsAnswer(req, res.headers) ? await res.text() : undefined;
    affinity?.learn({ request: req, keyId, headers: res.headers, text });
    if (!uploadUrl && text === undefined) return res;
    const headers = new Headers(res.headers);
    if (uploadUrl && req.origin) {
      const u = new URL(uploadUrl);
      headers.set("x-goog-upload-url", req.origin + u.pathname + u.search);
    }
    if (text === undefined) return new Response(res.body, { status: res.status, headers });
    headers.delete("content-length");
    return new Response(text, { status: res.status, headers });
  }
}
