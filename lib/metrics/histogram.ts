/**
 * A small fixed latency histogram with log-spaced bins, so histograms of different buckets and
 * workers merge by adding counts, and percentiles come from the merged counts.
 *
 * @module
 */

/** Upper bounds (ms) of the bins: 5 ms growing by ×1.5 up to ~10 minutes; one more bin for the rest. */
export const LATENCY_BOUNDS: readonly number[] = (() => {
  const out: number[] = [];
  for (let b = 5; b < 600_000; b *= 1.5) out.push(Math.round(b));
  return out;
})();

/** Number of bins (the bounds plus an overflow bin). */
export const BIN_COUNT = LATENCY_BOUNDS.length + 1;

/** An empty histogram. */
export function emptyHistogram(): number[] {
  return new Array(BIN_COUNT).fill(0);
}

/** The bin index for a latency in ms. */
export function binOf(ms: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= LATENCY_BOUNDS[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Adds `from` into `into` (in place). */
export function mergeHistogram(into: number[], from: readonly number[]): void {
  for (let i = 0; i < BIN_COUNT; i++) into[i] += from[i] ?? 0;
}

/**
 * The `q` quantile (0..1) in ms: the geometric middle of the bin holding it (0 when empty). The error
 * is at most one bin's width (×1.5).
 */
export function percentile(hist: readonly number[], q: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (!total) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < BIN_COUNT; i++) {
    seen += hist[i];
    if (seen >= rank) {
      const lo = i === 0 ? 0 : LATENCY_BOUNDS[i - 1];
      const hi = LATENCY_BOUNDS[i] ?? lo * 1.5;
      return Math.round(i === 0 ? hi / 2 : Math.sqrt(lo * hi));
    }
  }
  return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1];
}
