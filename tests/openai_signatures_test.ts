/**
 * Thought signatures on the OpenAI route, driven through the openai SDK: image parts of Gemini 3 image
 * models come back signed (clients that keep `extra_content` and clients that drop it), tool-call ids
 * stay short with signatures kept server-side in KV (shared by instances), a cut or unknown id falls
 * back to Google's skip value, one recall per request, and Google's 400 about a signature is retried
 * once with the skip value.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { startHarness } from "./support/harness.ts";
import { jsonAnswer, type ScriptedCall, startScripted } from "./support/scripted_upstream.ts";
import { mapChatRequest } from "../lib/openai/chat_request.ts";
import { chatRequestSchema, parseOpenAI } from "../lib/openai/schemas.ts";
import { SKIP_THOUGHT_SIGNATURE, ThoughtSignatures } from "../lib/gemini/thought_signatures.ts";
import { toolCallId } from "../lib/gemini/tool_call_ids.ts";

type Json = Record<string, unknown>;
type Msg = OpenAI.ChatCompletionMessageParam;

const sdk = (url: string, token: string) =>
  new OpenAI({ apiKey: token, baseURL: url + "/v1", maxRetries: 0 });

const IMAGE_MODEL = "gemini-3.1-flash-image-preview";

function modelParts(body: unknown): Json[] {
  const contents = (body as { contents: Array<{ role: string; parts: Json[] }> }).contents;
  return contents.filter((c) => c.role === "model").flatMap((c) => c.parts);
}

for (const keep of [true, false]) {
  Deno.test(`image editing (Gemini 3 image model): the image goes back signed, extra fields ${keep ? "kept" : "dropped"}`, async () => {
    const h = await startHarness();
    try {
      const client = sdk(h.url, h.token);
      const first = await client.chat.completions.create({
        model: IMAGE_MODEL,
        messages: [{ role: "user", content: "draw a cat" }],
      });
      const msg = first.choices[0].message as unknown as Json;
      assert.match(String(msg.content), /!\[image\]\(data:image\/png;base64,/);
      const history: Msg[] = [
        { role: "user", content: "draw a cat" },
        (keep ? msg : { role: "assistant", content: msg.content }) as unknown as Msg,
        { role: "user", content: "make it blue" },
      ];
      const second = await client.chat.completions.create({ model: IMAGE_MODEL, messages: history });
      assert.equal(second.choices[0].finish_reason, "stop");
      const image = modelParts(h.mock.requests.at(-1)!.json).find((p) => p.inlineData);
      assert.ok(image, "the earlier image goes back as inline data");
      assert.ok(
        typeof image.thoughtSignature === "string" && image.thoughtSignature !== SKIP_THOUGHT_SIGNATURE,
        `the image carries Google's own signature: ${JSON.stringify(image.thoughtSignature)}`,
      );
    } finally {
      await h.close();
    }
  });
}

Deno.test("image editing, streamed: the signature of a streamed image is kept too", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h.url, h.token);
    const stream = await client.chat.completions.create({
      model: IMAGE_MODEL,
      messages: [{ role: "user", content: "draw a dog" }],
      stream: true,
    });
    let content = "";
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? "";
    const res = await client.chat.completions.create({
      model: IMAGE_MODEL,
      messages: [
        { role: "user", content: "draw a dog" },
        { role: "assistant", content },
        { role: "user", content: "add a hat" },
      ],
    });
    assert.equal(res.choices[0].finish_reason, "stop");
  } finally {
    await h.close();
  }
});

/** A Gemini 3 function call with a signature of `bytes` random bytes, then text for the function's result. */
function toolScript(signature: string) {
  return (call: ScriptedCall) => {
    const contents = call.json.contents as Array<{ role: string; parts: Json[] }>;
    if (contents.some((c) => c.parts.some((p) => p.functionResponse))) {
      return jsonAnswer({
        candidates: [{ content: { role: "model", parts: [{ text: "sunny" }] }, finishReason: "STOP" }],
      });
    }
    return jsonAnswer({
      candidates: [{
        content: {
          role: "model",
          parts: [{
            functionCall: { id: "fc-7", name: "get_weather", args: { city: "Oslo" } },
            thoughtSignature: signature,
          }],
        },
        finishReason: "STOP",
      }],
    });
  };
}

const TOOLS: OpenAI.ChatCompletionTool[] = [{
  type: "function",
  function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
}];

const longSignature = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(1200))));

/** Turn 1, then turn 2 with the call's id rewritten by `editId` and `extra_content` dropped. */
async function roundTrip(url: string, token: string, editId: (id: string) => string) {
  const client = sdk(url, token);
  const first = await client.chat.completions.create({
    model: "gemini-3-flash-preview",
    messages: [{ role: "user", content: "weather in Oslo?" }],
    tools: TOOLS,
  });
  const call = first.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
  const id = editId(call.id);
  await client.chat.completions.create({
    model: "gemini-3-flash-preview",
    messages: [
      { role: "user", content: "weather in Oslo?" },
      { role: "assistant", content: null, tool_calls: [{ id, type: "function", function: call.function }] },
      { role: "tool", tool_call_id: id, content: "sunny" },
    ],
    tools: TOOLS,
  });
  return call.id;
}

Deno.test("tool-call ids: at most 40 characters for a 1,200-byte signature, which comes back from the server", async () => {
  const signature = longSignature();
  const h = await startScripted(toolScript(signature));
  try {
    const id = await roundTrip(h.url, h.token, (id) => id);
    assert.ok(id.length <= 40, `OpenAI's limit is 40 characters; got ${id.length}`);
    const part = modelParts(h.calls[1].json).find((p) => p.functionCall)!;
    assert.equal(part.thoughtSignature, signature);
    assert.deepEqual(part.functionCall, { id: "fc-7", name: "get_weather", args: { city: "Oslo" } });
    const response = (h.calls[1].json.contents as Array<{ parts: Json[] }>).at(-1)!.parts[0];
    assert.equal((response.functionResponse as Json).id, "fc-7");
  } finally {
    await h.close();
  }
});

