/**
 * `deno task bench`: throughput and latency of the gateway against three forwarders in the same run,
 * all in front of the same canned upstream, loaded by wrk from another process at 1 and 64
 * connections:
 * - the **bare** forwarder (`Deno.serve` + `fetch`, both bodies passed through as streams): the best
 *   any forwarder can do;
 * - the **floor** forwarder: the bare one plus what the gateway must do with the bodies (the request
 *   read whole, as the gateway holds it for retries; the answer read whole, as the gateway reads it
 *   for usage). The distance from the floor is the gateway's own work.
 * - the **duty** forwarder (`bench/duty_forwarder.ts`): the floor plus the least the runtime charges
 *   for the duties the gateway keeps (an abortable upstream call with its timer, a token lookup, a
 *   round-robin key, usage from the answer's tail, one JSON log record batched into KV, a counter),
 *   with none of the gateway's own code. The distance from it is what the gateway's code costs.
 *
 * Prints requests per second and latency percentiles, then each gateway route's ratios to both
 * forwarders at 64 connections, the latency each adds at 1 connection, the native route with
 * `BENCH_BIG_POOL` (10,000; 0 skips) keys in the pool against 3 keys (both served by
 * `bench/pool_gateway.ts`), and the first byte of a streamed answer (`alt=sse`, native and OpenAI
 * routes): how long after the upstream's it reaches the client (median of `BENCH_TTFB_REQUESTS`, 200, sequential requests).
 *
 * Last, the gateway with 1 and with 2 workers (`WORKERS`) side by side on the native route at 64
 * connections.
 *
 * `BENCH_SECONDS` sets the wrk run length (5), `BENCH_LOGS=false` turns the request log off.
 *
 * @module
 */
import { ensureWrk, runWrk, type WrkResult } from "./wrk.ts";
import { freePort, serve, type Served, START_FLAGS } from "./processes.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const BIG_POOL = Number(Deno.env.get("BENCH_BIG_POOL") ?? 10_000);
const TTFB_REQUESTS = Number(Deno.env.get("BENCH_TTFB_REQUESTS") ?? 200);
const KEY = "AIza" + "b".repeat(35);
const KEYS = [KEY, "AIza" + "c".repeat(35), "AIza" + "d".repeat(35)];
const TOKEN = "bench-client-token";
const nativeBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Say hello." }] }] });
const chatBody = (stream: boolean) =>
  JSON.stringify({
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "Say hello." }],
    ...(stream ? { stream: true } : {}),
  });
const anthropicBody = JSON.stringify({
  model: "gemini-2.5-flash",
  max_tokens: 256,
  messages: [{ role: "user", content: "Say hello." }],
});
const responsesBody = JSON.stringify({ model: "gemini-2.5-flash", input: "Say hello." });
const NATIVE_PATH = "/v1beta/models/gemini-2.5-flash:generateContent";
const STREAM_PATH = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
/** Routes that translate, each compared with the native route; skipped when the build lacks them. */
const TRANSLATED = ["gateway openai", "gateway anthropic", "gateway responses"];
const BIG = `gateway native, ${BIG_POOL} keys`;
const SMALL = "gateway native, 3 keys (same server as the big pool)";

await ensureWrk();
const dataDir = await Deno.makeTempDir();
const started: Served[] = [];
const stopAll = async () => {
  for (const s of started.splice(0).reverse()) await s.stop();
};
const upPort = freePort();
const upstream = await serve(
  ["--allow-net", "--allow-env", "bench/upstream_server.ts", String(upPort)],
  upPort,
  "/",
);
started.push(upstream);
const forwarder = async (mode: string) => {
  const port = freePort();
  const s = await serve(
    ["--allow-net", "bench/bare_forwarder.ts", String(port), upstream.url, KEY, mode],
    port,
    "/",
  );
  started.push(s);
  return s;
};
const bare = await forwarder("plain");
const floor = await forwarder("floor");
const duty = await (async () => {
  const port = freePort();
  const s = await serve(
    [
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--unstable-kv",
      "--unstable-no-legacy-abort",
      "bench/duty_forwarder.ts",
      String(port),
      upstream.url,
      `${dataDir}/duty.sqlite3`,
      TOKEN,
      ...KEYS,
    ],
    port,
    "/",
  );
  started.push(s);
  return s;
})();
const gatewayEnv = (kvPath: string) => ({
  HOST: "127.0.0.1",
  KV_PATH: kvPath,
  GEMINI_API_KEYS: KEYS.join(","),
  ALLOWED_TOKENS: TOKEN,
  ADMIN_TOKEN: "bench-admin-token-123",
  UPSTREAM_BASE_URL: upstream.url,
  LOGS_ENABLED: Deno.env.get("BENCH_LOGS") ?? "true",
});
/** The gateway as `deno task start` runs it, with `workers` workers. */
const startGateway = async (kvPath: string, workers = 1) => {
  const port = freePort();
  const s = await serve([...START_FLAGS, "main.ts"], port, "/health", {
    ...gatewayEnv(kvPath),
    PORT: String(port),
    WORKERS: String(workers),
  });
  started.push(s);
  // The main thread answers first; wait until every worker serves (each reports its instance id).
  const seen = new Set<string>();
  for (let i = 0; i < 400 && seen.size < workers; i++) {
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    const health = await (await fetch(s.url + "/health", { client })).json().catch(() => ({}));
    client.close();
    if (health.instance) seen.add(health.instance);
    if (seen.size < workers) await new Promise((r) => setTimeout(r, 25));
  }
  return s;
};
const gateway = await startGateway(`${dataDir}/kv.sqlite3`);
/** The native route with 3 keys and with `BIG_POOL` keys, both served by `bench/pool_gateway.ts`. */
const pool = async (keys: number) => {
  const port = freePort();
  const s = await serve(
    [...START_FLAGS, "bench/pool_gateway.ts", String(port), String(keys)],
    port,
    "/health",
    {
      ...gatewayEnv(":memory:"),
      GEMINI_API_KEYS: "",
    },
  );
  started.push(s);
  return s;
};
const small = BIG_POOL > 0 ? await pool(3) : undefined;
const big = BIG_POOL > 0 ? await pool(BIG_POOL) : undefined;

