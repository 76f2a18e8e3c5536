/**
 * Answers that must not mislead, driven through the openai SDK against a scripted Gemini upstream:
 * normalised truncated embeddings, an error written mid-stream without `data:` framing, failed tool
 * calls (retried once on another key, then an error), empty answers (retried once on another key;
 * native route only when the operator opts in), OpenAI's 404 envelope on OpenAI paths, and images
 * set apart from text and returned in `images`.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { startHarness } from "./support/harness.ts";
import {
  jsonAnswer,
  type ScriptedHarness,
  sseBody,
  sseResponse,
  startScripted,
} from "./support/scripted_upstream.ts";

type Json = Record<string, unknown>;

const sdk = (h: { url: string; token: string }) =>
  new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1", maxRetries: 0 });

const text = (t: string, extra: Json = {}) => ({
  candidates: [{
    content: { role: "model", parts: [{ text: t }] },
    finishReason: "STOP",
    index: 0,
    ...extra,
  }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
});

async function scripted(
  script: Parameters<typeof startScripted>[0],
  fn: (h: ScriptedHarness) => Promise<void>,
  env?: Record<string, string>,
) {
  const h = await startScripted(script, { env });
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

Deno.test("embeddings cut to `dimensions` are L2-normalised ([0.3, 0.4] -> [0.6, 0.8]), float and base64", async () => {
  await scripted(
    () => jsonAnswer({ embeddings: [{ values: [0.3, 0.4] }] }),
    async (h) => {
      const client = sdk(h);
      const float = await client.embeddings.create({
        model: "gemini-embedding-001",
        input: "a",
        dimensions: 2,
        encoding_format: "float",
      });
      assert.deepEqual(float.data[0].embedding.map((v) => Math.round(v * 1e6) / 1e6), [0.6, 0.8]);
      // The SDK's default asks for base64 and decodes it.
      const b64 = await client.embeddings.create({
        model: "gemini-embedding-001",
        input: "a",
        dimensions: 2,
      });
      assert.deepEqual(b64.data[0].embedding.map((v) => Math.round(v * 1e6) / 1e6), [0.6, 0.8]);
      assert.equal(h.calls[0].json.requests instanceof Array, true);
    },
  );
});

const MID_STREAM_ERROR =
  '{\n  "error": {\n    "code": 503,\n    "message": "The model is overloaded. Please try again later.",\n    "status": "UNAVAILABLE"\n  }\n}\n';

Deno.test("an error written into a stream without data: framing reaches the client and the log", async () => {
  await scripted(
    () =>
      sseResponse(
        sseBody(
          [{ candidates: [{ content: { role: "model", parts: [{ text: "Hel" }] } }] }],
          MID_STREAM_ERROR,
        ),
      ),
    async (h) => {
      const stream = await sdk(h).chat.completions.create({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      });
      let content = "";
      const failure = await (async () => {
        try {
          for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? "";
        } catch (err) {
          return err;
        }
      })();
      assert.equal(content, "Hel");
      assert.ok(failure instanceof OpenAI.APIError, `the stream helper throws: ${failure}`);
      assert.match(String((failure as InstanceType<typeof OpenAI.APIError>).message), /overloaded/);
      // Raw: no finish_reason, no [DONE].
      const raw = await (await fetch(`${h.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "gemini-2.5-flash",
          messages: [{ role: "user", content: "hi" }],
          stream: true,
        }),
      })).text();
      assert.equal(raw.includes("[DONE]"), false, raw);
      assert.equal(raw.includes('"finish_reason":"stop"'), false, raw);
      assert.match(raw, /data: \{"error":\{"message":"The model is overloaded/);
      const rec = h.records.find((r) => r.stream);
      assert.equal(rec?.status, 503);
      assert.match(rec?.error ?? "", /overloaded/);
    },
  );
});

for (const reason of ["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"]) {
  const failed = {
    candidates: [{
      finishReason: reason,
      finishMessage: "Malformed function call: print(default_api.f(",
      index: 0,
    }],
    usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 },
  };
  Deno.test(`${reason}: retried once on another key; when it persists the client gets an error naming it`, async () => {
    await scripted(
      (call, n) =>
        n === 0
          ? jsonAnswer(failed)
          : call.method === "generateContent" && n === 1
          ? jsonAnswer(text("fixed"))
          : jsonAnswer(failed),
      async (h) => {
        const client = sdk(h);
        const ok = await client.chat.completions.create({
          model: "gemini-2.5-flash",
          messages: [{ role: "user", content: "x" }],
        });
        assert.equal(ok.choices[0].message.content, "fixed");
        assert.equal(h.calls.length, 2);
        assert.notEqual(h.calls[0].key, h.calls[1].key, "the retry goes to another key");
        // Persists: an error the client can tell, unary and streamed.
        const err = await client.chat.completions.create({
          model: "gemini-2.5-flash",
          messages: [{ role: "user", content: "x" }],
        })
          .then(() => undefined, (e) => e);
        assert.ok(err instanceof OpenAI.APIError && err.status === 502, String(err));
        assert.equal(err.code, reason.toLowerCase());
        assert.match(err.message, new RegExp(reason));
        assert.equal(h.calls.length, 4);
      },
    );
    await scripted(
      (_call, n) => sseResponse(sseBody([n === 0 ? failed : { ...failed, responseId: "again" }])),
      async (h) => {
        const stream = await sdk(h).chat.completions.create({
          model: "gemini-2.5-flash",
          messages: [{ role: "user", content: "x" }],
          stream: true,
        });
        const err = await (async () => {
          try {
            for await (const _ of stream) { /* read */ }
          } catch (e) {
            return e;
          }
        })();
        assert.ok(err instanceof OpenAI.APIError, String(err));
        assert.match(String(err.message), new RegExp(reason));
        assert.equal(h.calls.length, 2);
      },
    );
  });
}

