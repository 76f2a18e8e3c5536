/**
 * Makes sure the programs the test suite drives are installed: Debian's Chromium (browser tests), a
 * Chinese font (so the Simplified Chinese screenshots show characters, not boxes) and tinyproxy
 * (upstream proxy tests), installed with apt-get when running as root (otherwise it says exactly what
 * to install), and from npm into a cache folder the clients the tests drive: Google's gemini-cli,
 * Claude Code and Codex CLI.
 * Build-time/test-time code: never loaded by the server.
 *
 * @module
 */
import { ensureGeminiCli } from "../tests/support/gemini_cli.ts";
import { ensureAgent } from "../tests/support/agents.ts";

const NEEDS = [
  { pkg: "chromium", paths: ["/usr/bin/chromium"] },
  { pkg: "fonts-wqy-microhei", paths: ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"] },
  { pkg: "tinyproxy", paths: ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"] },
];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const missing = NEEDS.filter((n) => !n.paths.some(exists)).map((n) => n.pkg);
if (missing.length) {
  const isRoot = Deno.uid?.() === 0;
  if (!isRoot) {
    console.error(
      `The tests need: ${missing.join(", ")}. Install them with: sudo apt-get install -y ${
        missing.join(" ")
      }`,
    );
    Deno.exit(1);
  }
  console.log(`Installing test dependencies from Debian: ${missing.join(", ")}...`);
  const sh = `export DEBIAN_FRONTEND=noninteractive; (apt-get install -y -qq ${missing.join(" ")} || ` +
    `(apt-get update -qq && apt-get install -y -qq ${missing.join(" ")})) > /tmp/gateway-test-deps.log 2>&1`;
  const r = await new Deno.Command("sh", { args: ["-c", sh] }).output();
  if (!r.success) {
    console.error(`apt-get could not install ${missing.join(", ")}; see /tmp/gateway-test-deps.log`);
    Deno.exit(1);
  }
}

try {
  await ensureGeminiCli();
  await ensureAgent("claude");
  await ensureAgent("codex");
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  Deno.exit(1);
}
