/**
 * Stand-in for sections whose pages are not built yet, so the navigation never leads to a 404.
 *
 * @module
 */
import type { AdminSection } from "../../lib/admin/nav.ts";
import { AdminLayout } from "./layout.tsx";

/** Props of {@link PlaceholderPage}. */
export interface PlaceholderPageProps {
  active: AdminSection;
  basePath: string;
  csrfToken?: string;
}

/** An empty-state page for a section that is not available yet. */
export function PlaceholderPage(props: PlaceholderPageProps) {
  return (
    <AdminLayout active={props.active} basePath={props.basePath} csrfToken={props.csrfToken}>
      <section class="panel empty-state">
        <h2>Not available yet</h2>
        <p class="muted">This section is part of an upcoming release of the admin console.</p>
        <a class="button" href={`${props.basePath}/keys`}>Go to Keys</a>
      </section>
    </AdminLayout>
  );
}
