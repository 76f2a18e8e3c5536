/**
 * QA (issue 13, secrets in errors; README "Security": keys and client tokens are masked "wherever an
 * upstream echoes them: answers, logs, ..."). An upstream that quotes the pool key or the client's
 * token must have them masked in what the client receives on every dialect, also when the quote comes
 * as an error event inside a 200 stream (Google ends a stream that fails midway with
 * `data: {"error": {...}}`) or in a 200 body that is not JSON, on Gemini API and Vertex express keys.
 */
import assert from "node:assert/strict";
import { createGateway } from "../gateway.ts";
import { newKeyRecord } from "../lib/pool/key_record.ts";

const GEMINI_KEY = "qa-gemini-pool-key-0123456789";
const VERTEX_KEY = "qa-vertex-pool-key-abcdefghij";
const TOKEN = "qa-client-token-secret-987654";
const SECRETS = [GEMINI_KEY, VERTEX_KEY, TOKEN];

type Mode = "stream-error" | "not-json";

/** An upstream for both services that quotes the key it was called with and the client's token. */
function quotingUpstream(mode: () => Mode) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const key = req.headers.get("x-goog-api-key") ?? "";
    await req.text();
    if (req.method === "GET") {
      return Response.json({
        models: [{ name: "models/gemini-2.5-flash", supportedGenerationMethods: ["generateContent"] }],
      });
    }
    const quote = `for api_key:${key} (client token ${TOKEN})`;
    if (mode() === "not-json") {
      return new Response(`<html><body>Bad gateway ${quote}</body></html>`, {
        headers: { "content-type": "text/html" },
      });
    }
    const first = { candidates: [{ content: { role: "model", parts: [{ text: "Hel" }] }, index: 0 }] };
    const error = { error: { code: 500, message: `Internal error ${quote}`, status: "INTERNAL" } };
    return new Response(`data: ${JSON.stringify(first)}\r\n\r\ndata: ${JSON.stringify(error)}\r\n\r\n`, {
      headers: { "content-type": "text/event-stream" },
    });
  });
}

async function gateway(routing: "gemini_first" | "vertex_first", mode: () => Mode) {
  const upstream = quotingUpstream(mode);
  const base = `http://127.0.0.1:${upstream.addr.port}`;
  const gw = await createGateway({
    env: {
      KV_PATH: ":memory:",
      ALLOWED_TOKENS: TOKEN,
      ADMIN_TOKEN: "qa-admin-token-123456",
      UPSTREAM_BASE_URL: base,
      VERTEX_BASE_URL: base,
      KEY_KIND_ROUTING: routing,
      MAX_WAIT_MS: "0",
      SYNC_INTERVAL_MS: "0",
    },
  });
  // Keys of any shape, put into the pool through its store (GEMINI_API_KEYS takes the panel's shapes).
  await gw.store.addKeys([newKeyRecord(GEMINI_KEY), newKeyRecord(`vertex:${VERTEX_KEY}`)]);
  await gw.catalog.ids().catch(() => {});
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gw.app.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      await server.shutdown();
      await gw.close();
      await upstream.shutdown();
    },
  };
}

const openai = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const STREAMS: Record<string, { path: string; headers: Record<string, string>; body: unknown }> = {
  "native SSE": {
    path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
    body: { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
  },
  "OpenAI chat stream": {
    path: "/v1/chat/completions",
    headers: openai,
    body: { model: "gemini-2.5-flash", stream: true, messages: [{ role: "user", content: "hi" }] },
  },
  "Anthropic messages stream": {
    path: "/v1/messages",
    headers: { "x-api-key": TOKEN, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: {
      model: "gemini-2.5-flash",
      max_tokens: 20,
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    },
  },
  "Responses stream": {
    path: "/v1/responses",
    headers: openai,
    body: { model: "gemini-2.5-flash", stream: true, input: "hi" },
  },
};

for (const routing of ["gemini_first", "vertex_first"] as const) {
  const kind = routing === "gemini_first" ? "a Gemini API key" : "a Vertex express key";
  Deno.test(`qa: an error event inside a 200 stream quoting ${kind} and the client token is masked on every dialect`, async () => {
    const g = await gateway(routing, () => "stream-error");
    try {
      const leaked: string[] = [];
      for (const [name, c] of Object.entries(STREAMS)) {
        const res = await fetch(g.url + c.path, {
          method: "POST",
          headers: c.headers,
          body: JSON.stringify(c.body),
        });
        const text = await res.text();
        assert.match(text, /Internal error/, `${name}: the upstream's error reached the client`);
        const found = SECRETS.filter((s) => text.includes(s));
        if (found.length) leaked.push(`${name}: ${found.join(", ")}`);
      }
      assert.deepEqual(leaked, [], "secrets quoted by the upstream reached clients unmasked");
    } finally {
      await g.close();
    }
  });
}

Deno.test("qa: the OpenAI route's error for a 200 body that is not JSON does not quote secrets from it", async () => {
  const g = await gateway("gemini_first", () => "not-json");
  try {
    const res = await fetch(`${g.url}/v1/chat/completions`, {
      method: "POST",
      headers: openai,
      body: JSON.stringify({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }] }),
    });
    const text = await res.text();
    assert.ok(res.status >= 500, `${res.status} ${text}`);
    assert.deepEqual(SECRETS.filter((s) => text.includes(s)), [], text);
  } finally {
    await g.close();
  }
});
