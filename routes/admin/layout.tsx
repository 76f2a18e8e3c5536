/**
 * The signed-in admin layout: sidebar navigation (from `ADMIN_NAV`), sign-out form, and the page
 * header with title and description.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import { CSRF_FIELD } from "../../lib/admin/csrf.ts";
import { ADMIN_NAV, type AdminSection, navItem, sectionHref } from "../../lib/admin/nav.ts";
import { BrandMark, Icon, SIGN_OUT_ICON } from "./icons.tsx";

/** Props of {@link AdminLayout}. */
export interface AdminLayoutProps {
  /** The current section (highlighted in the sidebar, gives the title). */
  active: AdminSection;
  /** Where the admin panel is mounted, e.g. `/admin`. */
  basePath: string;
  /** CSRF token for the sign-out form. */
  csrfToken?: string;
  /** Optional header actions (buttons) next to the title. */
  actions?: ComponentChildren;
  children?: ComponentChildren;
}

/** The admin shell around every signed-in page. */
export function AdminLayout(props: AdminLayoutProps) {
  const current = navItem(props.active);
  return (
    <div class="shell">
      <aside class="sidebar">
        <a class="brand" href={sectionHref(props.basePath, "dashboard")}>
          <BrandMark />
          <span class="brand-text">
            <span class="brand-name">Gemini Gateway</span>
            <span class="brand-sub">Admin</span>
          </span>
        </a>
        <nav class="nav" aria-label="Admin sections">
          <ul>
            {ADMIN_NAV.map((item) => (
              <li key={item.id}>
                <a
                  href={sectionHref(props.basePath, item.id)}
                  class={item.id === props.active ? "nav-link active" : "nav-link"}
                  aria-current={item.id === props.active ? "page" : undefined}
                >
                  <Icon d={item.icon} />
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <form class="signout" method="post" action={`${props.basePath}/logout`}>
          <input type="hidden" name={CSRF_FIELD} value={props.csrfToken ?? ""} />
          <button type="submit" class="nav-link" data-action="logout">
            <Icon d={SIGN_OUT_ICON} />
            Sign out
          </button>
        </form>
      </aside>
      <main class="main">
        <header class="page-head">
          <div>
            <h1>{current.label}</h1>
            <p class="muted">{current.description}</p>
          </div>
          {props.actions && <div class="page-actions">{props.actions}</div>}
        </header>
        {props.children}
      </main>
    </div>
  );
}
