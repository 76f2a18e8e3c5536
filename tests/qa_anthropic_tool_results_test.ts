/**
 * QA (issue 12): Anthropic's Messages API combines consecutive turns of the same role, so a client may
 * answer the parallel `tool_use` blocks of one assistant turn with one `tool_result` per user message.
 * Gemini wants every function response of a step in the one Content after the call turn ("Please
 * ensure that the number of function response parts is equal to the number of function call parts of
 * the function call turn."); the mock refuses the same way.
 */
import assert from "node:assert/strict";
import Anthropic from "./support/sdk/anthropic.ts";
import { startHarness } from "./support/harness.ts";

type Json = Record<string, unknown>;

const TOOLS: Anthropic.Tool[] = [
  { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
  { name: "get_time", input_schema: { type: "object", properties: { zone: { type: "string" } } } },
];

Deno.test("qa anthropic: tool results of one turn sent in consecutive user messages reach Gemini as one response turn", async () => {
  const h = await startHarness();
  try {
    const client = new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });
    const params = {
      model: "gemini-3-flash-preview",
      max_tokens: 1000,
      tools: TOOLS,
      messages: [{ role: "user" as const, content: "weather and time, in parallel please" }],
    };
    const first = await client.messages.create(params);
    const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    assert.deepEqual(uses.map((u) => u.name), ["get_weather", "get_time"]);

    const second = await client.messages.create({
      ...params,
      messages: [
        ...params.messages,
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: uses[0].id, content: "sunny" }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: uses[1].id, content: "noon" }] },
      ],
    });
    assert.deepEqual(
      second.content.filter((b) => b.type === "text").map((b) => (b as Anthropic.TextBlock).text),
      [
        'result: [{"output":"sunny"},{"output":"noon"}]',
      ],
    );
    const sent = h.mock.requests.at(-1)!.json as { contents: Json[] };
    const last = sent.contents.at(-1)!;
    assert.equal((last.parts as Json[]).filter((p) => p.functionResponse).length, 2);
  } finally {
    await h.close();
  }
});
