/**
 * Requests Gemini refuses, repaired on the OpenAI route (driven through the openai SDK against the
 * mock, which refuses them as Gemini does): system-only conversations, empty text parts, MIME types,
 * `$ref`/`$defs` schemas from MCP servers, unanswered tool calls; and `reasoning_effort` by family.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { type Harness, startHarness } from "./support/harness.ts";
import { UNANSWERED_CALL_RESULT } from "../lib/openai/chat_request.ts";
import { SKIP_THOUGHT_SIGNATURE } from "../lib/gemini/thought_signatures.ts";

type Json = Record<string, unknown>;
type Msg = OpenAI.ChatCompletionMessageParam;

const sdk = (h: Harness) => new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1", maxRetries: 0 });

function lastBody(h: Harness): { contents: Array<{ role: string; parts: Json[] }> } & Json {
  const generate = h.mock.requests.filter((r) => /:(stream)?[gG]enerateContent$/.test(r.path));
  return generate.at(-1)!.json as { contents: Array<{ role: string; parts: Json[] }> } & Json;
}

async function withHarness(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVQImWNwav0CAALIAbzDqqRyAAAAAElFTkSuQmCC";
const JPEG_HEAD = "/9j/4AAQSkZJRgABAQAAAQABAAD"; // FF D8 FF E0 ... JFIF

Deno.test("a conversation of only a system (or developer) message is sent as the user turn", async () => {
  await withHarness(async (h) => {
    for (const role of ["system", "developer"] as const) {
      const res = await sdk(h).chat.completions.create({
        model: "gemini-2.5-flash",
        messages: [{ role, content: "Say hello" }],
      });
      assert.equal(res.choices[0].message.content, "echo: Say hello");
      const body = lastBody(h);
      assert.deepEqual(body.contents, [{ role: "user", parts: [{ text: "Say hello" }] }]);
      assert.equal(body.systemInstruction, undefined);
    }
  });
});

Deno.test("empty text parts are dropped (next to an image too); a turn with nothing left is not sent", async () => {
  await withHarness(async (h) => {
    const res = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [
        { role: "user", content: [{ type: "text", text: "" }] },
        {
          role: "user",
          content: [
            { type: "text", text: "" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: "text", text: "what is this?" },
          ],
        },
      ],
    });
    assert.equal(res.choices[0].message.content, "echo: what is this?");
    assert.deepEqual(lastBody(h).contents, [{
      role: "user",
      parts: [{ inlineData: { mimeType: "image/png", data: PNG } }, { text: "what is this?" }],
    }]);
  });
});

Deno.test("MIME types: image/jpg becomes image/jpeg; octet-stream and missing types are sniffed from the bytes", async () => {
  await withHarness(async (h) => {
    await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{
        role: "user",
        content: [
          { type: "image_url", image_url: { url: `data:image/jpg;base64,${JPEG_HEAD}` } },
          { type: "image_url", image_url: { url: `data:application/octet-stream;base64,${PNG}` } },
          { type: "image_url", image_url: { url: `data:;base64,${PNG}` } },
          { type: "file", file: { file_data: `data:application/octet-stream;base64,${btoa("%PDF-1.7\n")}` } },
          { type: "text", text: "compare" },
        ],
      }],
    });
    const types = lastBody(h).contents[0].parts.flatMap((p) =>
      p.inlineData ? [(p.inlineData as Json).mimeType] : []
    );
    assert.deepEqual(types, ["image/jpeg", "image/png", "image/png", "application/pdf"]);
  });
});

/**
 * An MCP tool's input schema as the MCP Python SDK (pydantic) writes it: `$defs`, `$ref` with a
 * `description` next to it, `anyOf` of references, a recursive type (the Snowflake MCP server's
 * `create_object`, gemini-cli#13326, shortened).
 */
const MCP_SCHEMA = {
  $defs: {
    Column: {
      properties: {
        name: { title: "Name", type: "string" },
        type: { title: "Type", type: "string" },
        nullable: { default: true, title: "Nullable", type: "boolean" },
      },
      required: ["name", "type"],
      title: "Column",
      type: "object",
    },
    Table: {
      properties: {
        name: { title: "Name", type: "string" },
        columns: { items: { $ref: "#/$defs/Column" }, title: "Columns", type: "array" },
      },
      required: ["name", "columns"],
      title: "Table",
      type: "object",
    },
    Folder: {
      properties: {
        name: { title: "Name", type: "string" },
        children: { items: { $ref: "#/$defs/Folder" }, title: "Children", type: "array" },
      },
      required: ["name"],
      title: "Folder",
      type: "object",
    },
  },
  properties: {
    target_object: {
      anyOf: [{ $ref: "#/$defs/Table" }, { $ref: "#/$defs/Folder" }],
      description: "The object to create",
      title: "Target Object",
    },
    owner: { $ref: "#/$defs/Column", description: "Owner column" },
  },
  required: ["target_object"],
  title: "create_objectArguments",
  type: "object",
};