type Row = { name: string; c: number; r: WrkResult };
const rows: Row[] = [];
const native = { path: NATIVE_PATH, body: nativeBody };
const targets: Array<{ name: string; url: string; body: string; headers: Record<string, string> }> = [
  {
    name: "upstream direct",
    url: upstream.url + NATIVE_PATH,
    body: nativeBody,
    headers: { "x-goog-api-key": KEY },
  },
  { name: "bare forwarder", url: bare.url + native.path, body: native.body, headers: {} },
  { name: "floor forwarder", url: floor.url + native.path, body: native.body, headers: {} },
  {
    name: "duty forwarder",
    url: duty.url + native.path,
    body: native.body,
    headers: { "x-goog-api-key": TOKEN },
  },
  {
    name: "gateway native",
    url: gateway.url + native.path,
    body: native.body,
    headers: { "x-goog-api-key": TOKEN },
  },
  {
    name: "gateway openai",
    url: gateway.url + "/v1/chat/completions",
    body: chatBody(false),
    headers: { authorization: `Bearer ${TOKEN}` },
  },
  {
    name: "gateway anthropic",
    url: gateway.url + "/v1/messages",
    body: anthropicBody,
    headers: { "x-api-key": TOKEN, "anthropic-version": "2023-06-01" },
  },
  {
    name: "gateway responses",
    url: gateway.url + "/v1/responses",
    body: responsesBody,
    headers: { authorization: `Bearer ${TOKEN}` },
  },
  ...(small && big
    ? [
      { name: SMALL, url: small.url + native.path, body: native.body, headers: { "x-goog-api-key": TOKEN } },
      { name: BIG, url: big.url + native.path, body: native.body, headers: { "x-goog-api-key": TOKEN } },
    ]
    : []),
];

