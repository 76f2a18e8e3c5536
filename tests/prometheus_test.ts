/**
 * `GET /metrics`: Prometheus' text format, read back by a Prometheus text-format parser; behind its
 * own token; the series the operator needs with bounded labels; the sum over every gateway on a KV.
 */
import assert from "node:assert/strict";
import parsePrometheus from "./support/sdk/prometheus_text.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";
import { MockGemini } from "./support/mock_gemini.ts";
import { nativeGenerate } from "./support/requests.ts";
import { envTokenName } from "../lib/tokens/token_store.ts";
import { idleGateways, limitFirstKey } from "./support/two_gateways.ts";

const METRICS_TOKEN = "metrics-token-123456";

interface Family {
  name: string;
  type: string;
  metrics: Array<
    { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string }
  >;
}

async function scrape(
  h: Harness,
  token = METRICS_TOKEN,
): Promise<{ status: number; text: string; type: string }> {
  const r = await fetch(`${h.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.status, text: await r.text(), type: r.headers.get("content-type") ?? "" };
}

function families(text: string): Map<string, Family> {
  return new Map((parsePrometheus(text) as Family[]).map((f) => [f.name, f]));
}

function value(f: Family | undefined, labels: Record<string, string>): number {
  const m = f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(m?.value ?? NaN);
}

Deno.test("/metrics is off without METRICS_TOKEN and needs the token when on", async () => {
  const off = await startHarness();
  const on = await startHarness({ env: { METRICS_TOKEN } });
  try {
    assert.equal((await scrape(off)).status, 404);
    assert.equal((await scrape(on, "")).status, 401);
    assert.equal((await scrape(on, "wrong-token-123456")).status, 401);
    assert.equal((await scrape(on, on.token)).status, 401, "a client token is not the metrics token");
    const ok = await scrape(on);
    assert.equal(ok.status, 200);
    assert.match(ok.type, /^text\/plain; version=0\.0\.4/);
  } finally {
    await off.close();
    await on.close();
  }
});

Deno.test("/metrics: requests, attempts by outcome, keys, next free, latency, TTFB, tokens, streams, KV queue", async () => {
  const h = await startHarness({ env: { METRICS_TOKEN }, keys: [fakeKey(1), fakeKey(2)] });
  try {
    h.mock.setKey(fakeKey(1), { rpm: 1 }); // its second call gets Google's per-minute 429
    for (let i = 0; i < 3; i++) {
      const r = await nativeGenerate(h, { token: h.token });
      assert.equal(r.status, 200);
      await r.body?.cancel();
    }
    const s = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "one two" }] }] }),
    });
    await s.text();
    assert.equal(
      (await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, { method: "POST" })).status,
      401,
    );

    const { status, text } = await scrape(h);
    assert.equal(status, 200);
    const f = families(text);
    const P = "gemini_gateway_";
    assert.equal(f.get(`${P}requests_total`)?.type, "COUNTER");
    const token = envTokenName(h.token);
    const served = { route: "gemini", model: "gemini-2.5-flash", status: "200", token };
    assert.equal(value(f.get(`${P}requests_total`), served), 4);
    // A request the gateway refuses at its edge (no client token) is counted too.
    const refused = { route: "gemini", model: "none", status: "401", token: "none" };
    assert.equal(value(f.get(`${P}requests_total`), refused), 1);
    const attempts = f.get(`${P}upstream_attempts_total`);
    assert.equal(value(attempts, { outcome: "ok", model: "gemini-2.5-flash" }), 4);
    assert.equal(value(attempts, { outcome: "rate_limited_minute", model: "gemini-2.5-flash" }), 1);
    for (const outcome of ["invalid_key", "server_error", "timeout", "network", "rate_limited_day"]) {
      assert.ok(attempts?.metrics.some((m) => m.labels?.outcome === outcome), `outcome ${outcome} listed`);
    }
    assert.equal(f.get(`${P}keys`)?.type, "GAUGE");
    assert.equal(value(f.get(`${P}keys`), { state: "cooling" }), 1);
    assert.equal(value(f.get(`${P}keys`), { state: "active" }), 1);
    assert.equal(
      value(f.get(`${P}key_next_free_seconds`), { model: "gemini-2.5-flash" }),
      0,
      "key 2 is free",
    );
    // Every finished request has a duration (the refused one too); only answers have a first byte.
    for (
      const [name, count] of [["request_duration_seconds", 5], ["time_to_first_byte_seconds", 4]] as const
    ) {
      const hist = f.get(`${P}${name}`);
      assert.equal(hist?.type, "HISTOGRAM", name);
      // (this parser folds a labelled histogram's samples into its buckets; `_count` is read from the text)
      assert.equal(Number(hist?.metrics[0].buckets?.["+Inf"]), count, `${name} +Inf bucket`);
      assert.match(text, new RegExp(`^${P}${name}_count\\{route="gemini"\\} ${count}$`, "m"));
    }
    assert.ok(value(f.get(`${P}tokens_total`), { direction: "input", model: "gemini-2.5-flash" }) > 0);
    assert.ok(value(f.get(`${P}tokens_total`), { direction: "output", model: "gemini-2.5-flash" }) > 0);
    assert.equal(value(f.get(`${P}open_streams`), {}), 0);
    assert.equal(value(f.get(`${P}live_sessions`), {}), 0);
    assert.ok(f.get(`${P}kv_write_queue`)?.metrics.some((m) => m.labels?.store === "pool"));
    assert.equal(value(f.get(`${P}gateways`), {}), 1);
    // Names follow Prometheus' conventions; no key, key id or client token in any label.
    for (const name of f.keys()) assert.match(name, /^gemini_gateway_[a-z_]+$/);
    for (const secret of [fakeKey(1), fakeKey(2), h.token, ...h.gw.pool.records().map((r) => r.id)]) {
      assert.ok(!text.includes(secret), "no key, key id or client token in the metrics");
    }
  } finally {
    await h.close();
  }
});

Deno.test("/metrics: Google's 503 (model overloaded) counts as a server_error attempt", async () => {
  const h = await startHarness({ env: { METRICS_TOKEN }, keys: [fakeKey(1), fakeKey(2)] });
  try {
    h.mock.failNext({ status: 503, message: "The model is overloaded. Please try again later." });
    const r = await nativeGenerate(h, { token: h.token });
    assert.equal(r.status, 200, "the next key serves");
    await r.body?.cancel();
    const attempts = families((await scrape(h)).text).get("gemini_gateway_upstream_attempts_total");
    assert.equal(value(attempts, { outcome: "server_error", model: "gemini-2.5-flash" }), 1);
    assert.equal(value(attempts, { outcome: "ok", model: "gemini-2.5-flash" }), 1);
  } finally {
    await h.close();
  }
});

Deno.test("/metrics: any gateway on a shared KV answers with the sum of all of them", async () => {
  const dir = await Deno.makeTempDir();
  const mock = await MockGemini.start();
  const env = { KV_PATH: `${dir}/kv.sqlite3`, SYNC_INTERVAL_MS: "50", METRICS_TOKEN };
  const a = await startHarness({ env, useMock: mock });
  const b = await startHarness({ env, useMock: mock });
  try {
    for (const [h, n] of [[a, 2], [b, 3]] as const) {
      for (let i = 0; i < n; i++) await (await nativeGenerate(h, { token: h.token })).body?.cancel();
    }
    await a.gw.members.refresh();
    await b.gw.prometheus.snapshot();
    const f = families((await scrape(a)).text);
    assert.equal(
      value(f.get("gemini_gateway_upstream_attempts_total"), { outcome: "ok", model: "gemini-2.5-flash" }),
      5,
    );
    assert.equal(value(f.get("gemini_gateway_gateways"), {}), 2);
    assert.equal(value(f.get("gemini_gateway_keys"), { state: "active" }), 3, "shared state is counted once");
    const capacity = { model: "gemini-2.5-flash" };
    assert.equal(value(f.get("gemini_gateway_capacity_usable_keys"), capacity), 3, "the capacity view, once");
    assert.equal(value(f.get("gemini_gateway_capacity_servable"), capacity), 1);
    assert.equal(f.get("gemini_gateway_capacity_minute_remaining")?.type, "GAUGE");
  } finally {
    await a.close();
    await b.close();
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/metrics: requests left are the pool's, not more, when another gateway on the KV is idle", async () => {
  const { a, b, close } = await idleGateways([fakeKey(1)], { METRICS_TOKEN, QUOTA_WINDOW_MS: "86400000" });
  try {
    const model = "gemini-2.5-flash";
    await limitFirstKey(a, b, model, { rpm: 10, rpd: 100 });
    // Only A serves: it paces against the whole limit; B, idle, would get half if it served.
    for (let i = 0; i < 3; i++) await (await nativeGenerate(a, { token: a.token, model })).body?.cancel();
    await Promise.all([a.gw.members.refresh(), b.gw.members.refresh()]);
    // A scrape reuses the capacity figures for a second (and a snapshot may have run mid-way): the
    // figures settle within that.
    const left = async (h: Harness) => {
      await Promise.all([a.gw.prometheus.snapshot(), b.gw.prometheus.snapshot()]);
      const f = families((await scrape(h)).text);
      return [
        value(f.get("gemini_gateway_capacity_minute_remaining"), { model }),
        value(f.get("gemini_gateway_capacity_day_remaining"), { model }),
      ];
    };
    for (const h of [a, b]) {
      let seen = await left(h);
      for (let i = 0; i < 30 && seen[0] !== 7; i++) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await left(h);
      }
      assert.deepEqual(seen, [7, 97], "10 per minute and 100 per day, 3 used");
    }
  } finally {
    await close();
  }
});
