/**
 * QA (issue 12): Gemini refuses a function declaration whose name is longer than 64 characters or does
 * not start with a letter or an underscore ("Invalid function name. Must start with a letter or an
 * underscore. Must be a-z, A-Z, 0-9, or contain underscores (_), dots (.), colons (:), or dashes (-),
 * with a maximum length of 64.", google-gemini/gemini-cli#2966, kaitranntt/ccs#25). The Responses route
 * joins a `namespace` tool's name and its function's name (`<namespace>.<name>`, what Codex sends for
 * its MCP and agent tools), so two names that are each fine for OpenAI can make one Gemini refuses.
 * The mock does not check names, so this test checks what the gateway sends, and that the call comes
 * back under the client's own namespace and name.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { startHarness } from "./support/harness.ts";

type Json = Record<string, unknown>;

/** Gemini's rule for function names (FunctionDeclaration.name). */
const GEMINI_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

Deno.test("qa responses: namespaced functions reach Gemini under valid names and come back under the client's", async () => {
  const h = await startHarness();
  try {
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const namespace = "mcp__atlassian_confluence__";
    const name = "confluence_search_pages_by_title_and_space";
    const tools = [{
      type: "namespace",
      name: namespace,
      description: "Confluence",
      tools: [{
        type: "function",
        name,
        parameters: { type: "object", properties: { q: { type: "string" } } },
      }],
    }] as unknown as OpenAI.Responses.Tool[];
    const r = await client.responses.create({
      model: "gemini-3-flash-preview",
      tools,
      input: "find the page",
    });
    const body = h.mock.requests.at(-1)!.json as { tools: Json[] };
    const names = body.tools.flatMap((t) =>
      ((t.functionDeclarations ?? []) as Json[]).map((d) => String(d.name))
    );
    for (const n of names) {
      assert.match(n, GEMINI_NAME, `Gemini refuses the function name '${n}' (${n.length} chars)`);
    }
    const call = r.output.find((o) => o.type === "function_call") as Json | undefined;
    assert.ok(call, JSON.stringify(r.output));
    assert.equal(call.name, name);
    assert.equal(call.namespace, namespace);
  } finally {
    await h.close();
  }
});
