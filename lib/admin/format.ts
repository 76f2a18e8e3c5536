/**
 * Display formatting shared by the admin pages and islands: times, durations, percentages, bytes.
 * Deterministic (UTC-free choices are made by the browser's locale only on the client).
 *
 * @module
 */

const pad = (n: number) => String(n).padStart(2, "0");

/** `2026-11-26 09:14:03` in local time. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${
    pad(d.getMinutes())
  }:${pad(d.getSeconds())}`;
}

/** `2026-11-26` in local time. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Milliseconds as `850 ms` or `2.4 s`; `—` when missing. */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** A ratio as `99.2%`; `—` when the denominator is 0. */
export function formatPercent(part: number, whole: number): string {
  if (!whole) return "—";
  const p = (part / whole) * 100;
  return `${p >= 99.95 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** Thousands separators: 12,345. */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
