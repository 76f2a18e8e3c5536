/**
 * Plain parts of the dashboard: the headline stat cards (with keys by state) and the per-model table.
 *
 * @module
 */
import type { KeyCounts, ModelTotals, ProxyInfo } from "../api_types.ts";
import { formatLatency, formatPercent } from "../format.ts";
import { formatCount, formatRemaining } from "../key_format.ts";
import type { MetricsSummary } from "../metrics_summary.ts";

/** Props of {@link StatCards}. */
export interface StatCardsProps {
  summary: MetricsSummary;
  keys: KeyCounts;
  keysHref: string;
}

const rate = (n: number) =>
  n >= 100 ? formatCount(Math.round(n)) : n > 0 && n < 0.1 ? "<0.1" : n.toFixed(n >= 10 || n === 0 ? 0 : 1);

/** The headline cards. */
export function StatCards({ summary: s, keys, keysHref }: StatCardsProps) {
  const failed = s.requests - s.ok;
  const successTone = s.requests === 0
    ? ""
    : s.ok / s.requests >= 0.99
    ? "ok"
    : s.ok / s.requests >= 0.9
    ? "warn"
    : "bad";
  return (
    <div class="stat-grid">
      <div class="stat" data-stat="rpm">
        <span class="stat-label">Requests / min</span>
        <span class="stat-value">{rate(s.perMinute)}</span>
        <span class="stat-sub muted">
          {formatCount(s.requests)} requests · now {rate(s.latestPerMinute)}/min
        </span>
      </div>
      <div class="stat" data-stat="success">
        <span class="stat-label">Success rate</span>
        <span class={`stat-value ${successTone ? `tone-${successTone}` : ""}`}>
          {formatPercent(s.ok, s.requests)}
        </span>
        <span class="stat-sub muted">
          {formatCount(failed)} failed · {formatCount(s.rateLimited)} rate limited
        </span>
      </div>
      <div class="stat" data-stat="latency">
        <span class="stat-label">Latency p50</span>
        <span class="stat-value">{formatLatency(s.p50)}</span>
        <span class="stat-sub muted">p95 {formatLatency(s.p95)} · p99 {formatLatency(s.p99)}</span>
      </div>
      <div class="stat" data-stat="tokens">
        <span class="stat-label">Tokens in / out</span>
        <span class="stat-value">
          {formatCount(s.inputTokens)} <span class="muted">/</span> {formatCount(s.outputTokens)}
        </span>
        <span class="stat-sub muted">input / output</span>
      </div>
      <a class="stat stat-link" href={keysHref} data-stat="keys">
        <span class="stat-label">Keys</span>
        <span class="key-states">
          <span class="badge badge-ok" data-keys="active">{keys.active} active</span>
          <span class="badge badge-warn" data-keys="cooling">{keys.cooling} cooling</span>
          <span class="badge badge-bad" data-keys="disabled">{keys.disabled} disabled</span>
        </span>
        <span class="stat-sub muted">
          {keys.active + keys.cooling + keys.disabled} in the pool · manage keys →
        </span>
      </a>
    </div>
  );
}

/** Totals by model, busiest first. */
export function ModelTable({ rows }: { rows: ModelTotals[] }) {
  const sorted = [...rows].sort((a, b) => b.requests - a.requests);
  const max = Math.max(1, ...sorted.map((r) => r.requests));
  if (sorted.length === 0) return <p class="empty">No requests in this range yet.</p>;
  return (
    <div class="table-wrap">
      <table class="table compact" data-by-model>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col" class="num">Requests</th>
            <th scope="col" class="num">Success</th>
            <th scope="col" class="num">Tokens in / out</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={r.model}>
              <td>
                {r.model && r.model !== "-"
                  ? <code>{r.model}</code>
                  : <span class="muted">No model (listings, files)</span>}
                <meter class="share" min={0} max={max} value={r.requests} />
              </td>
              <td class="num">{formatCount(r.requests)}</td>
              <td class="num">{formatPercent(r.ok, r.requests)}</td>
              <td class="num">{formatCount(r.inputTokens)} / {formatCount(r.outputTokens)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Upstream proxies with their health (shown only when proxies are configured). */
export function ProxyPanel({ proxies, now }: { proxies: ProxyInfo[]; now: number }) {
  return (
    <section class="panel" data-proxies>
      <header class="panel-head">
        <h2>Upstream proxies</h2>
        <span class="muted small">{proxies.filter((p) => p.up).length} of {proxies.length} up</span>
      </header>
      <div class="table-wrap">
        <table class="table compact">
          <thead>
            <tr>
              <th scope="col">Proxy</th>
              <th scope="col">State</th>
              <th scope="col" class="num">Failures</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {proxies.map((p) => (
              <tr key={p.proxy}>
                <td>
                  <code>{p.proxy}</code>
                </td>
                <td>
                  {p.up ? <span class="badge badge-ok">Up</span> : (
                    <span class="badge badge-bad">
                      Skipped{p.downUntil && p.downUntil > now
                        ? ` · ${formatRemaining(p.downUntil - now)}`
                        : ""}
                    </span>
                  )}
                </td>
                <td class="num">{p.failures}</td>
                <td class="error-cell">
                  {p.lastError ? <span class="error-text">{p.lastError}</span> : <span class="muted">—</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
