/**
 * Upstream proxies end to end: the gateway sends Gemini traffic through real forward proxies (Debian's
 * tinyproxy, started per test on a random loopback port), skips and reports a dead proxy, and keeps
 * each key on the same proxy across gateway restarts.
 *
 * Needs `tinyproxy` (`apt-get install -y tinyproxy`; CI's .ci/run installs it).
 *
 * Loopback targets: a client made by `Deno.createHttpClient({ proxy })` does NOT bypass the proxy for
 * 127.0.0.1 by itself, but it does honour `NO_PROXY` / `no_proxy` from the environment (read when the
 * client is created). Machines often set `NO_PROXY=localhost,127.0.0.1`, which would send these tests
 * straight to the mock, so the tests clear both variables while they run and restore them after.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";
import { MockGemini } from "./support/mock_gemini.ts";
import { ProxyPool } from "../lib/features/proxy_pool.ts";
import { keyId } from "../lib/pool/key_record.ts";

/** A running tinyproxy. */
interface Tinyproxy {
  /** `http://127.0.0.1:port` */
  url: string;
  /** The name it puts in the `Via` header of every request it forwards. */
  name: string;
  /** Everything it logged so far. */
  log(): string;
  stop(): Promise<void>;
}

function tinyproxyBinary(): string {
  for (const p of ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* try the next one */ }
  }
  throw new Error(
    "tinyproxy is not installed (looked in /usr/bin and /usr/sbin): run `apt-get install -y tinyproxy`.",
  );
}

/** A loopback port nothing listens on (right after this returns). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function startTinyproxy(name: string, extra: string[] = []): Promise<Tinyproxy> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "tinyproxy-" });
  const conf = `${dir}/tinyproxy.conf`;
  await Deno.writeTextFile(
    conf,
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Allow 127.0.0.1",
      "Timeout 30",
      "MaxClients 50",
      "LogLevel Connect",
      `ViaProxyName "${name}"`,
      ...extra,
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(tinyproxyBinary(), {
    args: ["-d", "-c", conf],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let text = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) text += dec.decode(chunk, { stream: true });
  };
  const readers = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await readers;
    await Deno.remove(dir, { recursive: true });
  };
  for (let i = 0;; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (e) {
      if (i >= 100) {
        await stop();
        throw new Error(`tinyproxy did not start listening on port ${port}: ${e}\n${text}`);
      }
      await new Promise((r) => setTimeout(r, 30));
    }
  }
  return { url: `http://127.0.0.1:${port}`, name, log: () => text, stop };
}

/** Clears NO_PROXY / no_proxy (see the module doc); returns a function that restores them. */
function clearNoProxy(): () => void {
  const saved = ["NO_PROXY", "no_proxy"].map((k) => [k, Deno.env.get(k)] as const);
  for (const [k] of saved) Deno.env.delete(k);
  return () => {
    for (const [k, v] of saved) if (v !== undefined) Deno.env.set(k, v);
  };
}

/** Which proxy (by its Via name) each upstream request went through, keyed by the API key used. */
function viaByKey(h: Harness): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of h.mock.requests) {
    const via = r.headers.get("via") ?? "direct";
    const name = via.match(/^1\.1 (\S+)/)?.[1] ?? via;
    const prev = out.get(r.key!);
    assert.ok(prev === undefined || prev === name, `key used two proxies: ${prev}, ${name}`);
    out.set(r.key!, name);
  }
  return out;
}

function sdk(h: Harness): GoogleGenAI {
  return new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
}

