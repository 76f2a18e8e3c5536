/**
 * The Keys page: the first page of keys (filtered, sorted and paged by the URL query) rendered on
 * the server, then the live `KeyStates` island takes over.
 *
 * @module
 */
import type { ApiKey, KeyListQuery, KeyListResponse } from "../../lib/admin/api_types.ts";
import type { AdminDeps, KeyView } from "../../lib/admin/deps.ts";
import { queryKeys } from "../../lib/admin/key_query.ts";
import { KeyStates } from "../../islands/key_states.tsx";
import { AdminLayout } from "./layout.tsx";

/** Props of {@link KeysPage}. */
export interface KeysPageProps {
  basePath: string;
  csrfToken?: string;
  /** The keys the query asks for (see {@link keyPage}). */
  page: KeyListResponse;
  /** Search, filter, sort and page from the URL. */
  query: KeyListQuery;
  now: number;
}

/** Island props must be finite JSON: a cooldown without end (`Infinity`) travels as null. */
export function toApiKey(k: KeyView): ApiKey {
  return {
    ...k,
    cooldowns: k.cooldowns.map((c) => ({ ...c, until: Number.isFinite(c.until) ? c.until : null })),
  };
}

/**
 * The page of keys `q` asks for, as island props: from `deps.queryKeys` when the gateway pages at the
 * source, else every key from `deps.listKeys()` filtered in memory.
 */
export function keyPage(deps: Pick<AdminDeps, "listKeys" | "queryKeys">, q: KeyListQuery): KeyListResponse {
  if (!deps.queryKeys) return queryKeys(deps.listKeys().map(toApiKey), q);
  const page = deps.queryKeys(q);
  return { ...page, keys: page.keys.map(toApiKey) };
}

/** The Keys page. */
export function KeysPage(props: KeysPageProps) {
  return (
    <AdminLayout active="keys" basePath={props.basePath} csrfToken={props.csrfToken}>
      <KeyStates
        initial={props.page}
        query={props.query}
        serverNow={props.now}
        eventsUrl={`${props.basePath}/events`}
        apiBase={`${props.basePath}/api`}
      />
    </AdminLayout>
  );
}
