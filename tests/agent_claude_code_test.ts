/**
 * Claude Code (`@anthropic-ai/claude-code`, installed from npm into a cache directory) runs `claude -p`
 * against the gateway (`ANTHROPIC_BASE_URL`), whose mock Gemini 3 upstream answers with a call of Claude
 * Code's own `Write` tool and then with a final text. The file must exist with the right content,
 * Claude Code must exit 0, the second turn must carry back the thought signature the mock issued (the
 * mock refuses unknown ones; the dummy would pass, so the test checks it is not the dummy), and Claude
 * Code must send nothing anywhere but the gateway.
 */
import assert from "node:assert/strict";
import { MockGemini } from "./support/mock_gemini.ts";
import { startHarness } from "./support/harness.ts";
import { ensureAgent, loopbackOnlyEnv, runAgent, startProxySink } from "./support/agents.ts";
import { SKIP_THOUGHT_SIGNATURE } from "../lib/gemini/thought_signatures.ts";

type Json = Record<string, unknown>;

const CONTENT = "hello from claude code";

/** True when the request declares a function named `name`. */
function declares(body: Json, name: string): boolean {
  const tools = (body.tools ?? []) as Json[];
  return tools.some((t) => ((t.functionDeclarations ?? []) as Json[]).some((d) => d.name === name));
}

function answered(body: Json): boolean {
  const last = (body.contents as Json[]).at(-1)!;
  return ((last.parts ?? []) as Json[]).some((p) => p.functionResponse);
}

Deno.test("agent: Claude Code writes a file through the gateway on a Gemini 3 model, signatures kept", async () => {
  const bin = await ensureAgent("claude");
  const dir = await Deno.makeTempDir({ prefix: "claude-code-" });
  const home = await Deno.makeTempDir({ prefix: "claude-home-" });
  const target = `${dir}/hello.txt`;
  const mock = await MockGemini.start({
    reply: ({ body }) => {
      if (!declares(body, "Write")) return [{ text: "ok" }];
      if (answered(body)) return [{ text: "Done: hello.txt was written." }];
      return [{ functionCall: { name: "Write", args: { file_path: target, content: CONTENT } } }];
    },
  });
  const sink = startProxySink();
  const h = await startHarness({
    useMock: mock,
    env: { CLAUDE_MODEL_MAP: JSON.stringify({ "claude-*": "gemini-3-flash-preview" }) },
  });
  try {
    const run = await runAgent({
      bin,
      cwd: dir,
      args: ["-p", "Create a file hello.txt in the current directory.", "--allowedTools", "Write"],
      env: {
        HOME: home,
        CLAUDE_CONFIG_DIR: `${home}/.claude`,
        ANTHROPIC_BASE_URL: h.url,
        ANTHROPIC_API_KEY: h.token,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_AUTOUPDATER: "1",
        DISABLE_ERROR_REPORTING: "1",
        ...loopbackOnlyEnv(sink),
      },
    });
    assert.equal(run.code, 0, `claude exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
    assert.equal(await Deno.readTextFile(target), CONTENT);
    assert.match(run.stdout, /hello\.txt was written/);

    const turns = mock.requests.filter((r) => r.path.includes(":") && declares(r.json as Json, "Write"));
    const second = turns.find((r) => answered(r.json as Json));
    assert.ok(second, `the mock saw the tool result come back (${turns.length} requests)`);
    const modelTurn = ((second.json as Json).contents as Json[]).find((c) => c.role === "model")!;
    const call = (modelTurn.parts as Json[]).find((p) => p.functionCall)!;
    assert.equal((call.functionCall as Json).name, "Write");
    assert.equal(typeof call.thoughtSignature, "string");
    assert.notEqual(call.thoughtSignature, SKIP_THOUGHT_SIGNATURE, "the mock's own signature came back");
    const calls = h.records.filter((r) => r.route !== "models");
    assert.ok(
      calls.length >= 2 && calls.every((r) => r.route === "anthropic" && r.status === 200),
      "through the Anthropic edge",
    );
    assert.deepEqual(sink.attempts, [], "Claude Code sent nothing to other hosts");
  } finally {
    await h.close();
    await mock.close();
    await sink.close();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});