for (
  const [what, edit] of [["cut", (id: string) => id.slice(0, 16)], [
    "unknown",
    () => "call_" + "x".repeat(24),
  ]] as const
) {
  Deno.test(`tool-call ids: ${what === "cut" ? "a cut" : "an unknown"} id gets Google's skip value, never a fragment`, async () => {
    const signature = longSignature();
    const h = await startScripted(toolScript(signature));
    try {
      const id = await roundTrip(h.url, h.token, edit);
      assert.ok(id.length <= 40);
      const part = modelParts(h.calls[1].json).find((p) => p.functionCall)!;
      assert.equal(part.thoughtSignature, SKIP_THOUGHT_SIGNATURE);
      assert.equal(h.calls.length, 2);
    } finally {
      await h.close();
    }
  });
}

Deno.test("tool-call signatures are shared through KV: another instance finds them", async () => {
  const dir = await Deno.makeTempDir();
  const env = { KV_PATH: `${dir}/kv.sqlite3` };
  const signature = longSignature();
  const a = await startScripted(toolScript(signature), { env });
  const b = await startScripted(toolScript(signature), { env });
  try {
    const client = sdk(a.url, a.token);
    const first = await client.chat.completions.create({
      model: "gemini-3-flash-preview",
      messages: [{ role: "user", content: "weather?" }],
      tools: TOOLS,
    });
    const call = first.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    assert.ok(call.id.length <= 40);
    await a.close(); // its background writes are flushed
    await sdk(b.url, b.token).chat.completions.create({
      model: "gemini-3-flash-preview",
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: call.id, type: "function", function: call.function }],
        },
        { role: "tool", tool_call_id: call.id, content: "sunny" },
      ],
      tools: TOOLS,
    });
    const part = modelParts(b.calls[0].json).find((p) => p.functionCall)!;
    assert.equal(part.thoughtSignature, signature);
  } finally {
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("one recall per request, however many calls, texts and images it replays", async () => {
  const store = new ThoughtSignatures();
  let recalls = 0;
  const counting = {
    recall: (q: Parameters<ThoughtSignatures["recall"]>[0]) => (recalls++, store.recall(q)),
  };
  const ids = Array.from(
    { length: 12 },
    (_, i) => toolCallId(store.rememberCall({ signature: `U0lH${i}`, geminiId: `g${i}` })),
  );
  store.rememberContent("It is sunny.", "VEVYVA==");
  const req = parseOpenAI(chatRequestSchema, {
    model: "gemini-3-flash-preview",
    messages: [
      { role: "user", content: "x" },
      { role: "assistant", content: "It is sunny." },
      { role: "user", content: "and?" },
      {
        role: "assistant",
        content: "![image](data:image/png;base64,QUJD)",
        tool_calls: ids.map((id) => ({ id, type: "function", function: { name: "f", arguments: "{}" } })),
      },
      ...ids.map((id) => ({ role: "tool", tool_call_id: id, content: "ok" })),
    ],
  });
  const mapped = await mapChatRequest(req, { signatures: counting });
  assert.equal(recalls, 1);
  const parts = mapped.body.contents.flatMap((c) => c.parts ?? []);
  assert.equal(parts.find((p) => p.text === "It is sunny.")?.thoughtSignature, "VEVYVA==");
  assert.deepEqual(
    parts.filter((p) => p.functionCall).map((p) => p.thoughtSignature),
    ids.map((_, i) => `U0lH${i}`),
  );
  assert.deepEqual(
    parts.filter((p) => p.functionResponse).map((p) => p.functionResponse!.id),
    ids.map((_, i) => `g${i}`),
  );
});

Deno.test("Google's 400 about a thought signature is retried once with the skip value on every part", async () => {
  const h = await startScripted((_call, n) =>
    n === 0
      ? jsonAnswer({
        error: { code: 400, message: "Corrupted thought signature.", status: "INVALID_ARGUMENT" },
      }, {
        status: 400,
      })
      : jsonAnswer({
        candidates: [{ content: { role: "model", parts: [{ text: "done" }] }, finishReason: "STOP" }],
      })
  );
  try {
    const res = await sdk(h.url, h.token).chat.completions.create({
      model: "gemini-3-flash-preview",
      messages: [
        { role: "user", content: "x" },
        {
          role: "assistant",
          content: "calling",
          extra_content: { google: { thought_signature: "dGV4dA==" } },
          tool_calls: [
            {
              id: "a",
              type: "function",
              function: { name: "f", arguments: "{}" },
              extra_content: { google: { thought_signature: "YnJva2Vu" } },
            },
            { id: "b", type: "function", function: { name: "f", arguments: "{}" } },
          ],
        } as unknown as Msg,
        { role: "tool", tool_call_id: "a", content: "1" },
        { role: "tool", tool_call_id: "b", content: "2" },
      ],
    });
    assert.equal(res.choices[0].message.content, "done");
    assert.equal(h.calls.length, 2);
    assert.equal(modelParts(h.calls[0].json).find((p) => p.functionCall)!.thoughtSignature, "YnJva2Vu");
    const retried = modelParts(h.calls[1].json);
    assert.deepEqual(
      retried.map((p) => p.thoughtSignature),
      [SKIP_THOUGHT_SIGNATURE, SKIP_THOUGHT_SIGNATURE, SKIP_THOUGHT_SIGNATURE],
    );
  } finally {
    await h.close();
  }
});
