/**
 * Issue 14: "the hot routes dispatch without walking middleware they do not need". A request to an
 * edge matches its guarded route alone (client note, CORS and client auth run inside it, no middleware
 * chain); on a shared prefix (`/v1`) it meets only the gates of the edges sharing it, in the same
 * dispatch (no second Hono app); the Live routes sit on their own paths, not in front of every request.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";

type Matched = [[[(...args: unknown[]) => unknown, unknown], unknown][], unknown];

Deno.test("edge requests match their guarded route alone; /v1 requests meet only the edges' gates; Live stays on its paths", async () => {
  const h = await startHarness();
  try {
    const names = (method: string, path: string) =>
      (h.gw.app.router.match(method, path) as unknown as Matched)[0].map(([[handler]]) => handler.name);
    assert.deepEqual(names("POST", "/v1beta/models/gemini-2.5-flash:generateContent"), ["guardedRoute"]);
    assert.deepEqual(names("GET", "/v1beta/models"), ["guardedRoute"]);
    for (
      const path of [
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/responses",
        "/v1/models/gemini-2.5-flash:generateContent",
      ]
    ) {
      const matched = names("POST", path);
      assert.ok(matched.length > 0 && matched.every((n) => n === "edgeGate"), `${path}: ${matched}`);
    }
    // The Live routes where they are.
    assert.deepEqual(
      names("GET", "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"),
      [
        "liveSession",
      ],
    );

    // And the requests are served, with the same answers as before.
    const native = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    assert.equal(native.status, 200);
    await native.body?.cancel();
    const chat = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(chat.status, 200);
    assert.equal((await chat.json()).object, "chat.completion");
    const unknown = await fetch(`${h.url}/v1/nothing-here`, {
      headers: { authorization: `Bearer ${h.token}` },
    });
    assert.equal(unknown.status, 404);
    assert.ok((await unknown.json()).error.message.includes("Unknown endpoint GET /v1/nothing-here"));
    const anonymous = await fetch(`${h.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    assert.equal(anonymous.status, 401);
    assert.ok((await anonymous.json()).error, "OpenAI's envelope");
  } finally {
    await h.close();
  }
});
