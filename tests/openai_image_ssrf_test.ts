/**
 * Image URLs in OpenAI chat requests cannot reach non-public addresses: every hop is resolved first,
 * refused unless all its addresses are allowed, and connected to at the address that was checked.
 * Host names are mapped by a test resolver; the only traffic goes to loopback servers.
 */
import assert from "node:assert/strict";
import { Hono, type MiddlewareHandler } from "hono";
import type { AuthVariables } from "../lib/http/client_auth.ts";
import { isPublicAddress, nonPublicReason } from "../lib/net/ip.ts";
import { createImageFetcher, type ImageFetcherOptions } from "../lib/openai/chat_parts.ts";
import type { ForwardRequest, ForwardResult } from "../lib/pipeline/types.ts";
import { createOpenAIEdge } from "../routes/openai.ts";
import { edgeApp } from "../routes/mod.ts";
import { edgeDeps } from "./support/edge.ts";

Deno.test("public addresses: every special-purpose range is refused, in IPv4, IPv6 and IPv4-embedding forms", () => {
  const refused = [
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "127.255.255.255",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.9",
    "192.0.2.1",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.1",
    "203.0.113.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "[::1]",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:a9fe:a9fe",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::10.0.0.1",
    "64:ff9b:1::1",
    "2002:a00:1::1",
    "2002:7f00:1::",
    "2001::1",
    "2001:db8::1",
    "3fff::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "fec0::1",
    "ff02::1",
    "100::1",
    "not-an-address",
  ];
  for (const a of refused) assert.equal(isPublicAddress(a), false, a);
  assert.equal(nonPublicReason("100.64.0.1"), "shared address space (carrier-grade NAT)");
  assert.equal(nonPublicReason("::ffff:169.254.169.254"), "link-local (cloud metadata services)");
  const allowed = [
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.1",
    "198.17.255.255",
    "223.255.255.255",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
  ];
  for (const a of allowed) assert.equal(isPublicAddress(a), true, a);
});

const PNG = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3]);

/** A resolver from a name table, counting lookups per name. */
function testResolver(table: Record<string, string[] | (() => string[])>) {
  const lookups: Record<string, number> = {};
  const resolve = (host: string) => {
    lookups[host] = (lookups[host] ?? 0) + 1;
    const entry = table[host];
    if (!entry) return Promise.reject(new Error(`ENOTFOUND ${host}`));
    return Promise.resolve(typeof entry === "function" ? entry() : entry);
  };
  return { resolve, lookups };
}

/** The OpenAI edge with the given image fetcher options and a fake pipeline recording calls. */
function chatEdge(fetcher: ImageFetcherOptions, settings: { allowPrivateImageHosts?: boolean } = {}) {
  const calls: ForwardRequest[] = [];
  const forward = (req: ForwardRequest): Promise<ForwardResult> => {
    calls.push(req);
    const answer = {
      candidates: [{ content: { role: "model", parts: [{ text: "seen" }] }, finishReason: "STOP" }],
    };
    return Promise.resolve({ response: Response.json(answer), keyId: "k1", attempts: 1 });
  };
  const edge = createOpenAIEdge({ fetchImage: createImageFetcher(fetcher) });
  const auth: MiddlewareHandler<{ Variables: AuthVariables }> = async (c, next) => {
    c.set("tokenName", "tester");
    await next();
  };
  const app = new Hono().route("/v1", edgeApp(edge, edgeDeps(forward, { settings }), [auth]));
  const ask = async (url: string) => {
    const res = await app.request("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }],
      }),
    });
    return { status: res.status, body: await res.json() };
  };
  return { ask, calls };
}

/** An image server on 127.0.0.1 with a few redirecting routes; counts requests per path. */
function imageServer() {
  const hits: Record<string, number> = {};
  const hosts: string[] = [];
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, (req): Response => {
    const { pathname } = new URL(req.url);
    hits[pathname] = (hits[pathname] ?? 0) + 1;
    hosts.push(req.headers.get("host") ?? "");
    const port = server.addr.port;
    const redirect = (to: string) => new Response(null, { status: 302, headers: { location: to } });
    switch (pathname) {
      case "/cat.png":
        return new Response(PNG, { headers: { "content-type": "image/png" } });
      case "/to-private":
        return redirect(`http://internal.example.test:${port}/cat.png`);
      case "/to-other-loopback":
        return redirect(`http://other.example.test:${port}/cat.png`);
      case "/to-literal":
        return redirect(`http://[::ffff:10.0.0.1]:${port}/cat.png`);
      case "/to-cdn":
        return redirect(`http://cdn.example.test:${port}/cat.png`);
      case "/to-file":
        return redirect("file:///etc/passwd");
      case "/loop":
        return redirect("/loop");
      default:
        return new Response("no such image", { status: 404 });
    }
  });
  return { server, hits, hosts, port: server.addr.port };
}

const NEUTRAL =
  "Could not download the image at 'messages[0].content[0]': image URLs must be public http(s) addresses that answer with the image; or send it as a data URL instead.";

