/**
 * The Settings page: the `SettingsForm` island with the fields rendered on the server, and the backup
 * and restore panel.
 *
 * @module
 */
import type { SettingsResponse } from "../../lib/admin/api_types.ts";
import { SettingsForm } from "../../islands/settings_form.tsx";
import { AdminLayout } from "./layout.tsx";

/** Props of {@link SettingsPage}. */
export interface SettingsPageProps {
  basePath: string;
  csrfToken?: string;
  settings: SettingsResponse | null;
}

/** The Settings page. */
export function SettingsPage(props: SettingsPageProps) {
  return (
    <AdminLayout active="settings" basePath={props.basePath} csrfToken={props.csrfToken}>
      <SettingsForm initial={props.settings} apiBase={`${props.basePath}/api`} />
    </AdminLayout>
  );
}
