/**
 * `deno task bench:streams`: memory per open stream. Opens `BENCH_STREAMS` (default 1000) slow SSE
 * streams at once (one small event a second, `BENCH_EVENTS` events each) through, in one run:
 * a bare Deno forwarder with no JavaScript stage (the upstream body handed to `Deno.serve` as is), the
 * same with one JavaScript `TransformStream`, the gateway's native route and its OpenAI route. Each
 * target is a fresh process; its resident memory (`VmRSS` from /proc) is read idle, while all streams
 * are open, after they ended, and while a second wave is open (memory kept after the first wave and
 * reused by the second is the allocator's, not a leak). Prints the cost per stream and how much came back.
 * `BENCH_ONLY=gateway` measures only the targets whose names start with it; `BENCH_GATEWAY_ENV` (JSON)
 * adds environment variables to the gateway.
 *
 * @module
 */
import { freePort, rssOf, serve, type Served, START_FLAGS } from "./processes.ts";

const STREAMS = Number(Deno.env.get("BENCH_STREAMS") ?? 1000);
const EVENTS = Number(Deno.env.get("BENCH_EVENTS") ?? 15);
/** Only the targets whose names start with one of these (comma separated), e.g. `gateway`. */
const ONLY = (Deno.env.get("BENCH_ONLY") ?? "").split(",").filter(Boolean);
const KEY = "AIza" + "s".repeat(35);
const TOKEN = "bench-client-token";
const MB = 1024 * 1024;
const NATIVE = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
const nativeBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Tell a long story." }] }] });
const chatBody = JSON.stringify({
  model: "gemini-2.5-flash",
  messages: [{ role: "user", content: "Tell a long story." }],
  stream: true,
});

interface Target {
  name: string;
  start(upstream: string): Promise<Served>;
  path: string;
  body: string;
  headers: Record<string, string>;
}

const dataDir = await Deno.makeTempDir();
const gateway = async (upstream: string) => {
  const port = freePort();
  return await serve([...START_FLAGS, "main.ts"], port, "/health", {
    PORT: String(port),
    HOST: "127.0.0.1",
    WORKERS: "1",
    KV_PATH: `${dataDir}/kv-${port}.sqlite3`,
    GEMINI_API_KEYS: [KEY, "AIza" + "t".repeat(35), "AIza" + "u".repeat(35)].join(","),
    ALLOWED_TOKENS: TOKEN,
    ADMIN_TOKEN: "bench-admin-token-123",
    UPSTREAM_BASE_URL: upstream,
    ...JSON.parse(Deno.env.get("BENCH_GATEWAY_ENV") ?? "{}"),
  });
};
const bare = (mode: string) => async (upstream: string) => {
  const port = freePort();
  return await serve(
    ["--allow-net", "bench/bare_forwarder.ts", String(port), upstream, KEY, mode],
    port,
    "/",
  );
};

const targets: Target[] = [
  { name: "bare forwarder, no JS stage", start: bare("plain"), path: NATIVE, body: nativeBody, headers: {} },
  {
    name: "bare forwarder, one JS transform",
    start: bare("transform"),
    path: NATIVE,
    body: nativeBody,
    headers: {},
  },
  {
    name: "gateway native",
    start: gateway,
    path: NATIVE,
    body: nativeBody,
    headers: { "x-goog-api-key": TOKEN },
  },
  {
    name: "gateway openai",
    start: gateway,
    path: "/v1/chat/completions",
    body: chatBody,
    headers: { authorization: `Bearer ${TOKEN}` },
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens `STREAMS` streams at once and reads them to their end; returns the peak resident memory while
 * they were all open. Afterwards, some ordinary traffic lets the collector run, as it would in service.
 */
async function wave(server: Served, send: () => Promise<Response>) {
  let opened = 0;
  let ended = 0;
  let failed = 0;
  const streams = Array.from({ length: STREAMS }, async () => {
    try {
      const r = await send();
      const reader = r.body!.getReader();
      let first = true;
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
        if (first) [first, opened] = [false, opened + 1];
      }
      ended++;
    } catch {
      failed++;
    }
  });
  const t0 = performance.now();
  while (opened + failed < STREAMS && performance.now() - t0 < 60_000) await sleep(100);
  let loaded = 0;
  for (let i = 0; i < 4; i++) {
    await sleep(500);
    loaded = Math.max(loaded, await rssOf(server.pid));
  }
  await Promise.all(streams);
  await sleep(2000);
  for (let i = 0; i < 20; i++) {
    await Promise.all(Array.from({ length: 10 }, async () => await (await send()).body?.cancel()));
  }
  await sleep(3000);
  return { loaded, counts: { opened, ended, failed } };
}

async function measure(t: Target, upstream: string) {
  const server = await t.start(upstream);
  try {
    const send = () =>
      fetch(server.url + t.path, {
        method: "POST",
        headers: { "content-type": "application/json", ...t.headers },
        body: t.body,
      });
    // Warm up: a few streams to their end, so lazy parts are loaded before "idle" is read.
    await Promise.all(Array.from({ length: 5 }, async () => await (await send()).text()));
    await sleep(1000);
    const idle = await rssOf(server.pid);
    const first = await wave(server, send);
    const after = await rssOf(server.pid);
    // A second wave shows whether what stayed after the first is reused (no leak) or grows.
    const second = await wave(server, send);
    return { name: t.name, idle, loaded: first.loaded, after, second: second.loaded, ...first.counts };
  } finally {
    await server.stop();
  }
}

const upPort = freePort();
const upstream = await serve(
  ["--allow-net", "--allow-env", "bench/slow_stream_upstream.ts", String(upPort)],
  upPort,
  "/",
  {
    BENCH_EVENTS: String(EVENTS),
  },
);
const rows = [];
try {
  for (const t of targets) {
    if (ONLY.length && !ONLY.some((p) => t.name.startsWith(p))) continue;
    const r = await measure(t, upstream.url);
    rows.push(r);
    console.log(`${r.name}: done (${r.opened} opened, ${r.ended} ended, ${r.failed} failed)`);
  }
} finally {
  await upstream.stop();
  await Deno.remove(dataDir, { recursive: true });
}

console.log(
  `\n${STREAMS} open SSE streams, one small event a second, ${EVENTS} events each (machine: ${navigator.hardwareConcurrency} cores)\n`,
);
console.log(
  "| target | idle MB | open MB | per stream KB | after end MB | after vs idle | second wave open MB |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  const per = (r.loaded - r.idle) / Math.max(1, r.opened) / 1024;
  console.log(
    `| ${r.name} | ${(r.idle / MB).toFixed(0)} | ${(r.loaded / MB).toFixed(0)} | ${per.toFixed(0)} | ${
      (r.after / MB).toFixed(0)
    } | ${(100 * (r.after - r.idle) / r.idle).toFixed(0)}% | ${(r.second / MB).toFixed(0)} |`,
  );
}
const gw = rows.filter((r) => r.name.startsWith("gateway"));
console.log(
  `\nGoal: ${STREAMS} open streams cost at most 300 MB over idle on each gateway route (${
    gw.map((r) => `${r.name}: ${((r.loaded - r.idle) / MB).toFixed(0)} MB`).join(", ")
  }), and memory returns to within 10% of idle when they end.`,
);
