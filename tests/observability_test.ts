/**
 * What an operator plugs into monitoring: `/health` (liveness, with the gateway that answered) and `/ready`,
 * `LOG_FORMAT=json` (one JSON object per line on stdout, keys redacted), and OpenTelemetry spans for
 * each upstream attempt, received by a small OTLP/HTTP (JSON) receiver on loopback.
 */
import assert from "node:assert/strict";
import { fakeKey, startHarness } from "./support/harness.ts";
import { MockGemini } from "./support/mock_gemini.ts";
import { startGatewayProcess } from "./support/gateway_process.ts";

const TOKEN = "observability-token-1";

async function generate(url: string): Promise<number> {
  const r = await fetch(`${url}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": TOKEN },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
  });
  await r.body?.cancel();
  return r.status;
}

Deno.test("/health names the gateway that answered and how many share the KV; /ready needs a key that can serve", async () => {
  const h = await startHarness();
  const none = await startHarness({ keys: [] });
  try {
    const health = await (await fetch(`${h.url}/health`)).json();
    assert.equal(health.status, "ok");
    assert.equal(health.gateways, 1);
    assert.match(health.instance, /^[0-9a-f]{8}$/);
    assert.equal(health.instance, h.gw.members.id.slice(0, 8));
    const ready = await fetch(`${h.url}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual((await ready.json()).reasons, []);

    const noKeys = await fetch(`${none.url}/ready`);
    assert.equal(noKeys.status, 503);
    assert.deepEqual((await noKeys.json()).reasons, ["no enabled key in the pool"]);
  } finally {
    await h.close();
    await none.close();
  }
});

Deno.test("LOG_FORMAT=json: every stdout line is one JSON object; requests are logged; keys are redacted", async () => {
  const mock = await MockGemini.start();
  const dir = await Deno.makeTempDir();
  mock.setKey(fakeKey(1), { denied: "suspended" }); // Google's message quotes the key
  const gw = await startGatewayProcess({
    args: ["run", "-A", "main.ts"],
    env: {
      KV_PATH: `${dir}/kv.sqlite3`,
      GEMINI_API_KEYS: [fakeKey(1), fakeKey(2)].join(","),
      ALLOWED_TOKENS: TOKEN,
      UPSTREAM_BASE_URL: mock.url,
      LOG_FORMAT: "json",
      WORKERS: "1",
    },
    ready: /listening on/,
  });
  try {
    assert.equal(await generate(gw.url), 200);
    assert.equal(await generate(gw.url), 200);
    for (let i = 0; i < 100 && !/"msg":"request"[^\n]*"msg":"request"/s.test(gw.stdout()); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await gw.stop();
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
  const lines = gw.stdout().split("\n").filter(Boolean);
  const objects = lines.map((l) => JSON.parse(l));
  for (const o of objects) {
    assert.match(o.time, /^\d{4}-\d\d-\d\dT/);
    assert.ok(["debug", "info", "warn", "error"].includes(o.level));
    assert.equal(typeof o.msg, "string");
  }
  assert.ok(objects.some((o) => /listening on/.test(o.msg)), "start-up lines are JSON too");
  const requests = objects.filter((o) => o.msg === "request" && o.route === "gemini"); // (not the start-up model list)
  assert.equal(requests.length, 2);
  assert.equal(requests[0].status, 200);
  assert.equal(requests[0].route, "gemini");
  assert.equal(requests[0].model, "gemini-2.5-flash");
  assert.ok(!gw.stdout().includes(fakeKey(1)) && !gw.stdout().includes(fakeKey(2)), "no key on stdout");
  assert.ok(!gw.stdout().includes(TOKEN), "no client token on stdout");
});

interface OtlpSpan {
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  parentSpanId?: string;
  traceId: string;
}

Deno.test("OpenTelemetry: a span per upstream attempt with the masked key, outcome and cooldown reaches an OTLP receiver", async () => {
  const spans: OtlpSpan[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    if (new URL(req.url).pathname === "/v1/traces") {
      for (const rs of body.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
      }
    }
    return Response.json({});
  });
  const mock = await MockGemini.start();
  mock.setKey(fakeKey(1), { rpm: 1 }); // the second call on key 1 gets Google's per-minute 429
  const gw = await startGatewayProcess({
    args: ["run", "-A", "main.ts"],
    env: {
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: [fakeKey(1), fakeKey(2)].join(","),
      ALLOWED_TOKENS: TOKEN,
      ADMIN_TOKEN: "observability-admin-1",
      UPSTREAM_BASE_URL: mock.url,
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.addr.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "gemini-gateway-test",
    },
  });
  try {
    for (let i = 0; i < 3; i++) assert.equal(await generate(gw.url), 200);
  } finally {
    await gw.stop(); // the exporter flushes on exit
    await mock.close();
  }
  for (let i = 0; i < 100 && !spans.some((s) => s.name === "gemini_gateway.attempt"); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await receiver.shutdown();
  const attr = (s: OtlpSpan, key: string) => {
    const v = s.attributes.find((a) => a.key === key)?.value;
    return v && Object.values(v)[0];
  };
  const attempts = spans.filter((s) =>
    s.name === "gemini_gateway.attempt" && attr(s, "gemini_gateway.route") === "gemini"
  );
  const outcomes = attempts.map((s) => attr(s, "gemini_gateway.outcome"));
  assert.ok(outcomes.includes("rate_limited_minute"), `outcomes: ${outcomes}`);
  assert.equal(outcomes.filter((o) => o === "ok").length, 3);
  const limited = attempts.find((s) => attr(s, "gemini_gateway.outcome") === "rate_limited_minute")!;
  assert.match(String(attr(limited, "gemini_gateway.cooldown_until")), /^\d{4}-\d\d-\d\dT/);
  assert.equal(attr(limited, "gemini_gateway.key.masked"), "AIza…xxx1");
  assert.match(String(attr(limited, "gemini_gateway.key.id")), /^[0-9a-f]{16}$/);
  assert.equal(Number(attr(limited, "http.response.status_code")), 429);
  assert.equal(attr(limited, "gemini_gateway.model"), "gemini-2.5-flash");
  // The attempt spans belong to the request's trace (Deno.serve's span is their parent).
  const server = spans.filter((s) => s.name !== "gemini_gateway.attempt" && !s.parentSpanId);
  assert.ok(attempts.every((a) => a.parentSpanId && server.some((s) => s.traceId === a.traceId)));
  const raw = JSON.stringify(spans);
  assert.ok(!raw.includes(fakeKey(1)) && !raw.includes(fakeKey(2)), "no key in any span");
});
