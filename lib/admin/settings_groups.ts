/**
 * Sections of the Settings form, in display order; each section's title and line of help are the
 * messages `settings.group.<id>` and `settings.group.<id>.description`. Each setting names its group
 * in the settings schema (`settingMeta`, `lib/config/describe.ts`) and the settings API sends it with
 * the field.
 *
 * @module
 */
import type { SettingGroup } from "../config/describe.ts";
import { t } from "./i18n.ts";

/** How a section of the form is shown. */
export interface SettingsSection {
  title: string;
  description: string;
}

/** The sections in display order (every group has one). */
export const SETTINGS_GROUP_ORDER: readonly SettingGroup[] = [
  "access",
  "upstream",
  "keys",
  "models",
  "streaming",
  "live",
  "logs",
  "reporting",
  "server",
];

/** A section's title and help in the current language. */
export function settingsSection(id: SettingGroup): SettingsSection {
  return { title: t(`settings.group.${id}`), description: t(`settings.group.${id}.description`) };
}

/** Splits settings into their sections (in display order; empty sections left out). */
export function groupSettings<T extends { group: SettingGroup }>(
  items: T[],
): Array<{ id: SettingGroup; section: SettingsSection; items: T[] }> {
  return SETTINGS_GROUP_ORDER
    .map((id) => ({ id, section: settingsSection(id), items: items.filter((i) => i.group === id) }))
    .filter((s) => s.items.length > 0);
}