/** Time to the first body byte of a streamed answer, ms (median of sequential requests). */
async function firstByte(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < TTFB_REQUESTS + 10; i++) {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    const ms = performance.now() - t0;
    if (res.status !== 200 || first.done) throw new Error(`${url}: status ${res.status}, no first chunk`);
    while (!(await reader.read()).done) { /* read to the end */ }
    if (i >= 10) times.push(ms);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const ttfb: Array<{ name: string; ms: number }> = [];
try {
  const available = new Set<string>();
  for (const t of targets.filter((t) => TRANSLATED.includes(t.name))) {
    const probe = await fetch(t.url, {
      method: "POST",
      body: t.body,
      headers: { "content-type": "application/json", ...t.headers },
    });
    await probe.body?.cancel();
    if (probe.status === 200) available.add(t.name);
  }
  for (const c of [1, 64]) {
    for (const t of targets) {
      if (TRANSLATED.includes(t.name) && !available.has(t.name)) continue;
      if ((t.name === "upstream direct" && c === 64) || ([BIG, SMALL].includes(t.name) && c === 1)) continue;
      const options = {
        url: t.url,
        connections: c,
        body: t.body,
        headers: { "content-type": "application/json", ...t.headers },
      };
      await runWrk({ ...options, seconds: 1 }); // short warm-up, then the measured run
      rows.push({ name: t.name, c, r: await runWrk({ ...options, seconds: SECONDS }) });
    }
  }
  const streams: Array<[string, string, string, Record<string, string>]> = [
    ["upstream direct", upstream.url + STREAM_PATH, nativeBody, { "x-goog-api-key": KEY }],
    ["bare forwarder", bare.url + STREAM_PATH, nativeBody, {}],
    ["gateway native", gateway.url + STREAM_PATH, nativeBody, { "x-goog-api-key": TOKEN }],
    ["gateway openai", gateway.url + "/v1/chat/completions", chatBody(true), {
      authorization: `Bearer ${TOKEN}`,
    }],
  ];
  for (const [name, url, body, headers] of streams) {
    ttfb.push({ name, ms: await firstByte(url, body, headers) });
  }
  // The same gateway with 2 workers (one per core here): native route at 64 connections.
  const two = await startGateway(`${dataDir}/kv-2.sqlite3`, 2);
  const opts = {
    url: two.url + NATIVE_PATH,
    connections: 64,
    body: nativeBody,
    headers: { "content-type": "application/json", "x-goog-api-key": TOKEN },
  };
  await runWrk({ ...opts, seconds: 1 });
  rows.push({ name: "gateway native, 2 workers", c: 64, r: await runWrk({ ...opts, seconds: SECONDS }) });
} finally {
  await stopAll();
  await Deno.remove(dataDir, { recursive: true });
}

const f = (n: number) => n.toFixed(2);
const pct = (n: number) => `${(100 * n).toFixed(1)}%`;
console.log(
  `\nwrk, ${SECONDS} s per run, POST generateContent (machine: ${navigator.hardwareConcurrency} cores)\n`,
);
console.log("| target | conns | req/s | p50 ms | p90 ms | p99 ms | errors |");
console.log("|---|---|---|---|---|---|---|");
for (const { name, c, r } of rows) {
  console.log(
    `| ${name} | ${c} | ${r.rps.toFixed(0)} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | ${r.errors} |`,
  );
}
const get = (name: string, c: number) => rows.find((x) => x.name === name && x.c === c)?.r;
const direct1 = get("upstream direct", 1)!;
const bare64 = get("bare forwarder", 64)!,
  floor64 = get("floor forwarder", 64)!,
  duty64 = get("duty forwarder", 64)!,
  gw64 = get("gateway native", 64)!;
const bare1 = get("bare forwarder", 1)!, floor1 = get("floor forwarder", 1)!;
const duty1 = get("duty forwarder", 1)!;
const added = (r: WrkResult) => r.p50 - direct1.p50;
const goals: Record<string, string> = {
  "gateway native": ">= 85% of bare",
  "gateway openai": ">= 65% of bare",
  "gateway anthropic": ">= openai's",
  "gateway responses": ">= openai's",
};
console.log(
  `\nfloor forwarder @64: ${pct(floor64.rps / bare64.rps)} of the bare forwarder's req/s; duty forwarder: ${
    pct(duty64.rps / bare64.rps)
  } (the runtime's price of the duties a gateway keeps, bench/duty_forwarder.ts)\n`,
);
console.log(
  "| route | req/s @64 vs bare | vs floor | vs duty | vs native | added p50 @1 ms | vs bare's | vs floor's | vs duty's | goal @64 |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const name of ["gateway native", ...TRANSLATED]) {
  const r64 = get(name, 64), r1 = get(name, 1);
  if (!r64 || !r1) continue;
  console.log(
    `| ${name.replace("gateway ", "")} | ${pct(r64.rps / bare64.rps)} | ${pct(r64.rps / floor64.rps)} | ${
      pct(r64.rps / duty64.rps)
    } | ${pct(r64.rps / gw64.rps)} | ${f(added(r1))} | ${(added(r1) / added(bare1)).toFixed(2)}x | ${
      (added(r1) / added(floor1)).toFixed(2)
    }x | ${(added(r1) / added(duty1)).toFixed(2)}x | ${goals[name]} |`,
  );
}
const two64 = get("gateway native, 2 workers", 64);
if (two64) {
  console.log(
    `native @64, 1 vs 2 workers: ${gw64.rps.toFixed(0)} vs ${two64.rps.toFixed(0)} req/s (x${
      (two64.rps / gw64.rps).toFixed(2)
    }; the upstream and wrk share the same ${navigator.hardwareConcurrency} cores)`,
  );
}
console.log(
  `\n@1 added median latency: bare ${f(added(bare1))} ms, floor ${f(added(floor1))} ms, duty ${
    f(added(duty1))
  } ms (goal: the gateway's <= 1.3x the bare's)`,
);
const big64 = get(BIG, 64), small64 = get(SMALL, 64);
if (big64 && small64) {
  console.log(
    `${BIG_POOL} keys in the pool: ${
      pct(1 - big64.rps / small64.rps)
    } fewer req/s @64 than 3 keys (goal < 5%)`,
  );
}
const up = ttfb.find((t) => t.name === "upstream direct")!.ms;
console.log(
  `\nstreamed answer, first byte (median of ${TTFB_REQUESTS} sequential requests; upstream direct ${
    f(up)
  } ms):`,
);
for (const t of ttfb.filter((t) => t.name !== "upstream direct")) {
  console.log(
    `- ${t.name}: ${f(t.ms)} ms, ${f(t.ms - up)} ms after the upstream's (goal for the gateway <= 1 ms)`,
  );
}