const EMPTY = {
  candidates: [{ content: { role: "model" }, finishReason: "STOP", index: 0 }],
  usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 },
};

Deno.test("an empty answer is retried once on another key (unary and streamed); the setting turns it off", async () => {
  const script = (_call: unknown, n: number) => (n % 2 === 0 ? jsonAnswer(EMPTY) : jsonAnswer(text("there")));
  await scripted(script, async (h) => {
    const res = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "x" }],
    });
    assert.equal(res.choices[0].message.content, "there");
    assert.equal(h.calls.length, 2);
    assert.notEqual(h.calls[0].key, h.calls[1].key);
  });
  await scripted(
    (_call, n) => sseResponse(sseBody(n === 0 ? [EMPTY] : [text("the"), text("re")])),
    async (h) => {
      const stream = await sdk(h).chat.completions.create({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      });
      let content = "";
      for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? "";
      assert.equal(content, "there");
      assert.equal(h.calls.length, 2);
      assert.notEqual(h.calls[0].key, h.calls[1].key);
    },
  );
  await scripted(script, async (h) => {
    const res = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "x" }],
    });
    assert.equal(res.choices[0].message.content, "");
    assert.equal(h.calls.length, 1);
  }, { RETRY_EMPTY_ANSWERS: "false" });
});

Deno.test("native route: an empty answer passes through as Google sent it, unless the operator opts in", async () => {
  const emptyText = JSON.stringify(EMPTY);
  const script = (
    _call: unknown,
    n: number,
  ) => (n % 2 === 0 ? jsonAnswer(emptyText) : jsonAnswer(text("there")));
  const native = (h: ScriptedHarness) =>
    fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    });
  await scripted(script, async (h) => {
    assert.equal(await (await native(h)).text(), emptyText);
    assert.equal(h.calls.length, 1);
  });
  await scripted(script, async (h) => {
    assert.deepEqual(await (await native(h)).json(), text("there"));
    assert.equal(h.calls.length, 2);
  }, { RETRY_EMPTY_ANSWERS_NATIVE: "true" });
});

Deno.test("OpenAI paths answer in OpenAI's envelope: /v1/files and /v1/batches with a Bearer token, Google's /v1beta/openai/ base", async () => {
  const h = await startHarness();
  try {
    const headers = { authorization: `Bearer ${h.token}`, "content-type": "application/json" };
    for (
      const [method, path] of [["GET", "/v1/files"], ["POST", "/v1/batches"], [
        "GET",
        "/v1/files/file-abc123/content",
      ], ["GET", "/v1beta/openai/nope"]]
    ) {
      const res = await fetch(h.url + path, { method, headers, body: method === "POST" ? "{}" : undefined });
      assert.equal(res.status, 404, path);
      const body = await res.json();
      assert.equal(body.error.type, "invalid_request_error", `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, "unknown_url");
    }
    assert.equal(h.mock.requests.length, 0, "nothing went upstream");
    const google = new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1beta/openai/", maxRetries: 0 });
    const res = await google.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(res.choices[0].message.content, "echo: hi");
    // The Gemini SDK's own file listing still works.
    const files = await fetch(`${h.url}/v1/files`, { headers: { "x-goog-api-key": h.token } });
    assert.equal(files.status, 200);
    await files.body?.cancel();
  } finally {
    await h.close();
  }
});

const IMAGE_ANSWER = {
  candidates: [{
    content: {
      role: "model",
      parts: [{ text: "Here is your cat:" }, { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } }],
    },
    finishReason: "STOP",
    index: 0,
  }],
};

Deno.test("images: set apart from the text before them, and returned in `images` (OpenRouter's convention)", async () => {
  await scripted(() => jsonAnswer(IMAGE_ANSWER), async (h) => {
    const res = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash-image",
      messages: [{ role: "user", content: "cat" }],
    });
    const msg = res.choices[0].message as unknown as Json;
    assert.equal(msg.content, "Here is your cat:\n\n![image](data:image/png;base64,iVBORw0KGgo=)");
    assert.deepEqual(msg.images, [{
      type: "image_url",
      image_url: { url: "data:image/png;base64,iVBORw0KGgo=" },
    }]);
    const stream = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash-image",
      messages: [{ role: "user", content: "cat" }],
      stream: true,
    });
    let content = "";
    const images: unknown[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as Json | undefined;
      content += (delta?.content as string) ?? "";
      images.push(...((delta?.images as unknown[]) ?? []));
    }
    assert.equal(content, msg.content);
    assert.deepEqual(images, msg.images);
  });
});
