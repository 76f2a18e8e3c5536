/**
 * The README's settings table, made from the settings schemas through the describer
 * (`lib/config/describe.ts`), so the docs follow the code: `deno task docs` rewrites it.
 *
 * @module
 */
import type { z } from "zod";
import { describeSettings, type SettingInfo } from "../lib/config/describe.ts";
import { startSettingsSchema } from "../lib/config/schema.ts";
import { settingsSchema } from "../lib/settings_schema.ts";

const START = "<!-- settings:start -->";
const END = "<!-- settings:end -->";

/** A default as the table shows it (empty when the setting has none). */
function defaultText(v: unknown): string {
  if (v === undefined) return "";
  if (Array.isArray(v)) return v.length ? v.join(", ") : "(empty)";
  if (v !== null && typeof v === "object") return Object.keys(v).length ? JSON.stringify(v) : "{}";
  return String(v);
}

const cell = (text: string) => text.replaceAll("|", "\\|");

/** Markdown rows for the settings of `schema`. */
function settingsRows(schema: z.ZodObject, where: string): string[] {
  return describeSettings(schema).map((s: SettingInfo) => {
    const d = defaultText(s.default);
    const meaning = s.secret ? `${s.description} Secret: never shown in full.` : s.description;
    return `| \`${s.env}\` | ${where} | ${d ? `\`${cell(d)}\`` : ""} | ${cell(meaning)} |`;
  });
}

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
