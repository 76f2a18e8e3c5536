/**
 * README snippets as tests: the fenced code blocks under a README heading, and a TypeScript snippet run
 * in a Deno subprocess (that may reach loopback only) with its address and token swapped for a test
 * gateway's.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Harness } from "./harness.ts";

const README = new URL("../../README.md", import.meta.url);
/** The import map snippets run with: the packages users import, which `deno.json` leaves out. */
const CONFIG = new URL("./snippets.json", import.meta.url).pathname;

/** The fenced code blocks (language, code) under the README heading `{#×level} {title}` (default `####`). */
export function snippets(title: string, level = 4): Array<{ lang: string; code: string }> {
  const text = Deno.readTextFileSync(README);
  const heading = `${"#".repeat(level)} ${title}\n`;
  const start = text.indexOf(heading);
  assert.ok(start >= 0, `the README has a "${heading.trim()}" section`);
  const rest = text.slice(start + heading.length);
  const section = rest.slice(0, rest.search(/\n#{2,4} /));
  return Array.from(section.matchAll(/```(\w+)\n([\s\S]*?)```/g), (m) => ({ lang: m[1], code: m[2] }));
}

/** A snippet with the README's address and token replaced by the test gateway's. */
export function forHarness(code: string, h: Harness): string {
  return code.replaceAll("http://localhost:8000", h.url).replaceAll("my-client-token", h.token);
}

/** Runs a README TypeScript snippet (`snippets.json`'s import map resolves its packages); returns stdout. */
export async function runSnippet(title: string, h: Harness, level = 4): Promise<string> {
  const [ts] = snippets(title, level).filter((s) => s.lang === "ts");
  assert.ok(ts, `a ts snippet under "${title}"`);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/snippet.ts`;
    await Deno.writeTextFile(file, forHarness(ts.code, h));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        CONFIG,
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, `${title}: ${stdout}\n${new TextDecoder().decode(out.stderr)}`);
    return stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
