/**
 * Headline numbers of the dashboard from a `GET /metrics` answer: requests per minute, success
 * rate, request-weighted latency percentiles and token totals.
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

/** Sums the buckets. */
export function summarize(m: MetricsResponse): MetricsSummary {
  const s: MetricsSummary = {
    requests: 0,
    ok: 0,
    errors: 0,
    rateLimited: 0,
    perMinute: 0,
    latestPerMinute: 0,
    inputTokens: 0,
    outputTokens: 0,
    p50: null,
    p95: null,
    p99: null,
  };
  const weighted = { p50: 0, p95: 0, p99: 0 };
  for (const b of m.buckets) {
    s.requests += b.requests;
    s.ok += b.ok;
    s.errors += b.errors;
    s.rateLimited += b.rateLimited;
    s.inputTokens += b.inputTokens;
    s.outputTokens += b.outputTokens;
    for (const p of ["p50", "p95", "p99"] as const) weighted[p] += (b[p] ?? 0) * b.requests;
  }
  if (s.requests > 0) { for (const p of ["p50", "p95", "p99"] as const) s[p] = weighted[p] / s.requests; }
  const minutes = Math.max(1, (m.buckets.length * m.bucketMs) / 60_000);
  s.perMinute = s.requests / minutes;
  const last = m.buckets.at(-1);
  s.latestPerMinute = last ? last.requests / Math.max(1, m.bucketMs / 60_000) : 0;
  return s;
}
