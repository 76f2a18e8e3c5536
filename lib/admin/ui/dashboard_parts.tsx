/**
 * Plain parts of the dashboard: the headline stat cards (with keys by state, refusals and client
 * errors apart from the success rate), the per-model table, the capacity per model, refusals by
 * reason, today's cost estimate and the upstream proxies.
 *
 * @module
 */
import type {
  ApiModelCapacity,
  CapacityResponse,
  CostsResponse,
  KeyCounts,
  ModelTotals,
  ProxyInfo,
} from "../api_types.ts";
import { formatInt, formatLatency, formatMoney, formatPercent } from "../format.ts";
import { type MessageKey, t, tn } from "../i18n.ts";
import { formatCount, formatRemaining } from "../key_format.ts";
import { attempted, type MetricsSummary } from "../metrics_summary.ts";

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
  const tried = attempted(s);
  const successTone = tried === 0 ? "" : s.ok / tried >= 0.99 ? "ok" : s.ok / tried >= 0.9 ? "warn" : "bad";
  return (
    <div class="stat-grid">
      <div class="stat" data-stat="rpm">
        <span class="stat-label">{t("dash.rpm")}</span>
        <span class="stat-value">{rate(s.perMinute)}</span>
        <span class="stat-sub muted">
          {t("dash.rpm.sub", { requests: formatCount(s.requests), now: rate(s.latestPerMinute) })}
        </span>
      </div>
      <div class="stat" data-stat="success">
        <span class="stat-label">{t("dash.success")}</span>
        <span class={`stat-value ${successTone ? `tone-${successTone}` : ""}`}>
          {formatPercent(s.ok, tried)}
        </span>
        <span class="stat-sub muted">
          {t("dash.success.sub", { failed: formatCount(s.errors), limited: formatCount(s.rateLimited) })}
        </span>
      </div>
      <div class="stat" data-stat="refused">
        <span class="stat-label">{t("dash.refused")}</span>
        <span class={`stat-value ${s.refused ? "tone-warn" : ""}`} data-refused>
          {formatCount(s.refused)}
        </span>
        <span class="stat-sub muted" data-client-errors>
          {t("dash.refused.sub", { clientErrors: formatCount(s.clientErrors) })}
        </span>
      </div>
      <div class="stat" data-stat="latency">
        <span class="stat-label">{t("dash.latency")}</span>
        <span class="stat-value">{formatLatency(s.p50)}</span>
        <span class="stat-sub muted">
          {t("dash.latency.sub", { p95: formatLatency(s.p95), p99: formatLatency(s.p99) })}
        </span>
      </div>
      <div class="stat" data-stat="tokens">
        <span class="stat-label">{t("dash.tokens")}</span>
        <span class="stat-value">
          {formatCount(s.inputTokens)} <span class="muted">/</span> {formatCount(s.outputTokens)}
        </span>
        <span class="stat-sub muted">{t("dash.tokens.sub")}</span>
      </div>
      <a class="stat stat-link" href={keysHref} data-stat="keys">
        <span class="stat-label">{t("dash.keys")}</span>
        <span class="key-states">
          <span class="badge badge-ok" data-keys="active">{t("dash.keys.active", { n: keys.active })}</span>
          <span class="badge badge-warn" data-keys="cooling">
            {t("dash.keys.cooling", { n: keys.cooling })}
          </span>
          <span class="badge badge-bad" data-keys="disabled">
            {t("dash.keys.disabled", { n: keys.disabled })}
          </span>
        </span>
        <span class="stat-sub muted">
          {t("dash.keys.sub", { n: keys.active + keys.cooling + keys.disabled })}
        </span>
      </a>
    </div>
  );
}

