/**
 * Inline SVG icons for the admin pages (no icon font, no external requests).
 *
 * @module
 */

/** A 24x24 stroked icon from SVG path data. */
export function Icon({ d, class: className = "icon" }: { d: string; class?: string }) {
  return (
    <svg
      class={className}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
    >
      <path d={d} />
    </svg>
  );
}

/** The product mark (a four-point spark). */
export function BrandMark() {
  return (
    <svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
      <path
        fill="currentColor"
        d="M12 2c.6 4.9 3.2 7.5 8 8-4.8.6-7.4 3.1-8 8-.6-4.9-3.2-7.4-8-8 4.8-.5 7.4-3.1 8-8z"
      />
    </svg>
  );
}

/** Sign-out icon path. */
export const SIGN_OUT_ICON = "M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9";

/** Three lines: the phone menu button. */
export const MENU_ICON = "M3 6h18M3 12h18M3 18h18";
