/**
 * Sections of the Settings form: a title and a line of help per settings group, in display order.
 * Each setting names its group in the settings schema (`settingMeta`, `lib/config/describe.ts`) and
 * the settings API sends it with the field.
 *
 * @module
 */
import type { SettingGroup } from "../config/describe.ts";

/** How a section of the form is shown. */
export interface SettingsSection {
  title: string;
  description: string;
}

/** Sections in display order (every group has one). */
export const SETTINGS_SECTIONS: Readonly<Record<SettingGroup, SettingsSection>> = {
  access: {
    title: "Access",
    description: "Who may call the gateway. Named tokens with limits are managed on the Tokens page.",
  },
  upstream: {
    title: "Upstream and retries",
    description: "Where requests go, through which proxies, and how hard the gateway tries before giving up.",
  },
  keys: {
    title: "Key pool and quotas",
    description: "Cooldowns, waiting for a free key, and re-checks of disabled keys.",
  },
  models: {
    title: "Models and features",
    description: "Aliases, suffixes, hidden models, tools and defaults added to requests.",
  },
  streaming: {
    title: "Streaming",
    description: "Smoother streamed answers and keep-alives for slow first tokens.",
  },
  logs: {
    title: "Logging",
    description: "The request log and how long entries are kept.",
  },
  reporting: {
    title: "Notifications and costs",
    description: "A webhook for events that need the operator, and prices for the cost estimate.",
  },
  server: {
    title: "Server",
    description: "Read once at start from the environment.",
  },
};

/** Splits settings into their sections (in display order; empty sections left out). */
export function groupSettings<T extends { group: SettingGroup }>(
  items: T[],
): Array<{ id: SettingGroup; section: SettingsSection; items: T[] }> {
  return (Object.entries(SETTINGS_SECTIONS) as Array<[SettingGroup, SettingsSection]>)
    .map(([id, section]) => ({ id, section, items: items.filter((i) => i.group === id) }))
    .filter((s) => s.items.length > 0);
}
