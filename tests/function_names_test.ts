/**
 * Function names Gemini refuses (over 64 characters, not starting with a letter or an underscore,
 * other characters than `a-z A-Z 0-9 _ . : -`) reach it under an alias from one rule
 * (`lib/gemini/function_names.ts`) on every dialect, declarations and history alike, and the calls come
 * back under the client's names. The mock does not check names, so the tests check what the gateway
 * sends.
 */
import assert from "node:assert/strict";
import Anthropic from "./support/sdk/anthropic.ts";
import OpenAI from "./support/sdk/openai.ts";
import { FunctionNames, GEMINI_FUNCTION_NAME, geminiFunctionName } from "../lib/gemini/function_names.ts";
import { startHarness } from "./support/harness.ts";

type Json = Record<string, unknown>;

/** Every function name in a Gemini request: declarations, allowed names, calls and responses. */
function sentNames(body: Json): string[] {
  const tools = (body.tools ?? []) as Json[];
  const declared = tools.flatMap((t) =>
    ((t.functionDeclarations ?? []) as Json[]).map((d) => String(d.name))
  );
  const allowed = ((body.toolConfig as Json | undefined)?.functionCallingConfig as Json | undefined)
    ?.allowedFunctionNames as string[] | undefined;
  const parts = ((body.contents ?? []) as Json[]).flatMap((c) => (c.parts ?? []) as Json[]);
  const history = parts.flatMap((p) => {
    const named = (p.functionCall ?? p.functionResponse) as Json | undefined;
    return named ? [String(named.name)] : [];
  });
  return [...declared, ...(allowed ?? []), ...history];
}

Deno.test("function names: names Gemini accepts pass as they are; others get a valid alias of their own", () => {
  for (const name of ["get_weather", "_x", "a.b:c-d", "x".repeat(64)]) {
    assert.equal(geminiFunctionName(name), name);
  }
  const long = "mcp__claude_ai_Atlassian__searchConfluenceUsingCqlWithAVeryLongNameIndeed";
  const odd = ["3d_render", "-dash", "has space", "ünïcode", long, `${long}2`, "x".repeat(65), ""];
  const aliases = odd.map(geminiFunctionName);
  for (const [i, alias] of aliases.entries()) {
    assert.match(alias, GEMINI_FUNCTION_NAME, `'${odd[i]}' -> '${alias}'`);
    assert.equal(geminiFunctionName(odd[i]), alias, "the same name always gets the same alias");
  }
  assert.equal(new Set(aliases).size, aliases.length, `one alias per name: ${aliases}`);
  assert.ok(aliases[4].startsWith("mcp__claude_ai_Atlass") && aliases[4].includes("LongNameIndeed"));

  const names = new FunctionNames();
  assert.equal(names.toClient(names.toGemini(long)), long);
  assert.equal(names.toClient("get_weather"), "get_weather");
  // A client name that is another name's alias would make the way back ambiguous: refused.
  assert.throws(() => names.toGemini(geminiFunctionName(long)), /rename one/);
});

Deno.test("function names: Claude Code's long MCP tool names reach Gemini as aliases and come back, tool loop included", async () => {
  const h = await startHarness();
  try {
    const client = new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });
    const name = "mcp__claude_ai_Atlassian__searchConfluenceUsingCqlWithPaginationSupport";
    assert.ok(name.length > 64);
    const params = {
      model: "gemini-3-flash-preview",
      max_tokens: 200,
      tools: [{ name, input_schema: { type: "object" as const, properties: { cql: { type: "string" } } } }],
      tool_choice: { type: "tool" as const, name },
      messages: [{ role: "user" as const, content: "find the page" }],
    };
    for (const stream of [false, true]) {
      const msg = stream
        ? await client.messages.stream(params).finalMessage()
        : await client.messages.create(params);
      const use = msg.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
      assert.equal(use?.name, name, JSON.stringify(msg.content));
    }
    const first = await client.messages.create(params);
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use")!;
    const second = await client.messages.create({
      ...params,
      tool_choice: { type: "auto" },
      messages: [
        ...params.messages,
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "page 7" }] },
      ],
    });
    assert.equal((second.content.at(-1) as Anthropic.TextBlock).text, 'result: [{"output":"page 7"}]');
    const names = sentNames(h.mock.requests.at(-1)!.json as Json);
    assert.equal(names.length, 3, `declaration, call and response: ${names}`);
    assert.equal(new Set(names).size, 1, `one alias throughout: ${names}`);
    assert.match(names[0], GEMINI_FUNCTION_NAME);
  } finally {
    await h.close();
  }
});

Deno.test("function names: an OpenAI chat function whose name starts with a digit reaches Gemini as an alias and comes back", async () => {
  const h = await startHarness();
  try {
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const name = "3d_render";
    const tools: OpenAI.ChatCompletionTool[] = [{
      type: "function",
      function: { name, parameters: { type: "object", properties: { scene: { type: "string" } } } },
    }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "render it" }];
    const first = await client.chat.completions.create({ model: "gemini-2.5-flash", tools, messages });
    const call = first.choices[0].message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    assert.equal(call?.function.name, name, JSON.stringify(first.choices[0].message));
    const stream = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      tools,
      messages,
      stream: true,
    });
    const streamed: string[] = [];
    for await (const chunk of stream) {
      for (const t of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (t.function?.name) streamed.push(t.function.name);
      }
    }
    assert.deepEqual(streamed, [name]);

    const second = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      tools,
      messages: [...messages, first.choices[0].message, {
        role: "tool",
        tool_call_id: call.id,
        content: "done",
      }],
    });
    assert.equal(second.choices[0].message.content, 'result: [{"result":"done"}]');
    const names = sentNames(h.mock.requests.at(-1)!.json as Json);
    assert.equal(names.length, 3, `declaration, call and response: ${names}`);
    assert.equal(new Set(names).size, 1, `one alias throughout: ${names}`);
    assert.match(names[0], GEMINI_FUNCTION_NAME);
  } finally {
    await h.close();
  }
});
