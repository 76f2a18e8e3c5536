/**
 * How much the pool can still serve, per model: requests left this minute and today (from the limits
 * the admin entered and the ones learned from Google's 429s; keys of one project count once, since
 * they share its quota), how many keys can serve it now, when the next one frees, and which models no
 * key can serve at all. The dashboard shows it and `/metrics` exports the same numbers
 * ({@link capacityMetrics}).
 *
 * When several gateways serve from the same KV, each paces a scope against its share of the limit
 * (`lib/cluster/members.ts`) and counts only what it sent itself: a gateway's report is what it can
 * still send (its share minus its own use), so the reports of all gateways add up to the pool's total,
 * as `/metrics` sums them. The admin panel shows that total: `lib/cluster/capacity_board.ts` publishes
 * every gateway's figures to KV and adds them up.
 *
 * @module
 */
import type { KeyPool, PairView } from "./key_pool.ts";

/** Requests left in one window (a minute or a Pacific day), summed over quota scopes. */
export interface CapacityWindow {
  /** Requests left in scopes whose limit is known. */
  remaining: number;
  /** The summed limit of those scopes. */
  limit: number;
  /** Usable scopes whose limit is not known yet (each serves at least one more request). */
  unknown: number;
}

/** What the pool can do for one model. */
export interface ModelCapacity {
  model: string;
  /** Enabled keys. */
  keys: number;
  /** Keys that could serve a request now. */
  usable: number;
  /** Keys cooling down (a rate limit, a daily quota, an error backoff). */
  cooling: number;
  /** Keys without access to the model (until a re-check). */
  noAccess: number;
  /** Distinct quota scopes among the enabled keys (a project's keys share one). */
  scopes: number;
  minute: CapacityWindow;
  day: CapacityWindow;
  /** When the next key frees, when none is usable now (epoch ms); null when one is or none will. */
  nextFreeAt: number | null;
  /** False when no enabled key can serve the model without an admin (disabled, no access). */
  servable: boolean;
}

/** The capacity of every model the pool knows something about. */
export interface CapacityReport {
  /** Epoch ms the report is for. */
  time: number;
  /** Enabled keys in the pool. */
  enabledKeys: number;
  /** Models with known limits or state first, then models no key can serve, then the rest. */
  models: ModelCapacity[];
}

/** Options for {@link capacityReport}. */
export interface CapacityOptions {
  /** Further models to report (Google's model list), besides the ones with limits or state. */
  models?: Iterable<string>;
  /** Clock; default `Date.now`. */
  now?: number;
}

/** One scope in one window: its limit when known, what it used, and whether Google said it is spent. */
interface ScopeWindow {
  limit?: number;
  used: number;
  spent: boolean;
}

function windowOf(views: PairView[], pick: (v: PairView) => ScopeWindow): CapacityWindow {
  const out: CapacityWindow = { remaining: 0, limit: 0, unknown: 0 };
  for (const v of views) {
    const { limit, used, spent } = pick(v);
    if (limit !== undefined) out.limit += limit;
    if (spent) continue;
    if (limit === undefined) out.unknown++;
    else out.remaining += Math.max(0, limit - used);
  }
  return out;
}

/** The capacity of one model. */
export function modelCapacity(pool: KeyPool, model: string, now = Date.now()): ModelCapacity {
  const cap: ModelCapacity = {
    model,
    keys: 0,
    usable: 0,
    cooling: 0,
    noAccess: 0,
    scopes: 0,
    minute: { remaining: 0, limit: 0, unknown: 0 },
    day: { remaining: 0, limit: 0, unknown: 0 },
    nextFreeAt: null,
    servable: false,
  };
  // One view per quota scope (the first enabled key's limits stand for the project). Only scopes where
  // some key has state or configured limits for the model are viewed key by key; the other keys are
  // usable with no known limit (O(keys with state), not O(keys), for a report every few seconds).
  const { enabled, scopes, special } = pool.modelViews(model);
  const chosen: PairView[] = [];
  let earliest = Infinity;
  let viewed = 0;
  for (const views of special) {
    let known: PairView | undefined;
    for (const v of views) {
      viewed++;
      if (v.freeAt <= now) cap.usable++;
      else if (v.coolKind === "no_access" || v.freeAt === Infinity) cap.noAccess++;
      else {
        cap.cooling++;
        earliest = Math.min(earliest, v.freeAt);
      }
      // A scope counts as usable when any of its keys is (error backoff is per key).
      if (!known || (known.freeAt > now && v.freeAt <= now)) known = v;
    }
    if (known) chosen.push(known);
  }
  cap.keys = enabled;
  cap.usable += enabled - viewed;
  const plainScopes = scopes - special.length;
  cap.scopes = scopes;
  cap.servable = cap.usable + cap.cooling > 0;
  if (!cap.usable && Number.isFinite(earliest)) cap.nextFreeAt = earliest;
  const open = chosen.filter((v) => v.freeAt !== Infinity);
  cap.minute = windowOf(open, (v) => ({
    limit: v.paced.rpm,
    used: v.usedThisMinute,
    spent: v.freeAt > now && (v.coolKind === "minute" || v.coolKind === "day"),
  }));
  cap.day = windowOf(open, (v) => ({
    limit: v.paced.rpd,
    used: v.usedToday,
    spent: v.freeAt > now && v.coolKind === "day",
  }));
  cap.minute.unknown += plainScopes;
  cap.day.unknown += plainScopes;
  return cap;
}

