/**
 * A wrong method on a path of a translating edge (OpenAI, Anthropic, Responses) is a 405 with an
 * `Allow` header in that dialect's error envelope, not the 404 of an unknown path; nothing goes
 * upstream. Unknown paths stay 404, and the right methods keep working.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";

Deno.test("a wrong method on an OpenAI, Anthropic or Responses path is a 405 with Allow in the dialect's envelope", async () => {
  const h = await startHarness();
  try {
    const openai = { authorization: `Bearer ${h.token}` };
    const anthropic = { "x-api-key": h.token, "anthropic-version": "2023-06-01" };
    const send = async (method: string, path: string, headers: Record<string, string>) => {
      const res = await fetch(h.url + path, { method, headers });
      return { status: res.status, allow: res.headers.get("allow"), body: await res.json() };
    };
    const cases: Array<[string, string, Record<string, string>, string]> = [
      ["GET", "/v1/chat/completions", openai, "POST"],
      ["GET", "/openai/v1/chat/completions", openai, "POST"],
      ["PUT", "/v1beta/openai/chat/completions", openai, "POST"],
      ["DELETE", "/v1/embeddings", openai, "POST"],
      ["GET", "/v1/images/generations", openai, "POST"],
      ["GET", "/v1/audio/speech", openai, "POST"],
      ["POST", "/v1/models", openai, "GET, HEAD"],
      ["DELETE", "/v1/models/gemini-2.5-flash", openai, "GET, HEAD"],
      ["GET", "/v1/responses", openai, "POST"],
      ["POST", "/v1/responses/resp_abc", openai, "GET, DELETE, HEAD"],
      ["DELETE", "/openai/v1/responses/resp_abc/input_items", openai, "GET, HEAD"],
    ];
    for (const [method, path, headers, allow] of cases) {
      const r = await send(method, path, headers);
      assert.equal(r.status, 405, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.allow, allow, `${method} ${path}`);
      assert.equal(r.body.error.type, "invalid_request_error", `${method} ${path}`);
      assert.ok(r.body.error.message.includes(`${method} ${path}`), r.body.error.message);
    }
    for (
      const [method, path] of [
        ["GET", "/v1/messages"],
        ["GET", "/anthropic/v1/messages"],
        ["PUT", "/v1/messages/count_tokens"],
        ["POST", "/anthropic/v1/models"],
      ]
    ) {
      const r = await send(method, path, anthropic);
      assert.equal(r.status, 405, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.allow, path.endsWith("models") ? "GET, HEAD" : "POST");
      assert.equal(r.body.type, "error");
      assert.equal(r.body.error.type, "invalid_request_error");
      assert.match(r.body.request_id, /^req_/);
    }
    // Unknown paths are still unknown; the right methods still work; nothing went upstream.
    assert.equal((await send("GET", "/v1/chat/completion", openai)).status, 404);
    assert.equal((await send("GET", "/v1/messages/nope", anthropic)).status, 404);
    assert.equal(h.mock.requests.filter((r) => !r.path.endsWith("/models")).length, 0);
    const models = await fetch(h.url + "/v1/models", { method: "HEAD", headers: openai });
    assert.equal(models.status, 200);
    await models.body?.cancel();
  } finally {
    await h.close();
  }
});
