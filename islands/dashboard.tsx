/**
 * The Dashboard island: requests per minute, success rate, latency percentiles, tokens in/out and
 * keys by state, charts over time (uPlot) and totals by model for 1 h, 24 h or 7 days. Re-fetches
 * `GET /metrics` every few seconds while the tab is visible.
 *
 * @module
 */
import { useComputed, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { apiCall, messageOf } from "../lib/admin/api_client.ts";
import type { MetricsRange, MetricsResponse, ProxyInfo } from "../lib/admin/api_types.ts";
import { formatDateTime, formatLatency } from "../lib/admin/format.ts";
import { formatCount } from "../lib/admin/key_format.ts";
import { summarize } from "../lib/admin/metrics_summary.ts";
import { ModelTable, ProxyPanel, StatCards } from "../lib/admin/ui/dashboard_parts.tsx";
import { TimeChart } from "../lib/admin/ui/time_chart.tsx";

/** Props of {@link Dashboard}. */
export interface DashboardProps {
  /** Metrics rendered on the server; null to load them in the browser. */
  initial: MetricsResponse | null;
  range: MetricsRange;
  apiBase: string;
  /** Link to the Keys page. */
  keysHref: string;
  /** Refresh interval; default 10 s. */
  refreshMs?: number;
}

const RANGES: Array<[MetricsRange, string]> = [["1h", "1 hour"], ["24h", "24 hours"], ["7d", "7 days"]];

/** Island: the dashboard. */
export function Dashboard(props: DashboardProps) {
  const data = useSignal(props.initial);
  const range = useSignal(props.range);
  const error = useSignal("");
  const updated = useSignal<number | null>(null);
  const proxies = useSignal<ProxyInfo[]>([]);

  const load = async () => {
    const r = range.value;
    try {
      const m = await apiCall<MetricsResponse>(props.apiBase, "/metrics", { query: { range: r } });
      if (r !== range.value) return;
      data.value = m;
      updated.value = Date.now();
      error.value = "";
      const p = await apiCall<{ proxies: ProxyInfo[] }>(props.apiBase, "/proxies").catch(() => null);
      proxies.value = p?.proxies ?? [];
    } catch (err) {
      error.value = `Could not refresh: ${messageOf(err)}`;
    }
  };
  useEffect(() => {
    load();
    const timer = setInterval(
      () => document.visibilityState === "visible" && load(),
      props.refreshMs ?? 10_000,
    );
    return () => clearInterval(timer);
  }, []);

  const summarized = useComputed(() => data.value ? summarize(data.value) : null);
  const bucketTimes = useComputed(() => data.value?.buckets.map((b) => b.t) ?? []);
  const m = data.value;
  const summary = summarized.value;
  const times = bucketTimes.value;
  const pick = (f: (b: MetricsResponse["buckets"][number]) => number | null) => m?.buckets.map(f) ?? [];
  const latency = (v: number | null, n: number) => n > 0 ? v : null;

  return (
    <div class="stack" data-dashboard>
      <div class="dash-bar">
        <div class="tabs" role="tablist" aria-label="Time range">
          {RANGES.map(([r, label]) => (
            <button
              key={r}
              type="button"
              role="tab"
              aria-selected={range.value === r}
              class={range.value === r ? "tab active" : "tab"}
              data-range={r}
              onClick={() => {
                range.value = r;
                history.replaceState(null, "", r === "1h" ? location.pathname : `?range=${r}`);
                load();
              }}
            >
              {label}
            </button>
          ))}
        </div>
        <span
          class={`live ${error.value ? "live-reconnecting" : updated.value ? "live-live" : ""}`}
          data-updated
        >
          <span class="live-dot" aria-hidden="true"></span>
          {error.value ||
            (updated.value ? `Live · updated ${formatDateTime(updated.value).slice(11)}` : "Loading…")}
        </span>
      </div>
      {!m || !summary
        ? (
          <section class="panel">
            <p class="empty">{error.value || "Loading metrics…"}</p>
          </section>
        )
        : (
          <>
            <StatCards summary={summary} keys={m.keys} keysHref={props.keysHref} />
            <div class="chart-grid">
              <section class="panel chart-panel">
                <header class="panel-head">
                  <h2>Requests</h2>
                  <span class="muted small">per {bucketLabel(m.bucketMs)}</span>
                </header>
                <TimeChart
                  label="Requests over time"
                  times={times}
                  format={formatCount}
                  series={[
                    { label: "Successful", colorVar: "--ok", values: pick((b) => b.ok), fill: true },
                    { label: "Rate limited", colorVar: "--warn", values: pick((b) => b.rateLimited) },
                    { label: "Errors", colorVar: "--bad", values: pick((b) => b.errors) },
                  ]}
                />
              </section>
              <section class="panel chart-panel">
                <header class="panel-head">
                  <h2>Latency</h2>
                  <span class="muted small">percentiles</span>
                </header>
                <TimeChart
                  label="Latency percentiles over time"
                  times={times}
                  format={(v) => formatLatency(v)}
                  series={[
                    {
                      label: "p50",
                      colorVar: "--accent",
                      values: pick((b) => latency(b.p50, b.requests)),
                      points: true,
                    },
                    {
                      label: "p95",
                      colorVar: "--warn",
                      values: pick((b) => latency(b.p95, b.requests)),
                      points: true,
                    },
                    {
                      label: "p99",
                      colorVar: "--bad",
                      values: pick((b) => latency(b.p99, b.requests)),
                      points: true,
                    },
                  ]}
                />
              </section>
              <section class="panel chart-panel">
                <header class="panel-head">
                  <h2>Tokens</h2>
                  <span class="muted small">per {bucketLabel(m.bucketMs)}</span>
                </header>
                <TimeChart
                  label="Tokens in and out over time"
                  times={times}
                  format={formatCount}
                  series={[
                    { label: "Input", colorVar: "--accent", values: pick((b) => b.inputTokens), fill: true },
                    { label: "Output", colorVar: "--ok", values: pick((b) => b.outputTokens) },
                  ]}
                />
              </section>
              <section class="panel chart-panel">
                <header class="panel-head">
                  <h2>By model</h2>
                  <span class="muted small">{RANGES.find(([r]) => r === m.range)?.[1]}</span>
                </header>
                <ModelTable rows={m.byModel} />
              </section>
            </div>
            {proxies.value.length > 0 && (
              <ProxyPanel proxies={proxies.value} now={updated.value ?? Date.now()} />
            )}
          </>
        )}
    </div>
  );
}

function bucketLabel(ms: number): string {
  if (ms >= 3_600_000) return `${ms / 3_600_000} h`;
  if (ms >= 60_000) return ms === 60_000 ? "minute" : `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
