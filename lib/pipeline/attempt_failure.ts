/**
 * An attempt that failed, and the request's answer when no key served: a non-2xx answer is classified
 * with Google's error details and told to the pool ({@link onFailure}); a call without a usable answer
 * (a timer, the client leaving, the connection) is charged as transient ({@link callFailed}). Both
 * decide whether another key may try. {@link finalError} and {@link noKeyError} choose the error the
 * client gets when none did; {@link failedOutcome} names how the request ended for its record.
 *
 * @module
 */
import { badGateway, clientClosed, GatewayError } from "../http/errors.ts";
import { type GoogleErrorBody, parseGoogleError } from "../gemini/rpc_status.ts";
import { classify } from "../pool/classify.ts";
import type { NoKey } from "../pool/key_pool.ts";
import { answerBody, type Call, recordTry } from "./attempt_call.ts";
import { outcomeOf } from "./observer.ts";
import type { Outcome } from "./request_record.ts";
import type { RunState } from "./run_state.ts";
import { BodyFailure, timeoutError, UpstreamTimeout } from "./upstream_body.ts";

/** Google's error bodies are a few KiB; anything beyond this is not read. */
export const ERROR_BODY_CAP = 64 * 1024;
/** First pause before retrying after Google said the model is overloaded (doubles per attempt, up to 2 s). */
const OVERLOAD_PAUSE_MS = 250;
const OVERLOAD_PAUSE_MAX_MS = 2_000;
/** `Retry-After` (seconds) on the 503 answered when Google stays overloaded. */
const OVERLOAD_RETRY_AFTER_S = 5;

/**
 * A non-2xx answer: classify it, tell the pool, count it, and decide whether another key may try.
 *
 * @throws {GatewayError} the upstream's error when no other key can help (the client's own error,
 *   or a pinned resource whose key failed for good).
 */
export async function onFailure(run: RunState, call: Call, res: Response): Promise<void> {
  const { pool, clientFor, onNetworkError } = run.deps;
  const { choice } = call;
  if (res.status === 407 && clientFor?.(choice.id)) {
    // The proxy, not Google, refused (plain-http upstreams see this as a response): skip that proxy.
    await res.body?.cancel();
    run.last = badGateway(
      "The upstream proxy refused the request (407); check the credentials in PROXIES.",
    );
    onNetworkError?.(choice.id, new Error("proxy authentication required (407)"));
    run.end({ outcome: "network", status: 407 });
    pool.report(choice.id, run.model, { kind: "transient", reason: run.last.message });
    recordTry(run, call, 407, run.last.message);
    return;
  }
  // Google quotes the key in some messages ("Consumer 'api_key:AIza…' has been suspended") and
  // echoes parts of the request (`Unknown name "…"`): mask every secret before anyone sees it.
  const text = res.body ? run.redact(await answerBody(run, call, res).text(ERROR_BODY_CAP)) : "";
  if (run.cut) throw run.cut;
  const parsed = parseGoogleError(text);
  const body: GoogleErrorBody = parsed ??
    { error: { code: res.status, message: text.slice(0, 500) || res.statusText, status: res.statusText } };
  const verdict = classify({
    status: res.status,
    body,
    now: Date.now(),
    defaultCooldownMs: run.settings.defaultCooldownMs,
  });
  if (verdict.kind === "no_access") verdict.answer = { status: res.status, text };
  pool.report(choice.id, run.model, verdict);
  run.end({
    outcome: outcomeOf(verdict, res.status),
    status: res.status,
    cooldownUntil: verdict.kind === "cooldown" ? verdict.until : undefined,
  });
  run.count(choice.id, { requests: 1, rateLimited: res.status === 429 ? 1 : 0, errors: 1 });
  recordTry(run, call, res.status, body.error.message || res.statusText);
  if (verdict.kind === "disable") pool.patch(choice.id, { lastError: run.redact(body.error.message) });
  const retryAfter = res.headers.get("retry-after");
  run.last = new GatewayError(res.status, body.error.message, {
    upstream: body,
    upstreamText: parsed ? text : undefined,
    headers: retryAfter ? { "retry-after": retryAfter } : {},
  });
  if (verdict.kind === "overloaded") {
    run.pause = verdict.retryAfterMs ??
      Math.min(OVERLOAD_PAUSE_MS * 2 ** run.overloads, OVERLOAD_PAUSE_MAX_MS);
    run.overloads++;
  }
  if (verdict.kind === "client_error") {
    run.clientError = true;
    throw run.last;
  }
  if (run.route.pinned && verdict.kind !== "transient" && verdict.kind !== "overloaded") throw run.last;
}

/**
 * A call that failed without a usable answer: a timer, the client leaving, or the connection.
 *
 * @returns undefined when another key may try.
 * @throws {GatewayError} 499 (client gone), 504 (timeout, unless `resendAfterTimeout`).
 */
export function callFailed(run: RunState, call: Call, e: unknown): undefined {
  if (run.cut) throw run.cut;
  if (run.signal.aborted) {
    run.end({ outcome: "client_error" });
    throw clientClosed();
  }
  const { choice } = call;
  const timeout = e instanceof UpstreamTimeout
    ? e
    : e instanceof BodyFailure && e.cause instanceof UpstreamTimeout
    ? e.cause
    : undefined;
  const err = timeout ? timeoutError(timeout, { sent: true }) : badGateway(
    e instanceof BodyFailure
      ? `The upstream's answer broke off: ${run.redact(e.message)}`
      : `Could not reach the upstream: ${run.redact(String(e))}`,
    e,
  );
  if (!timeout && !(e instanceof BodyFailure)) run.deps.onNetworkError?.(choice.id, e);
  run.end({ outcome: timeout ? "timeout" : "network" });
  run.deps.pool.report(choice.id, run.model, { kind: "transient", reason: err.message });
  run.count(choice.id, { requests: 1, errors: 1 });
  recordTry(run, call, err.status, err.message);
  run.last = err;
  if (timeout && (timeout.what === "deadline" || !run.settings.resendAfterTimeout)) throw err;
  return undefined;
}

/** The error to answer when every attempt failed: the last upstream error (with Retry-After for 429s and 503s). */
export function finalError(run: RunState): GatewayError {
  const last = run.last;
  if (!last) return new GatewayError(503, "No key could serve this request.");
  const headers = last.options.headers ??= {};
  if (last.status === 429 && !headers["retry-after"]) {
    const free = run.deps.pool.nextFreeAt(run.model, run.kinds);
    if (Number.isFinite(free)) {
      headers["retry-after"] = String(Math.max(1, Math.ceil((free - Date.now()) / 1000)));
    }
  }
  if (last.status === 503 && !headers["retry-after"]) {
    headers["retry-after"] = String(OVERLOAD_RETRY_AFTER_S);
  }
  return last;
}

/**
 * The answer when no key can serve (`pick`: the pool's reason; `wait`: ms until a key is free,
 * Infinity when none will be): the real reason, with `Retry-After` when a wait is known.
 */
export function noKeyError(pick: NoKey, wait: number): GatewayError {
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

/** How a failed request ended: refused by the gateway, the client's mistake, rate limited or failed. */
export function failedOutcome(run: RunState, err: GatewayError): Outcome {
  const status: number = err.status;
  if (err.options.refusal) return "refused";
  if (status === 499) return "cancelled";
  if (status === 429) return "rate_limited";
  if (run.clientError || (status === 404 && !err.options.upstream)) return "client_error";
  return "error";
}
