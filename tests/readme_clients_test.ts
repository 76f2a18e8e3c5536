/**
 * The README's "OpenAI-dialect clients" snippets, run as written (their base URL and token pointed at
 * a test gateway) in a separate Deno process with the project's import map: the openai SDK's stream
 * helper, the Vercel AI SDK (`@ai-sdk/openai` `.chat()`, `@ai-sdk/openai-compatible`) and LangChain's
 * `@langchain/openai`. Each must print the mock's answer.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";

const ROOT = new URL("../", import.meta.url);

/** The ```ts blocks of the README section `### OpenAI-dialect clients`. */
async function snippets(): Promise<string[]> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const start = readme.indexOf("### OpenAI-dialect clients");
  assert.ok(start >= 0, "the README has the section");
  const rest = readme.slice(start + 1);
  const section = rest.slice(0, rest.search(/\n#{2,3} /));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const blocks = await snippets();

Deno.test("the README shows a snippet for each OpenAI-dialect client package", () => {
  const imports = blocks.flatMap((b) => [...b.matchAll(/from "([^"]+)"/g)].map((m) => m[1]));
  for (const pkg of ["openai", "ai", "@ai-sdk/openai", "@ai-sdk/openai-compatible", "@langchain/openai"]) {
    assert.ok(imports.includes(pkg), `a snippet imports ${pkg}`);
  }
});

for (const [i, block] of blocks.entries()) {
  const pkg = /from "((?!ai")[^"]+)"/.exec(block)?.[1] ?? "ai";
  Deno.test(`README snippet ${i + 1} (${pkg}) runs against the gateway`, async () => {
    const h = await startHarness();
    const file = await Deno.makeTempFile({
      dir: new URL("tests/", ROOT).pathname,
      prefix: ".readme_snippet_",
      suffix: ".ts",
    });
    try {
      assert.ok(block.includes("http://localhost:8000/v1") && block.includes("my-client-token"), block);
      await Deno.writeTextFile(
        file,
        block.replaceAll("http://localhost:8000", h.url).replaceAll("my-client-token", h.token),
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", new URL("tests/support/snippets.json", ROOT).pathname, file],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(stdout.trim(), "echo: Hello");
      assert.ok(h.records.some((r) => r.route === "openai" && r.status === 200), "served by the OpenAI edge");
    } finally {
      await Deno.remove(file).catch(() => {});
      await h.close();
    }
  });
}
