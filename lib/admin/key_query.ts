/**
 * The Keys page query (search, state filter, sort, page) parsed from URL parameters, and the same
 * filtering applied to an in-memory key list, for the first server render and for gateways that
 * mount the panel without the keys API.
 *
 * @module
 */
import type { ApiKey, KeyListQuery, KeyListResponse } from "./api_types.ts";

const STATES = ["active", "cooling", "disabled"] as const;
const SORTS = ["added", "state", "label", "requests"] as const;
/** Page sizes offered by the Keys page. */
export const PAGE_SIZES = [25, 50, 100, 200] as const;

/** Reads a {@link KeyListQuery} from URL query parameters, with safe defaults. */
export function parseKeyQuery(q: Record<string, string | undefined>): KeyListQuery {
  const state = STATES.find((s) => s === q.state) ?? "";
  const sort = SORTS.find((s) => s === q.sort) ?? "added";
  const limit = Number(q.limit);
  return {
    search: (q.search ?? "").slice(0, 200),
    state,
    sort,
    offset: Math.max(0, Math.floor(Number(q.offset) || 0)),
    limit: PAGE_SIZES.find((n) => n === limit) ?? 50,
  };
}

/** The query as URL parameters, leaving out defaults. */
export function keyQueryParams(q: KeyListQuery): Record<string, string> {
  const out: Record<string, string> = {};
  if (q.search) out.search = q.search;
  if (q.state) out.state = q.state;
  if (q.sort !== "added") out.sort = q.sort;
  if (q.offset) out.offset = String(q.offset);
  if (q.limit !== 50) out.limit = String(q.limit);
  return out;
}

const STATE_ORDER = { disabled: 0, cooling: 1, active: 2 };
const SORTERS: Record<KeyListQuery["sort"], (a: ApiKey, b: ApiKey) => number> = {
  added: (a, b) => (a.addedAt ?? 0) - (b.addedAt ?? 0),
  state: (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state],
  label: (a, b) => (a.label ?? "").localeCompare(b.label ?? ""),
  requests: (a, b) => (b.usageToday?.requests ?? 0) - (a.usageToday?.requests ?? 0),
};

/** Filters, sorts and pages an in-memory key list like `GET /keys` does. */
export function queryKeys(all: ApiKey[], q: KeyListQuery): KeyListResponse {
  const counts = { active: 0, cooling: 0, disabled: 0 };
  for (const k of all) counts[k.state]++;
  const search = q.search.toLowerCase();
  const rows = all.filter((k) =>
    (!q.state || k.state === q.state) &&
    (!search ||
      [k.id, k.masked, k.label, k.project, k.disabledReason].some((s) => s?.toLowerCase().includes(search)))
  ).sort(SORTERS[q.sort]);
  return { total: rows.length, keys: rows.slice(q.offset, q.offset + q.limit), counts };
}
