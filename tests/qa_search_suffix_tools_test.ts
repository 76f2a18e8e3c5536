/**
 * QA (issue 12): the README's Claude Code section offers `-search` targets for `CLAUDE_MODEL_MAP`
 * (`"gemini-3.1-pro-preview-search"`), and Codex takes any model name. Both agents always declare
 * tools. Gemini refuses Google Search next to function declarations unless
 * `toolConfig.includeServerSideToolInvocations` is set: 400 "Please enable
 * tool_config.include_server_side_tool_invocations to use Built-in tools with Function calling."
 * (googleapis/js-genai#1425, langchain-ai/langchainjs#10675; wire notes "Built-in tools next to
 * functions"). The mock does not enforce that rule, so these tests check what the gateway sends.
 */
import assert from "node:assert/strict";
import Anthropic from "./support/sdk/anthropic.ts";
import OpenAI from "./support/sdk/openai.ts";
import { startHarness } from "./support/harness.ts";

type Json = Record<string, unknown>;

/** True when Gemini would refuse the request's tools (a built-in tool next to functions, flag unset). */
function refusedToolMix(body: Json): boolean {
  const tools = (body.tools ?? []) as Json[];
  const functions = tools.some((t) => Array.isArray(t.functionDeclarations) && t.functionDeclarations.length);
  const builtIn = tools.some((t) => "googleSearch" in t || "codeExecution" in t || "urlContext" in t);
  const flag = (body.toolConfig as Json | undefined)?.includeServerSideToolInvocations === true;
  return functions && builtIn && !flag;
}

Deno.test("qa search suffix: a -search target in CLAUDE_MODEL_MAP with Claude Code's tools sends no refused tool mix", async () => {
  const h = await startHarness({
    env: { CLAUDE_MODEL_MAP: JSON.stringify({ "claude-*": "gemini-3.1-pro-preview-search" }) },
  });
  try {
    const client = new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });
    await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      tools: [{
        name: "Write",
        input_schema: {
          type: "object",
          properties: { file_path: { type: "string" }, content: { type: "string" } },
        },
      }],
      messages: [{ role: "user", content: "write a file" }],
    });
    const body = h.mock.requests.at(-1)!.json as Json;
    assert.ok(!refusedToolMix(body), `Gemini would refuse these tools: ${JSON.stringify(body.tools)}`);
  } finally {
    await h.close();
  }
});

Deno.test("qa search suffix: a -search model with Codex-style function tools on the Responses route sends no refused tool mix", async () => {
  const h = await startHarness();
  try {
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    await client.responses.create({
      model: "gemini-3-flash-preview-search",
      tools: [{
        type: "function",
        name: "exec_command",
        strict: false,
        parameters: { type: "object", properties: { cmd: { type: "string" } } },
      }],
      input: "list the files",
    });
    const body = h.mock.requests.at(-1)!.json as Json;
    assert.ok(!refusedToolMix(body), `Gemini would refuse these tools: ${JSON.stringify(body.tools)}`);
  } finally {
    await h.close();
  }
});
