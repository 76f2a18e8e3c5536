/**
 * Display helpers for key rows, shared by the Keys page (server) and the KeyStates island (browser).
 *
 * @module
 */
import type { KeyCooldown, KeyView } from "../pool/key_admin.ts";

/** The parts of a key row that state display needs (server `KeyView` or API `ApiKey`). */
export interface KeyStateLike {
  state: KeyView["state"];
  cooldowns: Array<{ until: number | null }>;
}

/** Label and CSS modifier for each key state. */
export const KEY_STATE_LABELS: Record<KeyView["state"], { label: string; tone: string }> = {
  active: { label: "Active", tone: "ok" },
  cooling: { label: "Cooling down", tone: "warn" },
  disabled: { label: "Disabled", tone: "bad" },
};

/** Label for each cooldown kind. */
export const COOLDOWN_KIND_LABELS: Record<KeyCooldown["kind"], string> = {
  minute: "per-minute limit",
  day: "daily limit",
  no_access: "no access",
  backoff: "error backoff",
};

/** Remaining time as `45s`, `3m 05s`, `2h 10m` or `3d 4h`; `0s` when past. */
export function formatRemaining(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}

/** Compact number: 950, 12.3k, 4.5M. */
export function formatCount(n: number): string {
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