/** Totals by model, busiest first. */
export function ModelTable({ rows }: { rows: ModelTotals[] }) {
  const sorted = [...rows].sort((a, b) => b.requests - a.requests);
  const max = Math.max(1, ...sorted.map((r) => r.requests));
  if (sorted.length === 0) return <p class="empty">{t("dash.models.empty")}</p>;
  return (
    <div class="table-wrap">
      <table class="table compact cards" data-by-model>
        <thead>
          <tr>
            <th scope="col">{t("dash.models.model")}</th>
            <th scope="col" class="num">{t("dash.models.requests")}</th>
            <th scope="col" class="num">{t("dash.models.success")}</th>
            <th scope="col" class="num">{t("dash.models.tokens")}</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={r.model}>
              <td data-label={t("dash.models.model")}>
                {r.model && r.model !== "-"
                  ? <code>{r.model}</code>
                  : <span class="muted">{t("dash.models.none")}</span>}
                <meter class="share" min={0} max={max} value={r.requests} />
              </td>
              <td class="num" data-label={t("dash.models.requests")}>{formatCount(r.requests)}</td>
              <td class="num" data-label={t("dash.models.success")}>
                {formatPercent(r.ok, r.ok + r.errors)}
              </td>
              <td class="num" data-label={t("dash.models.tokens")}>
                {formatCount(r.inputTokens)} / {formatCount(r.outputTokens)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Requests the gateway refused itself over the range, by reason. */
export function RefusalsPanel({ refusals }: { refusals: Array<{ reason: string; count: number }> }) {
  return (
    <section class="panel" data-refusals>
      <header class="panel-head">
        <h2>{t("dash.refusals")}</h2>
        <span class="muted small">{t("dash.refusals.sub")}</span>
      </header>
      {refusals.length === 0 ? <p class="empty">{t("dash.refusals.empty")}</p> : (
        <ul class="reason-list">
          {refusals.map((r) => (
            <li key={r.reason} data-refusal={r.reason}>
              <span>{t(`refusal.${r.reason}` as MessageKey)}</span>
              <strong>{formatInt(r.count)}</strong>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** One window of the capacity view: `412 / 600` left, and the keys whose limit is not known yet. */
function WindowCell({ w }: { w: ApiModelCapacity["minute"] }) {
  if (!w.limit && !w.unknown) return <span class="muted">—</span>;
  return (
    <div>
      {w.limit > 0 && (
        <div title={t("capacity.left", { left: formatInt(w.remaining), limit: formatInt(w.limit) })}>
          <strong>{formatInt(w.remaining)}</strong> <span class="muted">/ {formatInt(w.limit)}</span>
        </div>
      )}
      {w.unknown > 0 && <div class="muted small">{tn("capacity.unknown", w.unknown)}</div>}
    </div>
  );
}

/** How many gateway members (workers, instances on one KV) the capacity figures add up. */
function MembersNote({ members }: { members: CapacityResponse["members"] }) {
  const missing = Math.max(0, members.active - members.counted);
  const idle = Math.max(0, members.alive - Math.max(members.active, members.counted));
  return (
    <p class="muted small panel-note" data-capacity-members={members.counted}>
      {tn("capacity.members", members.counted)}
      {missing > 0 && ` ${tn("capacity.missing", missing)}`}
      {idle > 0 && ` ${tn("capacity.idle", idle)}`}
    </p>
  );
}

/** What the pool can still serve per model, and which models no key can serve. */
export function CapacityPanel({ capacity, now }: { capacity: CapacityResponse; now: number }) {
  const unservable = capacity.models.filter((m) => !m.servable);
  const known = capacity.models.filter((m) => m.servable && (m.minute.limit || m.day.limit || m.cooling));
  const others = capacity.models.length - unservable.length - known.length;
  return (
    <section class="panel" data-capacity>
      <header class="panel-head">
        <h2>{t("capacity.title")}</h2>
        <span class="muted small">{t("capacity.sub")}</span>
      </header>
      {unservable.length > 0 && (
        <div class="notice bad" data-unservable>
          <span>
            {t("capacity.unservable")} {unservable.map((m) => m.model).join(", ")}
          </span>
        </div>
      )}
      {known.length === 0 ? <p class="empty">{t("capacity.empty")}</p> : (
        <div class="table-wrap">
          <table class="table compact cards">
            <thead>
              <tr>
                <th scope="col">{t("capacity.model")}</th>
                <th scope="col" class="num">{t("capacity.keys")}</th>
                <th scope="col">{t("capacity.minute")}</th>
                <th scope="col">{t("capacity.day")}</th>
                <th scope="col">{t("capacity.nextFree")}</th>
              </tr>
            </thead>
            <tbody>
              {known.map((m) => (
                <tr key={m.model} data-capacity-model={m.model}>
                  <td data-label={t("capacity.model")}>
                    <code class="nowrap">{m.model}</code>
                  </td>
                  <td class="num" data-label={t("capacity.keys")}>
                    {t("capacity.usable", { usable: m.usable, keys: m.keys })}
                  </td>
                  <td data-label={t("capacity.minute")} data-minute>
                    <WindowCell w={m.minute} />
                  </td>
                  <td data-label={t("capacity.day")}>
                    <WindowCell w={m.day} />
                  </td>
                  <td data-label={t("capacity.nextFree")}>
                    {m.nextFreeAt
                      ? formatRemaining(m.nextFreeAt - now)
                      : <span class="muted">{t("capacity.now")}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {others > 0 && <p class="muted small panel-note">{tn("capacity.others", others)}</p>}
      <MembersNote members={capacity.members} />
    </section>
  );
}

/** Today's cost estimate by model, key and client token (only when prices are set). */
export function CostPanel({ costs }: { costs: CostsResponse }) {
  const lines: Array<{ title: string; rows: Array<{ name: string; cost: number }> }> = [
    { title: t("cost.byModel"), rows: costs.byModel.map((m) => ({ name: m.model, cost: m.cost })) },
    {
      title: t("cost.byKey"),
      rows: costs.byKey.map((k) => ({
        name: k.label ? `${k.label} (${k.masked})` : k.masked ?? k.keyId,
        cost: k.cost,
      })),
    },
    { title: t("cost.byToken"), rows: costs.byToken.map((k) => ({ name: k.token, cost: k.cost })) },
  ];
  return (
    <section class="panel" data-costs>
      <header class="panel-head">
        <h2>{t("cost.title")}</h2>
        <span class="muted small">
          {t("cost.total", { total: formatMoney(costs.total.cost), day: costs.day })}
        </span>
      </header>
      <div class="cost-grid">
        {lines.map((l) => (
          <div key={l.title}>
            <h3 class="detail-title">{l.title}</h3>
            {l.rows.length === 0 ? <p class="muted small">{t("cost.none")}</p> : (
              <ul class="reason-list">
                {l.rows.slice(0, 8).map((r) => (
                  <li key={r.name}>
                    <span class="mono">{r.name}</span>
                    <strong>{formatMoney(r.cost)}</strong>
                  </li>
                ))}
              </ul>
            )}
          </div>
        ))}
      </div>
      {costs.unpriced.length > 0 && (
        <p class="muted small panel-note">{t("cost.unpriced", { models: costs.unpriced.join(", ") })}</p>
      )}
    </section>
  );
}

/** Upstream proxies with their health (shown only when proxies are configured). */
export function ProxyPanel({ proxies, now }: { proxies: ProxyInfo[]; now: number }) {
  return (
    <section class="panel" data-proxies>
      <header class="panel-head">
        <h2>{t("proxies.title")}</h2>
        <span class="muted small">
          {t("proxies.up", { up: proxies.filter((p) => p.up).length, total: proxies.length })}
        </span>
      </header>
      <div class="table-wrap">
        <table class="table compact cards">
          <thead>
            <tr>
              <th scope="col">{t("proxies.proxy")}</th>
              <th scope="col">{t("proxies.state")}</th>
              <th scope="col" class="num">{t("proxies.failures")}</th>
              <th scope="col">{t("proxies.lastError")}</th>
            </tr>
          </thead>
          <tbody>
            {proxies.map((p) => (
              <tr key={p.proxy}>
                <td data-label={t("proxies.proxy")}>
                  <code>{p.proxy}</code>
                </td>
                <td data-label={t("proxies.state")}>
                  {p.up
                    ? <span class="badge badge-ok">{t("proxies.isUp")}</span>
                    : (
                      <span class="badge badge-bad">
                        {t("proxies.skipped")}
                        {p.downUntil && p.downUntil > now ? ` · ${formatRemaining(p.downUntil - now)}` : ""}
                      </span>
                    )}
                </td>
                <td class="num" data-label={t("proxies.failures")}>{p.failures}</td>
                <td class="error-cell" data-label={t("proxies.lastError")}>
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
