/**
 * QA (issue 12): `GET /v1/responses/{id}/input_items` lists items in the shape of OpenAI's
 * `ResponseItem`: an input message's `content` is a list of parts (`input_text`, ...), never the bare
 * string the request may have used (`input: "hello"`, or a message whose `content` is a string). Typed
 * clients read `item.content[0].text`.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { startHarness } from "./support/harness.ts";

Deno.test("qa responses: input_items gives input messages as lists of input_text parts", async () => {
  const h = await startHarness();
  try {
    const client = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const first = await client.responses.create({ model: "gemini-2.5-flash", input: "hello there" });
    const second = await client.responses.create({
      model: "gemini-2.5-flash",
      input: [{ role: "assistant", content: "a note of mine" }, { role: "user", content: "second question" }],
      previous_response_id: first.id,
    });
    for (const id of [first.id, second.id]) {
      const page = await client.responses.inputItems.list(id);
      const users = page.data.filter((i) => i.type === "message" && i.role === "user") as Array<
        OpenAI.Responses.ResponseInputMessageItem
      >;
      assert.ok(users.length > 0, JSON.stringify(page.data));
      for (const item of users) {
        assert.ok(Array.isArray(item.content), `content must be a list of parts: ${JSON.stringify(item)}`);
        assert.equal(item.content[0].type, "input_text");
      }
    }
    const page = await client.responses.inputItems.list(second.id, { order: "asc" });
    const mine = page.data.find((i) => i.type === "message" && i.role === "assistant" && /_i\d+$/.test(i.id));
    assert.deepEqual(
      (mine as OpenAI.Responses.ResponseOutputMessage | undefined)?.content,
      [{ type: "output_text", text: "a note of mine", annotations: [] }],
      `an assistant message's text is an output_text part: ${JSON.stringify(page.data)}`,
    );
  } finally {
    await h.close();
  }
});
