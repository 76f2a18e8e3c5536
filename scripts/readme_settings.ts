/**
 * The README's settings table, made from the settings schemas.
 *
 * @module
 */
import { startSettingsSchema } from "../lib/config/schema.ts";
import { settingsSchema } from "../lib/config/settings_schema.ts";
import { settingsRows } from "./settings_table.ts";

const START = "<!-- settings:start -->";
const END = "<!-- settings:end -->";

/** The table as markdown. */
export function settingsTable(): string {
  return [
    "| variable | changeable at run time | default | meaning |",
    "|---|---|---|---|",
    ...settingsRows(startSettingsSchema, "no (start only)"),
    ...settingsRows(settingsSchema, "yes (admin panel)"),
  ].join("\n");
}

/** `readme` with the block between the markers replaced by the current table. */
export function settingsSection(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < 0) throw new Error(`README.md needs the markers ${START} and ${END}`);
  return readme.slice(0, a + START.length) + "\n" + settingsTable() + "\n" + readme.slice(b);
}
