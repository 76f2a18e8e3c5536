/**
 * The Keys page query (search, state filter, sort, page) parsed from URL parameters and written
 * back without defaults. The keys API (`GET /keys`, `KeyAdmin.list`) does the filtering and paging.
 *
 * @module
 */
import type { KeyListQuery } from "./api_types.ts";

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
