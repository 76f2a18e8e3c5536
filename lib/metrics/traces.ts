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
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { AttemptEnd, AttemptStart, ForwardObserver } from "../pipeline/observer.ts";
import { VERSION } from "../version.ts";

const tracer = trace.getTracer("gemini-gateway", VERSION);

/** Pipeline hooks that open a span per attempt. */
export const traceObserver: ForwardObserver = {
  attempt(start: AttemptStart) {
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

/** Several observers as one: each hook calls every observer's. */
export function combineObservers(...observers: ForwardObserver[]): ForwardObserver {
  return {
    attempt(start) {
      const ends = observers.map((o) => o.attempt?.(start)).filter((f) => f !== undefined);
      return (end) => {
        for (const f of ends) f(end);
      };
    },
    stream(route) {
      const ends = observers.map((o) => o.stream?.(route)).filter((f) => f !== undefined);
      return () => {
        for (const f of ends) f();
      };
    },
  };
}
