/**
 * Which of a native client's request headers reach the upstream, and with which values: the ones Google
 * reads (`content-type`, `accept`, `x-goog-api-client`, `x-server-timeout`, `user-agent`) and every
 * `x-goog-upload-*`, a header sent twice as its values joined with `, `; nothing else the client sent
 * (its credential, cookies, proxy headers, its own headers). Vertex AI keys get the same headers, with
 * their JSON `content-type`.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";
import { startVertexHarness } from "./support/vertex_harness.ts";

/**
 * The client's headers, as they go on the wire (a repeated header on two lines, names in any case):
 * forwarded ones and ones that must stay at the gateway.
 */
function clientHeaders(token: string): Array<[string, string]> {
  return [
    ["x-goog-api-key", token],
    ["Content-Type", "application/json"],
    ["Accept", "application/json"],
    ["x-server-timeout", "42"],
    ["User-Agent", "headers-test/1.0"],
    ["X-Goog-Upload-Protocol", "raw"],
    ["x-goog-upload-file-name", "note.txt"],
    ["X-Goog-Api-Client", "genai-js/1.0"],
    ["authorization", `Bearer ${token}`],
    ["cookie", "session=secret"],
    ["x-forwarded-for", "203.0.113.7"],
    ["x-custom-thing", "stays"],
    ["x-goog-user-project", "stays-too"],
    ["x-goog-api-client", "gl-node/22"],
  ];
}

/**
 * Sends one request on a raw connection (`fetch` would join a repeated header into one line) and
 * answers its status line and body.
 */
async function rawPost(url: string, path: string, headers: Array<[string, string]>, body: string) {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const bytes = new TextEncoder().encode(body);
  const head = [`POST ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, "Connection: close"]
    .concat(headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${bytes.length}`);
  await conn.write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
  await conn.write(bytes);
  const answer = await new Response(conn.readable).text();
  return { status: Number(answer.split(" ")[1]), text: answer };
}

/** Headers the client sent that must arrive upstream as they were. */
const FORWARDED: Record<string, string> = {
  accept: "application/json",
  "x-server-timeout": "42",
  "user-agent": "headers-test/1.0",
  "x-goog-upload-protocol": "raw",
  "x-goog-upload-file-name": "note.txt",
  "x-goog-api-client": "genai-js/1.0, gl-node/22",
};
/** Headers the client sent that must not arrive upstream. */
const KEPT_BACK = ["authorization", "cookie", "x-forwarded-for", "x-custom-thing", "x-goog-user-project"];

function assertForwarded(got: Headers, contentType: string): void {
  for (const [name, value] of Object.entries(FORWARDED)) {
    assert.equal(got.get(name), value, `upstream header ${name}`);
  }
  assert.equal(got.get("content-type"), contentType);
  for (const name of KEPT_BACK) assert.equal(got.get(name), null, `upstream header ${name} must not be sent`);
}

const body = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });

Deno.test("a native model call forwards the client's Google headers, joined when repeated, and nothing else", async () => {
  const h = await startHarness();
  try {
    const res = await rawPost(
      h.url,
      "/v1beta/models/gemini-2.5-flash:generateContent",
      clientHeaders(h.token),
      body,
    );
    assert.equal(res.status, 200, res.text);
    const seen = h.mock.requests.at(-1)!;
    assert.equal(seen.keySource, "header");
    assertForwarded(seen.headers, "application/json");
  } finally {
    await h.close();
  }
});

Deno.test("a native resource request forwards the same headers", async () => {
  const h = await startHarness();
  try {
    const cache = { model: "models/gemini-2.5-flash", contents: [{ role: "user", parts: [{ text: "x" }] }] };
    const res = await rawPost(h.url, "/v1beta/cachedContents", clientHeaders(h.token), JSON.stringify(cache));
    assert.equal(res.status, 200, res.text);
    const seen = h.mock.requests.at(-1)!;
    assert.equal(seen.path, "/v1beta/cachedContents");
    assertForwarded(seen.headers, "application/json");
  } finally {
    await h.close();
  }
});

Deno.test("a Vertex AI key gets the client's forwarded headers and its own JSON content-type", async () => {
  const h = await startVertexHarness();
  try {
    // Vertex always gets JSON, whatever the client said.
    const headers = clientHeaders(h.token).map(([k, v]): [string, string] =>
      k === "Content-Type" ? [k, "text/plain"] : [k, v]
    );
    const res = await rawPost(h.url, "/v1beta/models/gemini-2.5-flash:generateContent", headers, body);
    assert.equal(res.status, 200, res.text);
    const seen = h.vertex.requests.at(-1)!;
    assert.ok(seen.key && h.vertexKeys.includes(seen.key), "the Vertex key in x-goog-api-key");
    assertForwarded(seen.headers, "application/json");
  } finally {
    await h.close();
  }
});

Deno.test("the client's key in the query never goes upstream, however it is spelled; the rest of the query does", async () => {
  const h = await startHarness();
  try {
    for (
      const query of [
        `key=${h.token}&alt=json`,
        `alt=json&%6Bey=${h.token}`,
        `%6bey=x&key=${h.token}&alt=json`,
      ]
    ) {
      const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent?${query}`, {
        method: "POST",
        headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
        body,
      });
      assert.equal(res.status, 200, await res.text());
      const seen = h.mock.requests.at(-1)!;
      assert.equal(seen.query.has("key"), false, query);
      assert.equal(seen.query.get("alt"), "json", query);
      assert.equal(seen.keySource, "header");
    }
  } finally {
    await h.close();
  }
});
