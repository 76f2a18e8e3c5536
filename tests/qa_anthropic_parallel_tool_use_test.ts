/**
 * QA (issue 12): `tool_choice.disable_parallel_tool_use: true` asks for at most one `tool_use` block
 * (Anthropic: "the model will output at most one tool use"). Gemini has no such switch and may answer
 * with several calls; the Responses route keeps only the first for `parallel_tool_calls: false`, the
 * Anthropic route must do the same for its own flag.
 */
import assert from "node:assert/strict";
import Anthropic from "./support/sdk/anthropic.ts";
import { startHarness } from "./support/harness.ts";

const TOOLS: Anthropic.Tool[] = [
  { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
  { name: "get_time", input_schema: { type: "object", properties: { zone: { type: "string" } } } },
];

Deno.test("qa anthropic: disable_parallel_tool_use answers at most one tool_use, whole and streamed", async () => {
  const h = await startHarness();
  try {
    const client = new Anthropic({ apiKey: h.token, baseURL: h.url, maxRetries: 0 });
    const params = {
      model: "gemini-2.5-flash",
      max_tokens: 200,
      tools: TOOLS,
      tool_choice: { type: "auto" as const, disable_parallel_tool_use: true },
      messages: [{ role: "user" as const, content: "weather and time, in parallel please" }],
    };
    for (
      const msg of [await client.messages.create(params), await client.messages.stream(params).finalMessage()]
    ) {
      const uses = msg.content.filter((b) => b.type === "tool_use");
      assert.equal(uses.length, 1, JSON.stringify(msg.content));
      assert.equal(msg.stop_reason, "tool_use");
    }
  } finally {
    await h.close();
  }
});
