/**
 * Prints the settings table for the README from the settings schemas (so the docs follow the code).
 * Usage: deno run scripts/settings_table.ts
 *
 * @module
 */
import type { z } from "zod";
import { startSettingsSchema } from "../lib/config/schema.ts";
import { settingsSchema } from "../lib/config/settings_schema.ts";
import { envName } from "../lib/config/env.ts";

function defaultOf(s: z.ZodType): string {
  const r = s.safeParse(undefined);
  if (!r.success || r.data === undefined) return "";
  const v = r.data;
  if (Array.isArray(v)) return v.length ? v.join(", ") : "(empty)";
  if (v !== null && typeof v === "object") return Object.keys(v).length ? JSON.stringify(v) : "{}";
  return String(v);
}

/** Markdown rows for a schema. */
export function settingsRows(schema: z.ZodObject, where: string): string[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const f = field as z.ZodType;
    const d = defaultOf(f);
    return `| \`${envName(name)}\` | ${where} | ${d ? `\`${d.replaceAll("|", "\\|")}\`` : ""} | ${
      (f.description ?? "").replaceAll("|", "\\|")
    } |`;
  });
}

if (import.meta.main) {
  console.log("| variable | changeable at run time | default | meaning |");
  console.log("|---|---|---|---|");
  for (const row of settingsRows(startSettingsSchema, "no (start only)")) console.log(row);
  for (const row of settingsRows(settingsSchema, "yes (admin panel)")) console.log(row);
}
