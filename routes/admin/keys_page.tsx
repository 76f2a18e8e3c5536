/**
 * The Keys page: the first page of keys (filtered, sorted and paged by the URL query through the
 * keys API) rendered on the server, then the live `KeyStates` island takes over.
 *
 * @module
 */
import type { KeyListQuery, KeyListResponse } from "../../lib/admin/api_types.ts";
import { KeyStates } from "../../islands/key_states.tsx";
import { AdminLayout } from "./layout.tsx";

/** Props of {@link KeysPage}. */
export interface KeysPageProps {
  basePath: string;
  csrfToken?: string;
  /** The keys the query asks for, as `GET /keys` answers. */
  page: KeyListResponse;
  /** Search, filter, sort and page from the URL. */
  query: KeyListQuery;
  now: number;
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
