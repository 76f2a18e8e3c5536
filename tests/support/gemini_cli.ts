/**
 * Google's gemini-cli for the client tests: installed once from npm (a pinned version) into a cache
 * folder outside the app, and run with Node. `scripts/ensure_test_deps.ts` installs it before the test
 * suite; a test run alone installs it on first use.
 *
 * @module
 */

import { ensureNpmTool } from "./npm_tools.ts";

/** The gemini-cli version the README's snippet was checked with. */
export const GEMINI_CLI_VERSION = "0.61.0";

/**
 * The path of gemini-cli's entry script, installing it with npm first when missing.
 *
 * @throws {Error} when npm cannot install it (the message says what npm printed).
 */
export function ensureGeminiCli(): Promise<string> {
  return ensureNpmTool({
    pkg: "@google/gemini-cli",
    version: GEMINI_CLI_VERSION,
    entry: "node_modules/@google/gemini-cli/bundle/gemini.js",
  });
}

/**
 * Settings that keep gemini-cli's traffic on the machine (no usage statistics, telemetry or update
 * checks), merged into the settings a test gives it.
 */
export const OFFLINE_SETTINGS = {
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
};
