/**
 * The signed-in admin layout: sidebar navigation (from `ADMIN_NAV`; on a phone a top bar whose menu
 * button opens it, without JavaScript), the language switch, the sign-out form, and the page header
 * with title and description.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import { CSRF_FIELD } from "../../lib/admin/csrf.ts";
import { t } from "../../lib/admin/i18n.ts";
import { ADMIN_NAV, type AdminSection, navDescription, navLabel, sectionHref } from "../../lib/admin/nav.ts";
import { BrandMark, Icon, MENU_ICON, SIGN_OUT_ICON } from "./icons.tsx";
import { LangSwitch } from "./lang_switch.tsx";

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
  return (
    <div class="shell">
      <aside class="sidebar">
        {/* The phone menu: a checkbox toggles the panel below (CSS only; the label is its button). */}
        <input type="checkbox" id="nav-toggle" class="nav-toggle" aria-label={t("layout.menu")} />
        <div class="sidebar-top">
          <a class="brand" href={sectionHref(props.basePath, "dashboard")}>
            <BrandMark />
            <span class="brand-text">
              <span class="brand-name">{t("product.name")}</span>
              <span class="brand-sub">{t("layout.admin")}</span>
            </span>
          </a>
          <label for="nav-toggle" class="menu-button" data-menu-button>
            <Icon d={MENU_ICON} />
            <span>{t("layout.menu")}</span>
          </label>
        </div>
        <div class="nav-panel" data-nav-panel>
          <nav class="nav" aria-label={t("layout.sections")}>
            <ul>
              {ADMIN_NAV.map((item) => (
                <li key={item.id}>
                  <a
                    href={sectionHref(props.basePath, item.id)}
                    class={item.id === props.active ? "nav-link active" : "nav-link"}
                    aria-current={item.id === props.active ? "page" : undefined}
                  >
                    <Icon d={item.icon} />
                    {navLabel(item.id)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="sidebar-foot">
            <LangSwitch basePath={props.basePath} next={sectionHref(props.basePath, props.active)} />
            <form class="signout" method="post" action={`${props.basePath}/logout`}>
              <input type="hidden" name={CSRF_FIELD} value={props.csrfToken ?? ""} />
              <button type="submit" class="nav-link" data-action="logout">
                <Icon d={SIGN_OUT_ICON} />
                {t("layout.signOut")}
              </button>
            </form>
          </div>
        </div>
      </aside>
      <main class="main">
        <header class="page-head">
          <div>
            <h1>{navLabel(props.active)}</h1>
            <p class="muted">{navDescription(props.active)}</p>
          </div>
          {props.actions && <div class="page-actions">{props.actions}</div>}
        </header>
        {props.children}
      </main>
    </div>
  );
}
