/**
 * The Keys page: the pool's keys, masked, with the live `KeyStates` island.
 *
 * @module
 */
import type { KeyView } from "../../lib/admin/deps.ts";
import { KeyStates } from "../../islands/key_states.tsx";
import { AdminLayout } from "./layout.tsx";

/** Props of {@link KeysPage}. */
export interface KeysPageProps {
  basePath: string;
  csrfToken?: string;
  keys: KeyView[];
  now: number;
}

/** The Keys page. */
export function KeysPage(props: KeysPageProps) {
  return (
    <AdminLayout active="keys" basePath={props.basePath} csrfToken={props.csrfToken}>
      <KeyStates initial={props.keys} serverNow={props.now} eventsUrl={`${props.basePath}/events`} />
    </AdminLayout>
  );
}
