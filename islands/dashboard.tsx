/**
 * The Dashboard island: requests per minute, success rate (with refusals and client errors apart),
 * latency percentiles, tokens in/out and keys by state, charts over time (uPlot) and totals by model
 * for 1 h, 24 h or 7 days; the pool's capacity per model, refusals by reason and today's cost
 * estimate. Re-fetches every few seconds while the tab is visible.
 *
 * @module
 */
import { useComputed, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { apiCall, messageOf } from "../lib/admin/api_client.ts";
import type {
  CapacityResponse,
  CostsResponse,
  MetricsRange,
  MetricsResponse,
  ProxyInfo,
} from "../lib/admin/api_types.ts";
import { formatLatency, formatTime } from "../lib/admin/format.ts";
import { type MessageKey, t } from "../lib/admin/i18n.ts";
import { formatCount } from "../lib/admin/key_format.ts";
import { summarize } from "../lib/admin/metrics_summary.ts";
import {
  CapacityPanel,
  CostPanel,
  ModelTable,
  ProxyPanel,
  RefusalsPanel,
  StatCards,
} from "../lib/admin/ui/dashboard_parts.tsx";
import { TimeChart } from "../lib/admin/ui/time_chart.tsx";

/** Props of {@link Dashboard}. */
export interface DashboardProps {
  /** Metrics rendered on the server; null to load them in the browser. */
  initial: MetricsResponse | null;
  /** Capacity rendered on the server, when available. */
  initialCapacity?: CapacityResponse | null;
  range: MetricsRange;
  apiBase: string;
  /** Link to the Keys page. */
  keysHref: string;
  /** Refresh interval; default 10 s. */
  refreshMs?: number;
}

const RANGES: Array<[MetricsRange, MessageKey]> = [["1h", "range.1h"], ["24h", "range.24h"], [
  "7d",
  "range.7d",
]];

/** Island: the dashboard. */
export function Dashboard(props: DashboardProps) {
  const data = useSignal(props.initial);
  const range = useSignal(props.range);
  const error = useSignal("");
  const updated = useSignal<number | null>(null);
  const proxies = useSignal<ProxyInfo[]>([]);
  const capacity = useSignal<CapacityResponse | null>(props.initialCapacity ?? null);
  const costs = useSignal<CostsResponse | null>(null);

  const load = async () => {
    const r = range.value;
    try {
      const m = await apiCall<MetricsResponse>(props.apiBase, "/metrics", { query: { range: r } });
      if (r !== range.value) return;
      data.value = m;
      updated.value = Date.now();
      error.value = "";
      const [p, cap, cost] = await Promise.all([
        apiCall<{ proxies: ProxyInfo[] }>(props.apiBase, "/proxies").catch(() => null),
        apiCall<CapacityResponse>(props.apiBase, "/capacity").catch(() => null),
        apiCall<CostsResponse>(props.apiBase, "/costs").catch(() => null),
      ]);
      proxies.value = p?.proxies ?? [];
      capacity.value = cap ?? capacity.value;
      costs.value = cost;
    } catch (err) {
      error.value = t("dash.refreshFailed", { error: messageOf(err) });
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
  const rangeLabel = (r: MetricsRange) => t(RANGES.find(([x]) => x === r)![1]);

  return (
    <div class="stack" data-dashboard>
      <div class="dash-bar">
        <div class="tabs" role="tablist" aria-label={t("dash.range")}>
          {RANGES.map(([r]) => (
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
              {rangeLabel(r)}
            </button>
          ))}
        </div>
        <span
          class={`live ${error.value ? "live-reconnecting" : updated.value ? "live-live" : ""}`}
          data-updated
        >
          <span class="live-dot" aria-hidden="true"></span>
          {error.value ||
            (updated.value ? t("dash.live", { time: formatTime(updated.value) }) : t("common.loading"))}
        </span>
      </div>
      {!m || !summary
        ? (
          <section class="panel">
            <p class="empty">{error.value || t("dash.loading")}</p>
          </section>
        )
        : (
          <>
            <StatCards summary={summary} keys={m.keys} keysHref={props.keysHref} />
            <div class="chart-grid">
              <section class="panel chart-panel">
                <header class="panel-head">
                  <h2>{t("dash.chart.requests")}</h2>
                  <span class="muted small">{bucketLabel(m.bucketMs)}</span>
                </header>
                <TimeChart
                  label={t("dash.chart.requests.label")}
                  times={times}
                  format={formatCount}
                  series={[
                    { label: t("dash.series.ok"), colorVar: "--ok", values: pick((b) => b.ok), fill: true },
                    {
                      label: t("dash.series.limited"),
                      colorVar: "--warn",
                      values: pick((b) => b.rateLimited),
                    },
                    {
                      label: t("dash.series.errors"),
                      colorVar: "--bad",
                      values: pick((b) => b.errors - b.rateLimited),
                    },
                    {
                      label: t("dash.series.refused"),
                      colorVar: "--text-3",
                      values: pick((b) => b.refused ?? 0),
                    },
                    {
                      label: t("dash.series.clientErrors"),
                      colorVar: "--accent",
                      values: pick((b) => b.clientErrors ?? 0),
                    },
                  ]}
                />
              </section>
              <section class="panel chart-panel">
                <header class="panel-head">
                  <h2>{t("dash.chart.latency")}</h2>
                  <span class="muted small">{t("dash.chart.latency.sub")}</span>
                </header>
                <TimeChart
                  label={t("dash.chart.latency.label")}
                  times={times}
                  format={(v) => formatLatency(v)}
                  series={(["p50", "p95", "p99"] as const).map((p, i) => ({
                    label: p,
                    colorVar: ["--accent", "--warn", "--bad"][i],
                    values: pick((b) => latency(b[p], b.ok + b.errors)),
                    points: true,
                  }))}
                />
              </section>
              <section class="panel chart-panel">
                <header class="panel-head">
                  <h2>{t("dash.chart.tokens")}</h2>
                  <span class="muted small">{bucketLabel(m.bucketMs)}</span>
                </header>
                <TimeChart
                  label={t("dash.chart.tokens.label")}
                  times={times}
                  format={formatCount}
                  series={[
                    {
                      label: t("dash.series.input"),
                      colorVar: "--accent",
                      values: pick((b) => b.inputTokens),
                      fill: true,
                    },
                    { label: t("dash.series.output"), colorVar: "--ok", values: pick((b) => b.outputTokens) },
                  ]}
                />
              </section>
              <section class="panel chart-panel">
                <header class="panel-head">
                  <h2>{t("dash.chart.byModel")}</h2>
                  <span class="muted small">{rangeLabel(m.range)}</span>
                </header>
                <ModelTable rows={m.byModel} />
              </section>
            </div>
            <div class="chart-grid">
              {capacity.value && (
                <CapacityPanel
                  capacity={capacity.value}
                  now={updated.value ?? Date.now()}
                />
              )}
              <RefusalsPanel refusals={m.refusals ?? []} />
            </div>
            {costs.value?.priced && <CostPanel costs={costs.value} />}
            {proxies.value.length > 0 && (
              <ProxyPanel proxies={proxies.value} now={updated.value ?? Date.now()} />
            )}
          </>
        )}
    </div>
  );
}

function bucketLabel(ms: number): string {
  if (ms >= 3_600_000) return t("dash.per.hours", { n: ms / 3_600_000 });
  if (ms >= 60_000) return ms === 60_000 ? t("dash.per.minute") : t("dash.per.minutes", { n: ms / 60_000 });
  return t("dash.per.seconds", { n: ms / 1000 });
}
