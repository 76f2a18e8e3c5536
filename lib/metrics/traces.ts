/**
 * Spans for OpenTelemetry. Deno traces `Deno.serve` and `fetch` by itself when started with
 * `OTEL_DENO=true` (https://docs.deno.com/runtime/fundamentals/open_telemetry/); this adds one span
 * per upstream attempt, child of the request's span, through the OpenTelemetry API (a no-op when
 * tracing is off):
 *
 * - name `gemini_gateway.attempt`, kind client;
 * - attributes at the key choice: `gemini_gateway.key.id` (the key's id, a hash prefix),
 *   `gemini_gateway.key.masked` (`AIza…k9Xw`), `gemini_gateway.model`, `gemini_gateway.route`,
 *   `gemini_gateway.attempt` (1 for the first), `gemini_gateway.key.pinned`,
 *   `gemini_gateway.key.waited_ms` (time spent waiting for a cooling key);
 * - at the end: `gemini_gateway.outcome` (see `AttemptOutcome`), `http.response.status_code`,
 *   `gemini_gateway.cooldown_until` (ISO 8601, when the outcome cooled the key) and the span
 *   status (error unless `ok` or `client_error`).
 *
 * @module
 */
import { ProxyTracerProvider, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { AttemptEnd, AttemptStart, ForwardObserver } from "../pipeline/observer.ts";
import { VERSION } from "../version.ts";

const tracer = trace.getTracer("gemini-gateway", VERSION);
/** What the API's provider delegates to while no tracer provider is registered (tracing off). */
const NO_PROVIDER = new ProxyTracerProvider().getDelegate();

/** How long {@link tracing}'s answer is kept (a provider registered later traces from then on). */
const RECHECK_MS = 1_000;
let tracingOn = false;
let checkedAt = -Infinity;

/**
 * True when a tracer provider is registered (Deno's with `OTEL_DENO=true`, or an SDK's), looked up at
 * most once a second: while tracing is off an attempt costs one clock read, no span, no attributes.
 */
function tracing(): boolean {
  const now = performance.now();
  if (now - checkedAt >= RECHECK_MS) {
    const provider = trace.getTracerProvider();
    tracingOn = !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_PROVIDER;
    checkedAt = now;
  }
  return tracingOn;
}

/** Pipeline hooks that open a span per attempt. */
export const traceObserver: ForwardObserver = {
  attempt(start: AttemptStart) {
    if (!tracing()) return undefined;
    const span = tracer.startSpan("gemini_gateway.attempt", {
      kind: SpanKind.CLIENT,
      attributes: {
        "gemini_gateway.key.id": start.keyId,
        "gemini_gateway.key.masked": start.keyMasked,
        "gemini_gateway.model": start.model ?? "",
        "gemini_gateway.route": start.route,
        "gemini_gateway.attempt": start.attempt,
        "gemini_gateway.key.pinned": start.pinned,
        "gemini_gateway.key.waited_ms": start.waitedMs,
      },
    });
    if (!span.isRecording()) return undefined;
    return (end: AttemptEnd) => {
      span.setAttribute("gemini_gateway.outcome", end.outcome);
      if (end.status) span.setAttribute("http.response.status_code", end.status);
      if (end.cooldownUntil && Number.isFinite(end.cooldownUntil)) {
        span.setAttribute("gemini_gateway.cooldown_until", new Date(end.cooldownUntil).toISOString());
      }
      const failed = end.outcome !== "ok" && end.outcome !== "client_error";
      span.setStatus(
        failed ? { code: SpanStatusCode.ERROR, message: end.outcome } : { code: SpanStatusCode.OK },
      );
      span.end();
    };
  },
};

/** The ends that hooks returned, as one end (undefined when none did; the only one as it is). */
function joinEnds<A extends unknown[]>(
  ends: Array<((...args: A) => void) | undefined>,
): ((...args: A) => void) | undefined {
  const some = ends.filter((f) => f !== undefined);
  if (some.length <= 1) return some[0];
  return (...args) => {
    for (const f of some) f(...args);
  };
}

/** Several observers as one: each hook calls every observer's. */
export function combineObservers(...observers: ForwardObserver[]): ForwardObserver {
  const [a, b] = observers;
  // Two observers (metrics and traces) is the common case: no arrays per attempt.
  if (observers.length === 2) {
    return {
      attempt(start) {
        const x = a.attempt?.(start);
        const y = b.attempt?.(start);
        return x && y ? (end) => (x(end), y(end)) : x ?? y;
      },
      stream(route) {
        const x = a.stream?.(route);
        const y = b.stream?.(route);
        return x && y ? () => (x(), y()) : x ?? y;
      },
    };
  }
  return {
    attempt: (start) => joinEnds(observers.map((o) => o.attempt?.(start))),
    stream: (route) => joinEnds(observers.map((o) => o.stream?.(route))),
  };
}
