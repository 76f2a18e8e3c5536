/**
 * The Dashboard page: the `Dashboard` island with the first metrics and capacity rendered on the server.
 *
 * @module
 */
import type { CapacityResponse, MetricsRange, MetricsResponse } from "../../lib/admin/api_types.ts";
import { sectionHref } from "../../lib/admin/nav.ts";
import { Dashboard } from "../../islands/dashboard.tsx";
import { AdminLayout } from "./layout.tsx";

/** Props of {@link DashboardPage}. */
export interface DashboardPageProps {
  basePath: string;
  csrfToken?: string;
  range: MetricsRange;
  metrics: MetricsResponse | null;
  capacity?: CapacityResponse | null;
}

/** Reads the chart range from the URL (default 1 h). */
export function parseRange(v: string | undefined): MetricsRange {
  return v === "24h" || v === "7d" ? v : "1h";
}

/** The Dashboard page. */
export function DashboardPage(props: DashboardPageProps) {
  return (
    <AdminLayout active="dashboard" basePath={props.basePath} csrfToken={props.csrfToken}>
      <Dashboard
        initial={props.metrics}
        initialCapacity={props.capacity}
        range={props.range}
        apiBase={`${props.basePath}/api`}
        keysHref={sectionHref(props.basePath, "keys")}
      />
    </AdminLayout>
  );
}
