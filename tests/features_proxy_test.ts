import assert from "node:assert/strict";
import { ProxyPool, redactProxyUrl, stableHash } from "../lib/features/proxy_pool.ts";
import { UpstreamProxies } from "../lib/features/upstream_proxies.ts";
import { featureSettingsSchema } from "../lib/features/settings.ts";
import { GatewayError } from "../lib/http/errors.ts";

const urls = [
  "http://10.0.0.1:3128",
  "http://u:secret@10.0.0.2:3128",
  "socks5://10.0.0.3:1080",
  "https://p4.example:443",
];
const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);

Deno.test("stableHash is fixed across runs (hard-coded values)", () => {
  assert.equal(stableHash(""), stableHash(""));
  assert.notEqual(stableHash("a"), stableHash("b"));
  assert.equal(stableHash("gemini"), 4290428894, "FNV-1a + murmur3 fmix32, checked in Python");
});

Deno.test("each key keeps its proxy; a new pool chooses the same", () => {
  const a = new ProxyPool({ urls });
  const b = new ProxyPool({ urls: [...urls].reverse() });
  for (const k of keys) assert.equal(a.proxyFor(k), b.proxyFor(k), k);
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(a.proxyFor(k)!, (counts.get(a.proxyFor(k)!) ?? 0) + 1);
  assert.equal(counts.size, urls.length, "every proxy gets keys");
  for (const n of counts.values()) assert.ok(n > 20, `uneven spread: ${[...counts.values()]}`);
});

Deno.test("removing a proxy only moves that proxy's keys", () => {
  const full = new ProxyPool({ urls });
  const less = new ProxyPool({ urls: urls.filter((u) => u !== urls[2]) });
  let moved = 0;
  for (const k of keys) {
    const before = full.proxyFor(k);
    if (before === urls[2]) moved++;
    else assert.equal(less.proxyFor(k), before, k);
  }
  assert.ok(moved > 0);
});

Deno.test("a failing proxy is skipped until downMs passes, then used again", () => {
  let now = 1_000;
  const failures: string[] = [];
  const pool = new ProxyPool({ urls, downMs: 500, now: () => now, onFailure: (e) => failures.push(e.proxy) });
  const key = "key-7";
  const [first, second] = pool.ranking(key);
  assert.equal(pool.proxyFor(key), first);
  pool.reportFailure(first, new Error("connect refused"));
  assert.equal(pool.proxyFor(key), second);
  assert.deepEqual(failures, [redactProxyUrl(first)]);
  const st = pool.status().find((s) => s.proxy === redactProxyUrl(first))!;
  assert.equal(st.up, false);
  assert.equal(st.failures, 1);
  assert.equal(st.lastError, "connect refused");
  now += 501;
  assert.equal(pool.proxyFor(key), first);
  for (const u of urls) pool.reportFailure(u);
  assert.equal(pool.proxyFor(key), first, "all down: best-ranked one is still tried");
  pool.reportSuccess(second);
  assert.equal(pool.proxyFor(key), second);
});

Deno.test("status redacts credentials; no proxies means direct", () => {
  const pool = new ProxyPool({ urls });
  assert.ok(pool.status().some((s) => s.proxy === "http://***@10.0.0.2:3128"));
  assert.ok(!JSON.stringify(pool.status()).includes("secret"));
  const none = new ProxyPool({ urls: [] });
  assert.equal(none.clientFor("k"), undefined);
});

Deno.test("invalid proxy URLs are rejected by the pool and the settings schema", () => {
  assert.throws(
    () => new ProxyPool({ urls: ["ftp://x:21"] }),
    (e) => e instanceof GatewayError && e.status === 400,
  );
  assert.throws(() => new ProxyPool({ urls: ["not a url"] }), GatewayError);
  assert.equal(featureSettingsSchema.safeParse({ proxies: ["socks5://h:1080", "http://h:1"] }).success, true);
  const bad = featureSettingsSchema.safeParse({ proxies: ["ftp://h"] });
  assert.equal(bad.success, false);
  assert.match(bad.error!.issues[0].message, /supported schemes/);
});

Deno.test({
  name: "clientFor sends requests through the chosen HTTP proxy, close() frees clients",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const seen: string[] = [];
    // A loopback "proxy": proxied requests arrive with an absolute URL in the request line.
    const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      seen.push(req.url);
      return new Response("from-proxy");
    });
    const pool = new ProxyPool({ urls: [`http://127.0.0.1:${proxy.addr.port}`] });
    try {
      const res = await fetch("http://upstream.invalid/v1beta/models", { client: pool.clientFor("key-1") });
      assert.equal(await res.text(), "from-proxy");
      assert.deepEqual(seen, ["http://upstream.invalid/v1beta/models"]);
    } finally {
      pool.close();
      await proxy.shutdown();
    }
  },
});

Deno.test({
  name: "UpstreamProxies rebuilds on a list or proxyDownMs change; close() frees replaced pools at once",
  sanitizeOps: true,
  sanitizeResources: true,
  fn() {
    let s = { proxies: ["http://127.0.0.1:3128"], proxyDownMs: 5_000 };
    const up = new UpstreamProxies(() => s);
    const c1 = up.clientFor("key-1");
    assert.ok(c1, "a client through the proxy");
    up.refresh();
    assert.equal(up.clientFor("key-1"), c1, "unchanged settings keep the pool");
    s = { ...s, proxyDownMs: 9_000 };
    up.refresh();
    up.reportFailure("key-1", new Error("down"));
    const st = up.status()[0];
    assert.ok(st.downUntil! - Date.now() > 6_000, "the new proxyDownMs applies");
    s = { proxies: [], proxyDownMs: 9_000 };
    up.refresh();
    assert.equal(up.clientFor("key-1"), undefined, "no proxies: direct");
    up.close(); // the sanitizers check that no timer or client is left
  },
});
