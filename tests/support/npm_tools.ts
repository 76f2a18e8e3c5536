/**
 * Programs the client tests drive that come from npm (gemini-cli, Claude Code, Codex CLI): each
 * installed once, at a pinned version, into its own folder of a cache outside the app
 * (`$XDG_CACHE_HOME` or `~/.cache`, then `gemini-gateway-tests/`). `scripts/ensure_test_deps.ts`
 * installs them before the suite; a test run alone installs what it needs on first use.
 *
 * @module
 */

/** The cache folder of the test tools. */
export const TEST_TOOLS_CACHE = `${
  Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`
}/gemini-gateway-tests`;

/** One npm package to install for the tests. */
export interface NpmTool {
  pkg: string;
  version: string;
  /** The file the tests run, relative to the install folder (e.g. `node_modules/.bin/codex`). */
  entry: string;
}

/**
 * The absolute path of `tool.entry`, installing the package with npm (install scripts off) first when
 * it is missing.
 *
 * @throws {Error} when npm cannot install it (the message says what npm printed).
 */
export async function ensureNpmTool(tool: NpmTool): Promise<string> {
  const prefix = `${TEST_TOOLS_CACHE}/${tool.pkg.replace(/^@[^/]+\//, "")}-${tool.version}`;
  const entry = `${prefix}/${tool.entry}`;
  if (await Deno.stat(entry).then(() => true, () => false)) return entry;
  await Deno.mkdir(prefix, { recursive: true });
  const out = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      prefix,
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      `${tool.pkg}@${tool.version}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success || !await Deno.stat(entry).then(() => true, () => false)) {
    throw new Error(
      `npm could not install ${tool.pkg}@${tool.version} into ${prefix}: ` +
        new TextDecoder().decode(out.stderr).slice(-800),
    );
  }
  return entry;
}