Deno.test("Gemini traffic goes through the configured forward proxy (tinyproxy)", async () => {
  const restore = clearNoProxy();
  const proxy = await startTinyproxy("p1");
  const h = await startHarness({ env: { PROXIES: proxy.url } });
  try {
    const ai = sdk(h);
    const res = await ai.models.generateContent({ model: "gemini-2.5-flash-search", contents: "via proxy" });
    assert.equal(res.text, "echo: via proxy");
    assert.ok(res.candidates?.[0]?.groundingMetadata, "features still apply");
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "s t r" });
    let text = "";
    for await (const c of stream) text += c.text ?? "";
    assert.equal(text, "echo: s t r", "SSE streams pass through the proxy");

    assert.equal(h.mock.requests.length, 2);
    for (const r of h.mock.requests) {
      assert.match(r.headers.get("via") ?? "", /^1\.1 p1 \(tinyproxy/, `${r.path} did not pass the proxy`);
    }
    const log = proxy.log();
    const mockPort = new URL(h.mock.url).port;
    const host = `http://127\\.0\\.0\\.1:${mockPort}`;
    assert.match(log, new RegExp(`POST ${host}/v1(beta)?/models/gemini-2\\.5-flash:generateContent HTTP`));
    assert.match(log, /POST \S+gemini-2\.5-flash:streamGenerateContent\?alt=sse/);
    assert.ok(!log.includes(fakeKey(1).slice(0, 12)), "the API key never appears in the proxy's URL lines");
    assert.deepEqual(h.gw.proxies.status(), [{ proxy: proxy.url, up: true, failures: 0 }]);
  } finally {
    await h.close();
    await proxy.stop();
    restore();
  }
});

Deno.test("proxy credentials in the URL are sent (tinyproxy BasicAuth) and never shown", async () => {
  const restore = clearNoProxy();
  const proxy = await startTinyproxy("auth", ["BasicAuth gw s3cret-pass"]);
  const port = new URL(proxy.url).port;
  const h = await startHarness({ env: { PROXIES: `http://gw:s3cret-pass@127.0.0.1:${port}` } });
  try {
    const res = await sdk(h).models.generateContent({ model: "gemini-2.5-flash", contents: "authed" });
    assert.equal(res.text, "echo: authed");
    assert.match(h.mock.requests.at(-1)!.headers.get("via") ?? "", /^1\.1 auth /);
    assert.equal(h.mock.requests.at(-1)!.headers.get("proxy-authorization"), null, "not passed on upstream");
    const status = JSON.stringify(h.gw.proxies.status());
    assert.ok(status.includes(`http://***@127.0.0.1:${port}`));
    assert.ok(!status.includes("s3cret"), "credentials are redacted in the status");
  } finally {
    await h.close();
    await proxy.stop();
    restore();
  }
});

Deno.test("a dead proxy is skipped and reported; requests still succeed through the other one", async () => {
  const restore = clearNoProxy();
  const live = await startTinyproxy("live");
  const dead = `http://127.0.0.1:${freePort()}`;
  // Two keys that both prefer the dead proxy: the first call must hit it, deterministically.
  const ranking = new ProxyPool({ urls: [dead, live.url] });
  const keys = Array.from({ length: 60 }, (_, i) => fakeKey(i + 1))
    .filter((k) => ranking.proxyFor(keyId(k)) === dead).slice(0, 2);
  assert.equal(keys.length, 2, "no keys ranking the dead proxy first");
  const h = await startHarness({ keys });
  try {
    // Set at run time (the gateway rebuilds its proxy pool); set at start, the first model listing
    // would already have met the dead proxy.
    await h.gw.settings.update({ proxies: [dead, live.url] });
    assert.deepEqual(h.gw.proxies.status().map((s) => s.up), [true, true]);
    const ai = sdk(h);
    const res = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "still works" });
    assert.equal(res.text, "echo: still works");
    const first = h.records.at(-1)!;
    assert.equal(first.attempts, 2, "one failed attempt through the dead proxy, then the live one");

    const status = h.gw.proxies.status();
    const down = status.find((s) => s.proxy === dead)!;
    assert.equal(down.up, false);
    assert.equal(down.failures, 1);
    assert.match(
      down.lastError ?? "",
      /Connection refused/,
      "the cause is reported, not just 'fetch failed'",
    );
    assert.ok((down.downUntil ?? 0) > Date.now());
    assert.deepEqual(status.find((s) => s.proxy === live.url), { proxy: live.url, up: true, failures: 0 });

    // While it is down, every key goes through the live proxy at the first attempt.
    for (let i = 0; i < 4; i++) {
      const r = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: `n${i}` });
      assert.equal(r.text, `echo: n${i}`);
      assert.equal(h.records.at(-1)!.attempts, 1);
    }
    assert.equal(h.mock.requests.length, 5);
    assert.ok(h.mock.requests.every((r) => /^1\.1 live /.test(r.headers.get("via") ?? "")));
    assert.deepEqual(new Set(h.mock.requests.map((r) => r.key)), new Set(keys), "both keys were used");
    assert.equal(h.gw.proxies.status().find((s) => s.proxy === dead)!.failures, 1, "not tried again");
  } finally {
    await h.close();
    await live.stop();
    restore();
  }
});

