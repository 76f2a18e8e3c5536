/**
 * `deno task bench`: throughput and latency of the gateway against a bare forwarder (Deno.serve +
 * fetch) in the same run, both in front of the same canned upstream, loaded by wrk from another
 * process at 1 and 64 connections. Prints requests per second, latency percentiles and ratios; the
 * translating routes (OpenAI Chat Completions, Anthropic Messages, OpenAI Responses) also as a ratio
 * to the native route in the same run.
 *
 * @module
 */
import { ensureWrk, runWrk, type WrkResult } from "./wrk.ts";
import { freePort, serve } from "./processes.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const KEY = "AIza" + "b".repeat(35);
const TOKEN = "bench-client-token";
const nativeBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Say hello." }] }] });
const chatBody = JSON.stringify({
  model: "gemini-2.5-flash",
  messages: [{ role: "user", content: "Say hello." }],
});
const anthropicBody = JSON.stringify({
  model: "gemini-2.5-flash",
  max_tokens: 256,
  messages: [{ role: "user", content: "Say hello." }],
});
const responsesBody = JSON.stringify({ model: "gemini-2.5-flash", input: "Say hello." });
const NATIVE_PATH = "/v1beta/models/gemini-2.5-flash:generateContent";
/** Routes that translate, each compared with the native route; skipped when the build lacks them. */
const TRANSLATED = ["gateway openai", "gateway anthropic", "gateway responses"];

await ensureWrk();
const upPort = freePort();
const upstream = await serve(["--allow-net", "bench/upstream_server.ts", String(upPort)], upPort, "/");
const barePort = freePort();
const bare = await serve(
  ["--allow-net", "bench/bare_forwarder.ts", String(barePort), upstream.url, KEY],
  barePort,
  "/",
);
const gwPort = freePort();
const dataDir = await Deno.makeTempDir();
const gateway = await serve(["-A", "main.ts"], gwPort, "/health", {
  PORT: String(gwPort),
  HOST: "127.0.0.1",
  KV_PATH: `${dataDir}/kv.sqlite3`,
  GEMINI_API_KEYS: [KEY, "AIza" + "c".repeat(35), "AIza" + "d".repeat(35)].join(","),
  ALLOWED_TOKENS: TOKEN,
  ADMIN_TOKEN: "bench-admin-token-123",
  UPSTREAM_BASE_URL: upstream.url,
  LOGS_ENABLED: Deno.env.get("BENCH_LOGS") ?? "true",
});

type Row = { name: string; c: number; r: WrkResult };
const rows: Row[] = [];
const targets: Array<{ name: string; url: string; body: string; headers: Record<string, string> }> = [
  {
    name: "upstream direct",
    url: upstream.url + NATIVE_PATH,
    body: nativeBody,
    headers: { "x-goog-api-key": KEY },
  },
  { name: "bare forwarder", url: bare.url + NATIVE_PATH, body: nativeBody, headers: {} },
  {
    name: "gateway native",
    url: gateway.url + NATIVE_PATH,
    body: nativeBody,
    headers: { "x-goog-api-key": TOKEN },
  },
  {
    name: "gateway openai",
    url: gateway.url + "/v1/chat/completions",
    body: chatBody,
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
];
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
      if (t.name === "upstream direct" && c === 64) continue;
      // short warm-up, then the measured run
      await runWrk({
        url: t.url,
        connections: c,
        seconds: 1,
        body: t.body,
        headers: { "content-type": "application/json", ...t.headers },
      });
      const r = await runWrk({
        url: t.url,
        connections: c,
        seconds: SECONDS,
        body: t.body,
        headers: { "content-type": "application/json", ...t.headers },
      });
      rows.push({ name: t.name, c, r });
    }
  }
} finally {
  await gateway.stop();
  await bare.stop();
  await upstream.stop();
  await Deno.remove(dataDir, { recursive: true });
}

const f = (n: number) => n.toFixed(2);
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
const bare64 = get("bare forwarder", 64)!,
  gw64 = get("gateway native", 64)!,
  oa64 = get("gateway openai", 64);
const direct1 = get("upstream direct", 1)!,
  bare1 = get("bare forwarder", 1)!,
  gw1 = get("gateway native", 1)!;
console.log("");
console.log(
  `native @64: ${(100 * gw64.rps / bare64.rps).toFixed(1)}% of the bare forwarder's req/s (goal >= 85%)`,
);
if (oa64) {
  console.log(
    `openai @64: ${(100 * oa64.rps / bare64.rps).toFixed(1)}% of the bare forwarder's req/s, ${
      (100 * oa64.rps / gw64.rps).toFixed(1)
    }% of native (goal >= 65% of bare)`,
  );
}
for (const name of TRANSLATED.slice(1)) {
  const r64 = get(name, 64), r1 = get(name, 1);
  if (!r64 || !r1) continue;
  console.log(
    `${name.replace("gateway ", "")}: ${(100 * r64.rps / gw64.rps).toFixed(1)}% of native req/s @64, ` +
      `median latency ${(r1.p50 / gw1.p50).toFixed(2)}x native @1`,
  );
}
const added = gw1.p50 - direct1.p50, bareAdded = bare1.p50 - direct1.p50;
console.log(
  `@1 added median latency: gateway ${f(added)} ms, bare ${f(bareAdded)} ms, ratio ${
    (added / bareAdded).toFixed(2)
  } (goal <= 1.3)`,
);