/** The capacity of every model with limits or state in the pool, plus `options.models`. */
export function capacityReport(pool: KeyPool, options: CapacityOptions = {}): CapacityReport {
  const now = options.now ?? Date.now();
  const stated = pool.statedModels();
  const all = new Set([...stated, ...(options.models ?? [])]);
  const models = [...all].map((m) => modelCapacity(pool, m, now));
  const rank = (c: ModelCapacity) => !c.servable ? 0 : stated.has(c.model) ? 1 : 2;
  models.sort((a, b) => rank(a) - rank(b) || a.model.localeCompare(b.model));
  return { time: now, enabledKeys: pool.enabledCount, models };
}

/** One sample for a metrics exporter (Prometheus text format: `name{model="…"} value`). */
export interface CapacitySample {
  /** Metric name, e.g. `gateway_capacity_minute_remaining`. */
  name: string;
  /** What it measures (the exporter's `# HELP` line). */
  help: string;
  labels: { model: string };
  value: number;
  /**
   * True when each gateway reports its own part (its share of the limits minus its own use) and the
   * parts add up across gateways; false when every gateway computes it alike from the shared key state.
   */
  perGateway: boolean;
}

/** The metric names and what they measure, read from a {@link ModelCapacity}. */
const CAPACITY_METRICS: ReadonlyArray<
  { name: string; help: string; perGateway: boolean; read: (c: ModelCapacity, time: number) => number }
> = [
  {
    name: "gateway_capacity_minute_remaining",
    perGateway: true,
    help: "Requests the pool can still send this minute, over quota scopes with a known limit.",
    read: (c) => c.minute.remaining,
  },
  {
    name: "gateway_capacity_minute_unknown_scopes",
    perGateway: false,
    help: "Usable quota scopes whose per-minute limit is not known yet.",
    read: (c) => c.minute.unknown,
  },
  {
    name: "gateway_capacity_day_remaining",
    perGateway: true,
    help: "Requests the pool can still send this Pacific day, over quota scopes with a known limit.",
    read: (c) => c.day.remaining,
  },
  {
    name: "gateway_capacity_usable_keys",
    perGateway: false,
    help: "Enabled keys that can serve the model now.",
    read: (c) => c.usable,
  },
  {
    name: "gateway_capacity_next_free_seconds",
    perGateway: false,
    help: "Seconds until the next key frees when none can serve the model now (0 when one can).",
    read: (c, time) => c.nextFreeAt === null ? 0 : Math.max(0, c.nextFreeAt - time) / 1000,
  },
  {
    name: "gateway_capacity_servable",
    perGateway: false,
    help: "1 when some enabled key can serve the model (now or after a cooldown), 0 when none can.",
    read: (c) => c.servable ? 1 : 0,
  },
];

/** The series {@link capacityMetrics} fills, known before any report (exporters register them up front). */
export const CAPACITY_SERIES: ReadonlyArray<{ name: string; help: string; perGateway: boolean }> =
  CAPACITY_METRICS
    .map(({ name, help, perGateway }) => ({ name, help, perGateway }));

/**
 * The capacity report as flat samples for a `/metrics` exporter. `ownShare: false` leaves out the
 * figures that are this gateway's own share (summed over gateways: `perGateway`), for a gateway whose
 * share must not be added (`countsInPoolSum` in `lib/cluster/capacity_board.ts`).
 */
export function capacityMetrics(report: CapacityReport, o: { ownShare?: boolean } = {}): CapacitySample[] {
  const series = o.ownShare === false ? CAPACITY_METRICS.filter((m) => !m.perGateway) : CAPACITY_METRICS;
  return series.flatMap((m) =>
    report.models.map((c) => ({
      name: m.name,
      help: m.help,
      labels: { model: c.model },
      value: m.read(c, report.time),
      perGateway: m.perGateway,
    }))
  );
}
