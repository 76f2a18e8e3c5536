/**
 * Rewrites the settings table in README.md from the settings schemas: `deno task docs`.
 *
 * @module
 */
import { settingsSection } from "./readme_settings.ts";

const path = new URL("../README.md", import.meta.url);
const text = Deno.readTextFileSync(path);
Deno.writeTextFileSync(path, settingsSection(text));
