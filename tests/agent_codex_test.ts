/**
 * Codex CLI (`@openai/codex`, installed from npm into a cache directory) runs `codex exec` with a custom
 * provider whose `base_url` is the gateway and `wire_api = "responses"`. The mock Gemini 3 upstream
 * answers with a call of Codex's own file-writing tool for a model it has no metadata for
 * (`exec_command`, its shell) and then with a final text. The file must exist with the right content,
 * Codex must exit 0, the second turn must carry back the thought signature the mock issued (Codex sends
 * no `previous_response_id`: the signature comes back in its history), and Codex must send nothing
 * anywhere but the gateway.
 */
import assert from "node:assert/strict";
import { MockGemini } from "./support/mock_gemini.ts";
import { startHarness } from "./support/harness.ts";
import { ensureAgent, loopbackOnlyEnv, runAgent, startProxySink } from "./support/agents.ts";
import { SKIP_THOUGHT_SIGNATURE } from "../lib/gemini/thought_signatures.ts";

type Json = Record<string, unknown>;

const CONTENT = "hello from codex";

function declares(body: Json, name: string): boolean {
  const tools = (body.tools ?? []) as Json[];
  return tools.some((t) => ((t.functionDeclarations ?? []) as Json[]).some((d) => d.name === name));
}

function answered(body: Json): boolean {
  const last = (body.contents as Json[]).at(-1)!;
  return ((last.parts ?? []) as Json[]).some((p) => p.functionResponse);
}

/** Codex's config: the gateway as a Responses provider, and every feature that calls other hosts off. */
function codexConfig(baseUrl: string): string {
  return `model = "gemini-3-flash-preview"
model_provider = "gateway"
check_for_update_on_startup = false

[model_providers.gateway]
name = "Gemini Gateway"
base_url = "${baseUrl}/v1"
env_key = "GATEWAY_TOKEN"
wire_api = "responses"

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"

[features]
plugins = false
remote_plugin = false
plugin_sharing = false
apps = false
tool_suggest = false
image_generation = false
`;
}

Deno.test("agent: Codex CLI writes a file through the gateway's Responses route on a Gemini 3 model, signatures kept", async () => {
  const bin = await ensureAgent("codex");
  const dir = await Deno.makeTempDir({ prefix: "codex-work-" });
  const home = await Deno.makeTempDir({ prefix: "codex-home-" });
  const mock = await MockGemini.start({
    reply: ({ body }) => {
      if (!declares(body, "exec_command")) return [{ text: "ok" }];
      if (answered(body)) return [{ text: "Done: hello.txt was written." }];
      return [{ functionCall: { name: "exec_command", args: { cmd: `printf '${CONTENT}' > hello.txt` } } }];
    },
  });
  const sink = startProxySink();
  const h = await startHarness({ useMock: mock });
  try {
    await Deno.writeTextFile(`${home}/config.toml`, codexConfig(h.url));
    const run = await runAgent({
      bin,
      cwd: dir,
      args: [
        "exec",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
        "Create a file hello.txt in the current directory.",
      ],
      env: { HOME: home, CODEX_HOME: home, GATEWAY_TOKEN: h.token, ...loopbackOnlyEnv(sink) },
    });
    assert.equal(run.code, 0, `codex exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
    assert.equal(await Deno.readTextFile(`${dir}/hello.txt`), CONTENT);
    assert.match(run.stdout, /hello\.txt was written/);

    const turns = mock.requests.filter((r) =>
      r.path.includes(":") && declares(r.json as Json, "exec_command")
    );
    const second = turns.find((r) => answered(r.json as Json));
    assert.ok(second, `the mock saw the tool output come back (${turns.length} requests)`);
    const modelTurn = ((second.json as Json).contents as Json[]).find((c) => c.role === "model")!;
    const call = (modelTurn.parts as Json[]).find((p) => p.functionCall)!;
    assert.equal((call.functionCall as Json).name, "exec_command");
    assert.equal(typeof call.thoughtSignature, "string");
    assert.notEqual(call.thoughtSignature, SKIP_THOUGHT_SIGNATURE, "the mock's own signature came back");
    const calls = h.records.filter((r) => r.route !== "models");
    assert.ok(
      calls.length >= 2 && calls.every((r) => r.route === "responses" && r.status === 200),
      "through the Responses edge",
    );
    assert.deepEqual(sink.attempts, [], "Codex sent nothing to other hosts");
  } finally {
    await h.close();
    await mock.close();
    await sink.close();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});
