/**
 * Google's clients, documented: each README snippet under "Google's clients" is taken from the README
 * and run against a gateway in front of the mock upstream, with the snippet's address and token
 * swapped for the test's. JavaScript snippets run in a Deno subprocess that may reach loopback only;
 * gemini-cli runs under Node with the README's settings and environment.
 */
import assert from "node:assert/strict";
import { type Harness, startHarness } from "./support/harness.ts";
import { forHarness, runSnippet, snippets } from "./support/readme_snippets.ts";
import { ensureGeminiCli, OFFLINE_SETTINGS } from "./support/gemini_cli.ts";

/** The one model call each client made went upstream with a pool key, not the client token. */
function assertServed(h: Harness, path: RegExp) {
  const calls = h.mock.requests.filter((r) => path.test(r.path));
  assert.ok(
    calls.length >= 1,
    `a call matching ${path}; got ${h.mock.requests.map((r) => r.path).join(", ")}`,
  );
  for (const c of calls) {
    assert.ok(c.key?.startsWith("AIza") && c.key !== h.token, "a pool key went upstream");
  }
}

Deno.test("README: the @google/genai snippet works against the gateway", async () => {
  const h = await startHarness();
  try {
    assert.equal((await runSnippet("`@google/genai` (JavaScript)", h)).trim(), "echo: Hello");
    assertServed(h, /gemini-2\.5-flash:generateContent$/);
  } finally {
    await h.close();
  }
});

Deno.test("README: the Vercel AI SDK (@ai-sdk/google) snippet works against the gateway", async () => {
  const h = await startHarness();
  try {
    assert.equal((await runSnippet("Vercel AI SDK (`@ai-sdk/google`)", h)).trim(), "echo: Hello");
    assertServed(h, /^\/v1beta\/models\/gemini-2\.5-flash:generateContent$/);
  } finally {
    await h.close();
  }
});

Deno.test("README: the LangChain (@langchain/google-genai) snippet works against the gateway", async () => {
  const h = await startHarness();
  try {
    assert.equal((await runSnippet("LangChain (`@langchain/google-genai`)", h)).trim(), "echo: Hello");
    assertServed(h, /gemini-2\.5-flash:generateContent$/);
  } finally {
    await h.close();
  }
});

Deno.test("README: gemini-cli with the README's settings and environment answers a prompt through the gateway", async () => {
  const entry = await ensureGeminiCli();
  const h = await startHarness();
  const home = await Deno.makeTempDir();
  try {
    const parts = snippets("gemini-cli");
    const settings = JSON.parse(parts.find((p) => p.lang === "json")!.code);
    const command = forHarness(parts.find((p) => p.lang === "sh")!.code, h).trim();
    const env = Object.fromEntries(
      Array.from(command.matchAll(/\b([A-Z_]+)=(\S+)/g), (m) => [m[1], m[2]]),
    );
    assert.deepEqual(Object.keys(env).sort(), ["GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"]);
    assert.match(command, /\bgemini$/);
    await Deno.mkdir(`${home}/.gemini`);
    await Deno.writeTextFile(
      `${home}/.gemini/settings.json`,
      JSON.stringify({ ...settings, ...OFFLINE_SETTINGS }),
    );
    const out = await new Deno.Command("node", {
      args: [entry, "-p", "Hello from the cli", "-m", "gemini-2.5-flash"],
      cwd: home,
      env: {
        ...env,
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: home,
        GEMINI_CLI_TRUST_WORKSPACE: "true",
        NO_COLOR: "1",
      },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `${stdout}\n${stderr}`);
    assert.ok(stdout.trim().length > 0, "the cli printed an answer");
    assertServed(h, /gemini-2\.5-flash:streamGenerateContent$/);
    const first = h.mock.requests.find((r) => r.path.endsWith(":streamGenerateContent"))!;
    assert.match(first.bodyText, /Hello from the cli/);
  } finally {
    await Deno.remove(home, { recursive: true });
    await h.close();
  }
});
