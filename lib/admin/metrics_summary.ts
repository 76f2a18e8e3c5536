/**
 * Headline numbers of the dashboard from a `GET /metrics` answer: requests per minute, success
 * rate (served / (served + failed): refusals and the clients' own mistakes are shown apart),
 * latency percentiles weighted by the requests they measure, and token totals.
 *
 * @module
 */
import type { MetricsResponse } from "./api_types.ts";

/** Headline numbers over the whole range. */
export interface MetricsSummary {
  requests: number;
  ok: number;
  errors: number;
  rateLimited: number;
  /** Refused by the gateway itself. */
  refused: number;
  /** The clients' own mistakes (400, 404, ...) and abandoned requests. */
  clientErrors: number;
  /** Average requests per minute over the range. */
  perMinute: number;
  /** Requests per minute in the latest complete-or-current bucket. */
  latestPerMinute: number;
  inputTokens: number;
  outputTokens: number;
  /** Request-weighted percentiles (null without traffic). */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The success rate's denominator: requests the gateway tried to serve. */
export function attempted(s: { ok: number; errors: number }): number {
  return s.ok + s.errors;
}

/** Sums the buckets. */
export function summarize(m: MetricsResponse): MetricsSummary {
  const s: MetricsSummary = {
    requests: 0,
    ok: 0,
    errors: 0,
    rateLimited: 0,
    refused: 0,
    clientErrors: 0,
    perMinute: 0,
    latestPerMinute: 0,
    inputTokens: 0,
    outputTokens: 0,
    p50: null,
    p95: null,
    p99: null,
  };
  const weighted = { p50: 0, p95: 0, p99: 0 };
  let measured = 0;
  for (const b of m.buckets) {
    for (const k of ["requests", "ok", "errors", "rateLimited", "inputTokens", "outputTokens"] as const) {
      s[k] += b[k];
    }
    s.refused += b.refused ?? 0;
    s.clientErrors += b.clientErrors ?? 0;
    const n = attempted(b);
    measured += n;
    for (const p of ["p50", "p95", "p99"] as const) weighted[p] += (b[p] ?? 0) * n;
  }
  if (measured > 0) { for (const p of ["p50", "p95", "p99"] as const) s[p] = weighted[p] / measured; }
  const minutes = Math.max(1, (m.buckets.length * m.bucketMs) / 60_000);
  s.perMinute = s.requests / minutes;
  const last = m.buckets.at(-1);
  s.latestPerMinute = last ? last.requests / Math.max(1, m.bucketMs / 60_000) : 0;
  return s;
}
