/**
 * The Logs page: the `LogViewer` island, with the retention settings linked.
 *
 * @module
 */
import type { SettingsResponse } from "../../lib/admin/api_types.ts";
import { sectionHref } from "../../lib/admin/nav.ts";
import { LogViewer } from "../../islands/log_viewer.tsx";
import { AdminLayout } from "./layout.tsx";

/** Props of {@link LogsPage}. */
export interface LogsPageProps {
  basePath: string;
  csrfToken?: string;
  /** Settings, for the retention note (optional). */
  settings: SettingsResponse | null;
}

/** The Logs page. */
export function LogsPage(props: LogsPageProps) {
  const value = (name: string) => props.settings?.fields.find((f) => f.name === name)?.value;
  const hours = value("logRetentionHours");
  const enabled = value("logsEnabled");
  return (
    <AdminLayout active="logs" basePath={props.basePath} csrfToken={props.csrfToken}>
      <LogViewer
        apiBase={`${props.basePath}/api`}
        settingsHref={`${sectionHref(props.basePath, "settings")}#setting-logRetentionHours`}
        retentionHours={typeof hours === "number" ? hours : undefined}
        logsEnabled={typeof enabled === "boolean" ? enabled : undefined}
      />
    </AdminLayout>
  );
}