Deno.test("tool and response_format schemas with $ref/$defs (an MCP server's schema) are inlined", async () => {
  await withHarness(async (h) => {
    const res = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "create it" }],
      tools: [{ type: "function", function: { name: "create_object", parameters: MCP_SCHEMA } }],
    });
    assert.equal(res.choices[0].finish_reason, "tool_calls");
    const decl = ((lastBody(h).tools as Json[])[0].functionDeclarations as Json[])[0];
    const schema = JSON.stringify(decl.parametersJsonSchema);
    assert.equal(schema.includes('"$ref"'), false, schema);
    assert.equal(schema.includes('"$defs"'), false, schema);
    const owner = (decl.parametersJsonSchema as { properties: { owner: Json } }).properties.owner;
    assert.equal(owner.description, "Owner column");
    assert.equal(owner.type, "object");

    const json = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "describe it" }],
      response_format: { type: "json_schema", json_schema: { name: "obj", schema: MCP_SCHEMA } },
    });
    assert.ok(JSON.parse(json.choices[0].message.content!));
    const sent = JSON.stringify((lastBody(h).generationConfig as Json).responseJsonSchema);
    assert.equal(sent.includes('"$ref"'), false, sent);
  });
});

Deno.test("tool calls the history has no result for get a placeholder result, in call order", async () => {
  await withHarness(async (h) => {
    const calls = (ids: string[]) =>
      ids.map((id) => ({ id, type: "function" as const, function: { name: `fn_${id}`, arguments: "{}" } }));
    const messages: Msg[] = [
      { role: "user", content: "do both" },
      { role: "assistant", content: null, tool_calls: calls(["a", "b", "c"]) },
      { role: "tool", tool_call_id: "c", content: "3" },
      { role: "tool", tool_call_id: "a", content: "1" },
      { role: "user", content: "go on" },
      { role: "assistant", content: null, tool_calls: calls(["d"]) },
      { role: "user", content: "and now?" },
    ];
    const res = await sdk(h).chat.completions.create({ model: "gemini-2.5-flash", messages });
    assert.equal(res.choices[0].message.content, "echo: and now?");
    const turns = lastBody(h).contents;
    assert.deepEqual(turns.map((t) => t.role), ["user", "model", "user", "user", "model", "user", "user"]);
    assert.deepEqual(turns[2].parts.map((p) => p.functionResponse), [
      { name: "fn_a", response: { result: 1 } },
      { name: "fn_b", response: UNANSWERED_CALL_RESULT },
      { name: "fn_c", response: { result: 3 } },
    ]);
    assert.deepEqual(turns[5].parts, [{
      functionResponse: { name: "fn_d", response: UNANSWERED_CALL_RESULT },
    }]);
  });
});

Deno.test("reasoning_effort by family: 3.1 Pro has no MINIMAL; -latest aliases keep thinking control and the Gemini 3 history fallback", async () => {
  await withHarness(async (h) => {
    const client = sdk(h);
    const level = () => ((lastBody(h).generationConfig as Json)?.thinkingConfig as Json)?.thinkingLevel;
    for (const effort of ["minimal", "none"] as const) {
      await client.chat.completions.create({
        model: "gemini-3.1-pro-preview",
        messages: [{ role: "user", content: "x" }],
        reasoning_effort: effort,
      });
      assert.equal(level(), "LOW", `gemini-3.1-pro-preview, ${effort}`);
    }
    await client.chat.completions.create({
      model: "gemini-3.1-pro-preview-nothinking",
      messages: [{ role: "user", content: "x" }],
    });
    assert.equal(level(), "LOW", "-nothinking gives the same as reasoning_effort none");
    await client.chat.completions.create({
      model: "gemini-flash-latest",
      messages: [{ role: "user", content: "x" }],
      reasoning_effort: "minimal",
    });
    assert.equal(level(), "LOW", "gemini-flash-latest is a Gemini 3 Flash without MINIMAL");
    await client.chat.completions.create({
      model: "gemini-flash-latest",
      messages: [
        { role: "user", content: "x" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "t1", content: "1" },
      ],
    });
    const call = lastBody(h).contents[1].parts[0];
    assert.equal(call.thoughtSignature, SKIP_THOUGHT_SIGNATURE);
  });
});
