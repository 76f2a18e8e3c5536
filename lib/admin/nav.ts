/**
 * The admin panel's sections: one table drives the sidebar and the routes, so adding a page is
 * one row here plus its page component.
 *
 * @module
 */
import { t } from "./i18n.ts";

/** Where the admin panel is mounted. */
export const ADMIN_BASE = "/admin";

/** A section id. */
export type AdminSection = "dashboard" | "keys" | "settings" | "tokens" | "logs";

/** One sidebar entry (its label and description are the messages `nav.<id>` and `nav.<id>.description`). */
export interface AdminNavItem {
  id: AdminSection;
  /** Path below the admin base path (`""` is the base itself). */
  path: string;
  /** SVG path data (24x24, stroked) for the icon. */
  icon: string;
}

/** Sidebar order. */
export const ADMIN_NAV: readonly AdminNavItem[] = [
  {
    id: "dashboard",
    path: "",
    icon: "M3 3h7v7H3zM14 3h7v7h-7zM14 14h7v7h-7zM3 14h7v7H3z",
  },
  {
    id: "keys",
    path: "/keys",
    icon:
      "M21 2l-2 2m-7.6 7.6a5.5 5.5 0 1 1-7.8 7.8 5.5 5.5 0 0 1 7.8-7.8zm0 0L15.5 7.5m0 0l3 3L22 7l-3-3m-3.5 3.5L19 4",
  },
  {
    id: "settings",
    path: "/settings",
    icon: "M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6",
  },
  {
    id: "tokens",
    path: "/tokens",
    icon: "M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z",
  },
  {
    id: "logs",
    path: "/logs",
    icon: "M8 6h13M8 12h13M8 18h13M3 6h.01M3 12h.01M3 18h.01",
  },
];

/** A section's label (sidebar and page title) in the current language. */
export function navLabel(id: AdminSection): string {
  return t(`nav.${id}`);
}

/** A section's one-line description (under the page title) in the current language. */
export function navDescription(id: AdminSection): string {
  return t(`nav.${id}.description`);
}

/** The nav item of a section. */
export function navItem(id: AdminSection): AdminNavItem {
  return ADMIN_NAV.find((item) => item.id === id)!;
}

/** Absolute URL path of a section under `basePath` (e.g. `/admin/keys`; the dashboard is `/admin`). */
export function sectionHref(basePath: string, id: AdminSection): string {
  return `${basePath}${navItem(id).path}`;
}

/**
 * A safe post-login redirect target: `next` when it is a path inside `basePath`, else `fallback`.
 * Refuses other hosts (`//evil`, `https://...`) and backslash tricks.
 */
export function safeNextPath(next: unknown, basePath: string, fallback: string): string {
  if (typeof next !== "string" || next.includes("\\") || next.startsWith("//")) return fallback;
  if (next === basePath || next.startsWith(`${basePath}/`) || next.startsWith(`${basePath}?`)) return next;
  return fallback;
}