Deno.test("each key keeps the same proxy across gateway restarts (stable hashing)", async () => {
  const restore = clearNoProxy();
  const p1 = await startTinyproxy("p1");
  const p2 = await startTinyproxy("p2");
  const mock = await MockGemini.start();
  // Three keys for each proxy, so both are used whatever the ports are.
  const ranking = new ProxyPool({ urls: [p1.url, p2.url] });
  const candidates = Array.from({ length: 60 }, (_, i) => fakeKey(i + 1));
  const keys = [p1.url, p2.url].flatMap((u) =>
    candidates.filter((k) => ranking.proxyFor(keyId(k)) === u).slice(0, 3)
  );
  assert.equal(keys.length, 6);
  const run = async (proxies: string[], order: string[]) => {
    const h = await startHarness({ keys: order, env: { PROXIES: proxies.join(",") }, useMock: mock });
    try {
      const ai = sdk(h);
      for (let i = 0; i < order.length; i++) {
        await ai.models.generateContent({ model: "gemini-2.5-flash", contents: `r${i}` });
      }
      assert.equal(h.mock.requests.length, order.length);
      return viaByKey(h);
    } finally {
      await h.close();
    }
  };
  try {
    const before = await run([p1.url, p2.url], keys);
    assert.equal(before.size, 6, "round robin used every key");
    assert.deepEqual(new Set(before.values()), new Set(["p1", "p2"]), "both proxies carry keys");
    // A new gateway, with the proxy list and the keys in another order: same key -> same proxy.
    const after = await run([p2.url, p1.url], [...keys].reverse());
    assert.deepEqual(Object.fromEntries([...after].sort()), Object.fromEntries([...before].sort()));
  } finally {
    await mock.close();
    await p1.stop();
    await p2.stop();
    restore();
  }
});

Deno.test("NO_PROXY makes a proxy client go direct for matching hosts (why these tests clear it)", async () => {
  const restore = clearNoProxy();
  const proxy = await startTinyproxy("np");
  const target = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => new Response(req.headers.get("via") ?? "direct"),
  );
  const viaFresh = async () => {
    const pool = new ProxyPool({ urls: [proxy.url] }); // NO_PROXY is read when the client is made
    try {
      const r = await fetch(`http://127.0.0.1:${target.addr.port}/`, { client: pool.clientFor("k") });
      return await r.text();
    } finally {
      pool.close();
    }
  };
  try {
    assert.match(await viaFresh(), /^1\.1 np /, "no NO_PROXY: loopback goes through the proxy");
    Deno.env.set("NO_PROXY", "localhost,127.0.0.1");
    assert.equal(await viaFresh(), "direct", "NO_PROXY=127.0.0.1 bypasses the configured proxy");
  } finally {
    Deno.env.delete("NO_PROXY");
    await target.shutdown();
    await proxy.stop();
    restore();
  }
});
