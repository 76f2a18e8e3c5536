/**
 * The request path and query read off a request's URL text (`lib/http/url_parts.ts`) are what
 * `new URL(req.url)` gives, for served requests whose target Deno does not parse (dot segments,
 * characters the URL parser encodes, a doubled slash, a query with a fragment).
 */
import assert from "node:assert/strict";
import { urlPath, urlSearch } from "../lib/http/url_parts.ts";
import { memoize } from "../lib/util/memo.ts";

const URLS = [
  "http://x/",
  "http://127.0.0.1:8000/v1/chat/completions",
  "http://x/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
  "http://x/a?",
  "http://x/a?b#c",
  "http://x/a#c?d",
  "https://u:p@h:1/a/b%2F?q=1?2",
  "http://x/a??",
  "http://[::1]:80/p?x",
  "http://x/%3F?k",
  "http://x/v1beta/files/../models/gemini-2.5-flash",
  "http://x/a/%2e%2E/b",
  "http://x/a/./b/.",
  "http://x//ws//google.ai",
  "http://x/a b?c d",
  `http://x/a"<>?'"`,
  "http://a\\b/p",
  "http://x/é?é",
  "http://x?q",
];

Deno.test("urlPath and urlSearch are new URL(url).pathname and .search, however the target is spelled", () => {
  for (const url of URLS) {
    const parsed = new URL(url);
    assert.equal(urlPath(url), parsed.pathname, url);
    assert.equal(urlSearch(url), parsed.search, url);
    // Asked again (remembered): the same answer.
    assert.equal(urlPath(url), parsed.pathname, url);
  }
});

Deno.test("served requests: the gateway's path is the parsed one (dot segments resolved), not the raw target", async () => {
  const seen: Array<[string, string]> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push([urlPath(req.url), new URL(req.url).pathname]);
    return new Response("ok");
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(
      new TextEncoder().encode(
        "GET /v1beta/files/../models/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      ),
    );
    const buf = new Uint8Array(1024);
    while ((await conn.read(buf)) !== null) { /* until the server closes */ }
    conn.close();
  } finally {
    await server.shutdown();
  }
  assert.deepEqual(seen, [["/v1beta/models/x", "/v1beta/models/x"]]);
});

Deno.test("memoize: the function's answer, computed once per argument, and the cache bounded", () => {
  let calls = 0;
  const f = memoize((s) => {
    calls++;
    return s === "none" ? undefined : s.length;
  }, 2);
  assert.equal(f("abc"), 3);
  assert.equal(f("abc"), 3);
  assert.equal(f("none"), undefined);
  assert.equal(f("none"), undefined);
  assert.equal(calls, 2, "remembered, undefined answers too");
  assert.equal(f("x"), 1); // full: starts over
  assert.equal(f("abc"), 3);
  assert.equal(calls, 4);
});
