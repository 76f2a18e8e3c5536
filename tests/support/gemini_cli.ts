/**
 * Google's gemini-cli for the client tests: installed once from npm (a pinned version) into a cache
 * folder outside the app, and run with Node. `scripts/ensure_test_deps.ts` installs it before the test
 * suite; a test run alone installs it on first use.
 *
 * @module
 */

/** The gemini-cli version the README's snippet was checked with. */
export const GEMINI_CLI_VERSION = "0.61.0";

const CACHE = `${
  Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`
}/gemini-gateway-tests`;
const PREFIX = `${CACHE}/gemini-cli-${GEMINI_CLI_VERSION}`;
const ENTRY = `${PREFIX}/node_modules/@google/gemini-cli/bundle/gemini.js`;

/**
 * The path of gemini-cli's entry script, installing it with npm first when missing.
 *
 * @throws {Error} when npm cannot install it (the message says what npm printed).
 */
export async function ensureGeminiCli(): Promise<string> {
  if (await Deno.stat(ENTRY).then(() => true, () => false)) return ENTRY;
  await Deno.mkdir(PREFIX, { recursive: true });
  const out = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      PREFIX,
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      `@google/gemini-cli@${GEMINI_CLI_VERSION}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `npm could not install @google/gemini-cli@${GEMINI_CLI_VERSION} into ${PREFIX}: ` +
        new TextDecoder().decode(out.stderr).slice(-800),
    );
  }
  return ENTRY;
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
