/**
 * The Keys page: the first page of keys (filtered, sorted and paged by the URL query) rendered on
 * the server, then the live `KeyStates` island takes over.
 *
 * @module
 */
import type { ApiKey, KeyListQuery } from "../../lib/admin/api_types.ts";
import type { KeyView } from "../../lib/admin/deps.ts";
import { queryKeys } from "../../lib/admin/key_query.ts";
import { KeyStates } from "../../islands/key_states.tsx";
import { AdminLayout } from "./layout.tsx";

/** Props of {@link KeysPage}. */
export interface KeysPageProps {
  basePath: string;
  csrfToken?: string;
  /** Every key (the page slices it). */
  keys: KeyView[];
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

/** The Keys page. */
export function KeysPage(props: KeysPageProps) {
  const initial = queryKeys(props.keys.map(toApiKey), props.query);
  return (
    <AdminLayout active="keys" basePath={props.basePath} csrfToken={props.csrfToken}>
      <KeyStates
        initial={initial}
        query={props.query}
        serverNow={props.now}
        eventsUrl={`${props.basePath}/events`}
        apiBase={`${props.basePath}/api`}
      />
    </AdminLayout>
  );
}
