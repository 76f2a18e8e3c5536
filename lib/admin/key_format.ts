/**
 * Display helpers for key rows, shared by the Keys page (server) and the KeyStates island (browser).
 *
 * @module
 */
import type { KeyCooldown, KeyView } from "../pool/key_admin.ts";
import { currentLocale, formatNumber, t } from "./i18n.ts";

/** The parts of a key row that state display needs (server `KeyView` or API `ApiKey`). */
export interface KeyStateLike {
  state: KeyView["state"];
  cooldowns: Array<{ until: number | null }>;
}

/** CSS modifier for each key state (the label is the message `key.state.<state>`). */
export const KEY_STATE_TONES: Record<KeyView["state"], string> = {
  active: "ok",
  cooling: "warn",
  disabled: "bad",
};

/** A key state's label in the current language. */
export function keyStateLabel(state: KeyView["state"]): string {
  return t(`key.state.${state}`);
}

/** A cooldown kind's label in the current language. */
export function cooldownKindLabel(kind: KeyCooldown["kind"]): string {
  return t(`cooldown.${kind}`);
}

/** Remaining time as `45s`, `3m 05s`, `2h 10m` or `3d 4h` (in the current language); `0s` when past. */
export function formatRemaining(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return t("remaining.s", { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t("remaining.ms", { m, s: two(s % 60) });
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return t("remaining.hm", { h: hrs, m: two(m % 60) });
  return t("remaining.dh", { d: Math.floor(hrs / 24), h: hrs % 24 });
}

/** Compact number: 950, 12.3k, 4.5M in English; the locale's compact form otherwise (1.2万). */
export function formatCount(n: number): string {
  if (currentLocale().lang !== "en") {
    return formatNumber(n, { notation: "compact", maximumFractionDigits: 1 });
  }
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** Cooldowns still running at `now`, soonest first (`until: null` never ends). */
export function activeCooldowns<C extends { until: number | null }>(
  key: { cooldowns: C[] },
  now: number,
): C[] {
  const end = (c: C) => c.until ?? Infinity;
  return key.cooldowns.filter((c) => end(c) > now).sort((a, b) => end(a) - end(b));
}

/** The state to show at `now`: a cooling key whose cooldowns all ended shows as active. */
export function effectiveState(key: KeyStateLike, now: number): KeyView["state"] {
  if (key.state === "cooling" && activeCooldowns(key, now).length === 0) return "active";
  return key.state;
}