Deno.test("image URLs: names that resolve to non-public addresses are refused before connecting, with one neutral error", async () => {
  const img = imageServer();
  const { resolve, lookups } = testResolver({
    "loopback.example.test": ["127.0.0.1"],
    "private.example.test": ["10.1.2.3"],
    "cgnat.example.test": ["100.64.0.1"],
    "metadata.example.test": ["169.254.169.254"],
    "mapped.example.test": ["::ffff:127.0.0.1"],
    "v6-loopback.example.test": ["::1"],
    "ula.example.test": ["fd00::1"],
    "link-local.example.test": ["fe80::1"],
    "nat64.example.test": ["64:ff9b::a00:1"],
    "sixtofour.example.test": ["2002:a00:1::1"],
    "empty.example.test": [],
  });
  const { ask, calls } = chatEdge({ resolve });
  try {
    const names = [
      "loopback",
      "private",
      "cgnat",
      "metadata",
      "mapped",
      "v6-loopback",
      "ula",
      "link-local",
      "nat64",
      "sixtofour",
      "empty",
      "unknown",
    ];
    const urls = [
      ...names.map((n) => `http://${n}.example.test:${img.port}/cat.png`),
      // Literal addresses in every spelling the URL parser accepts.
      `http://127.0.0.1:${img.port}/cat.png`,
      `http://2130706433:${img.port}/cat.png`,
      `http://0x7f.1:${img.port}/cat.png`,
      `http://[::ffff:127.0.0.1]:${img.port}/cat.png`,
      `http://[::1]:${img.port}/cat.png`,
      "http://100.64.0.1/cat.png",
      "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
      "http://[fd00::1]/cat.png",
    ];
    for (const url of urls) {
      const { status, body } = await ask(url);
      assert.equal(status, 400, url);
      assert.equal(body.error.message, NEUTRAL, url);
      assert.equal(body.error.code, "invalid_image_url");
    }
    assert.deepEqual(img.hits, {}, "nothing was fetched");
    assert.equal(calls.length, 0, "nothing went upstream");
    assert.equal(lookups["loopback.example.test"], 1);
  } finally {
    await img.server.shutdown();
  }
});

Deno.test("image URLs: the connection goes to the address that was checked (one lookup per hop, no DNS rebinding)", async () => {
  const img = imageServer();
  let answers = 0;
  const { resolve, lookups } = testResolver({
    // Checked once as 127.0.0.1; any later lookup would answer 127.0.0.9, where nothing listens.
    "images.example.test": () => answers++ === 0 ? ["127.0.0.1"] : ["127.0.0.9"],
  });
  // The test treats 127.0.0.1 as the one "public" address (its image server).
  const { ask, calls } = chatEdge({ resolve, allowAddress: (a) => a === "127.0.0.1" });
  try {
    const { status, body } = await ask(`http://images.example.test:${img.port}/cat.png`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.choices[0].message.content, "seen");
    assert.equal(lookups["images.example.test"], 1);
    assert.deepEqual(img.hosts, [`images.example.test:${img.port}`], "the Host header keeps the name");
    const sent = JSON.parse(new TextDecoder().decode(calls[0].body!));
    assert.deepEqual(sent.contents[0].parts[0].inlineData, {
      mimeType: "image/png",
      data: btoa(String.fromCharCode(...PNG)),
    });
  } finally {
    await img.server.shutdown();
  }
});

Deno.test("image URLs: every redirect is checked like the first hop; network errors and HTTP errors look the same", async () => {
  const img = imageServer();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const { resolve } = testResolver({
    "images.example.test": ["127.0.0.1"],
    "cdn.example.test": ["127.0.0.1"],
    "internal.example.test": ["10.0.0.7"],
    "other.example.test": ["127.0.0.2"],
    "mixed.example.test": ["127.0.0.1", "10.0.0.1"],
  });
  const { ask, calls } = chatEdge({ resolve, allowAddress: (a) => a === "127.0.0.1" });
  const base = `http://images.example.test:${img.port}`;
  try {
    const ok = await ask(`${base}/to-cdn`);
    assert.equal(ok.status, 200, "a redirect to an allowed name is followed");
    for (
      const url of [
        `${base}/to-private`,
        `${base}/to-other-loopback`,
        `${base}/to-literal`,
        `${base}/to-file`,
        `${base}/loop`,
        `${base}/missing.png`,
        `http://mixed.example.test:${img.port}/cat.png`,
        `http://images.example.test:${closedPort}/cat.png`,
      ]
    ) {
      const { status, body } = await ask(url);
      assert.equal(status, 400, url);
      assert.equal(body.error.message, NEUTRAL, url);
    }
    assert.equal(img.hits["/cat.png"], 1, "only the allowed redirect reached the image");
    assert.equal(img.hits["/loop"], 4, "the first hop and three redirects");
    assert.equal(calls.length, 1);
  } finally {
    await img.server.shutdown();
  }
});

Deno.test("image URLs: ALLOW_PRIVATE_IMAGE_HOSTS lets any address through (still resolved once and pinned)", async () => {
  const img = imageServer();
  const { resolve, lookups } = testResolver({ "nas.example.test": ["127.0.0.1"] });
  const { ask } = chatEdge({ resolve }, { allowPrivateImageHosts: true });
  try {
    const { status } = await ask(`http://nas.example.test:${img.port}/cat.png`);
    assert.equal(status, 200);
    assert.equal(lookups["nas.example.test"], 1);
  } finally {
    await img.server.shutdown();
  }
});
