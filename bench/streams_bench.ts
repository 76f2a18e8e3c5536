/**
 * `deno task bench:streams`: memory per open stream. Opens `BENCH_STREAMS` (default 1000) slow SSE
 * streams at once (one small event a second, `BENCH_EVENTS` events each) through, in one run:
 * a bare Deno forwarder with no JavaScript stage (the upstream body handed to `Deno.serve` as is), the
 * same with one JavaScript `TransformStream`, the gateway's native route and its OpenAI route. Each
 * target is a fresh process; its resident memory (`VmRSS` from /proc) is read idle, while all streams
 * are open, after they ended, and while a second wave is open (memory kept after the first wave and
 * reused by the second is the allocator's, not a leak), and after the second wave ended. Each target runs
 * with `bench/memory_probe.ts` preloaded and `--expose-gc`: at each phase the bench reads `VmRSS` as the
 * process has it, then asks the probe to collect garbage and reads `Deno.memoryUsage()` (the JS heap in
 * use, `external` buffers, and RSS after the collection). At the end it sends the target SIGUSR2, on which
 * Deno (with `DENO_USR2_MEMORY_TRIM` set) returns the allocator's free memory to the system, and reads
 * RSS once more ("then trimmed"). Prints the cost per stream and how much came back.
 *
 * - `BENCH_ONLY=gateway` measures only the targets whose names start with it.
 * - `BENCH_GATEWAY_ENV` (JSON) adds environment variables to the gateway; `BENCH_ENV` (JSON) to every
 *   target (e.g. `{"MALLOC_ARENA_MAX":"2"}`).
 * - `BENCH_V8_FLAGS` adds V8 flags to every target (comma separated, e.g. `--max-semi-space-size=1`).
 * - `BENCH_SETTLE_MS` (default 3000): how long to wait after a wave before reading "after".
 * - `BENCH_CLIENT_KEEPALIVE=0`: the client closes its connections after each answer.
 * - `BENCH_SNAPSHOT_DIR` writes a heap snapshot of each target after each wave ended
 *   (`<target>-after-1.heapsnapshot`, `-after-2`; compare them in Chrome DevTools' Memory tab).
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
/**
 * `DENO_USR2_MEMORY_TRIM`: on SIGUSR2 Deno runs glibc's `malloc_trim(0)` and V8's low-memory
 * notification (denoland/deno#29295); the bench sends it once at the end to show how much of what stayed
 * was free memory the allocator kept.
 */
const TARGET_ENV: Record<string, string> = {
  DENO_USR2_MEMORY_TRIM: "1",
  ...JSON.parse(Deno.env.get("BENCH_ENV") ?? "{}"),
};
const V8_FLAGS = ["--expose-gc", ...(Deno.env.get("BENCH_V8_FLAGS") ?? "").split(",").filter(Boolean)];
const SNAPSHOT_DIR = Deno.env.get("BENCH_SNAPSHOT_DIR");
/** How long the bench waits after a wave (and some ordinary traffic) before it reads "after", ms. */
const SETTLE_MS = Number(Deno.env.get("BENCH_SETTLE_MS") ?? 3000);
/**
 * `BENCH_CLIENT_KEEPALIVE=0`: the bench's client keeps no connection open after an answer, so the
 * target holds no idle client connection after a wave (by default the client keeps them, as browsers
 * and SDKs do).
 */
const CLIENT = Deno.env.get("BENCH_CLIENT_KEEPALIVE") === "0"
  ? Deno.createHttpClient({ poolMaxIdlePerHost: 0 })
  : undefined;
/** Deno flags that load the memory probe (`bench/memory_probe.ts`) into a target. */
const PROBE_FLAGS = ["--preload=bench/memory_probe.ts", `--v8-flags=${V8_FLAGS.join(",")}`];
const NATIVE = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
const nativeBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Tell a long story." }] }] });
const chatBody = JSON.stringify({
  model: "gemini-2.5-flash",
  messages: [{ role: "user", content: "Tell a long story." }],
  stream: true,
});

/** A served target with the port of its memory probe. */
interface Probed extends Served {
  probe: string;
}

interface Target {
  name: string;
  start(upstream: string): Promise<Probed>;
  path: string;
  body: string;
  headers: Record<string, string>;
}

const dataDir = await Deno.makeTempDir();
const gateway = async (upstream: string): Promise<Probed> => {
  const port = freePort();
  const probe = freePort();
  const served = await serve([...START_FLAGS, ...PROBE_FLAGS, "main.ts"], port, "/health", {
    ...TARGET_ENV,
    BENCH_PROBE_PORT: String(probe),
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
  return { ...served, probe: `http://127.0.0.1:${probe}` };
};
const bare = (mode: string) => async (upstream: string): Promise<Probed> => {
  const port = freePort();
  const probe = freePort();
  const served = await serve(
    [
      "--allow-net",
      "--allow-env",
      "--allow-write",
      ...PROBE_FLAGS,
      "bench/bare_forwarder.ts",
      String(port),
      upstream,
      KEY,
      mode,
    ],
    port,
    "/",
    { ...TARGET_ENV, BENCH_PROBE_PORT: String(probe) },
  );
  return { ...served, probe: `http://127.0.0.1:${probe}` };
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

/** A target's memory at one phase, bytes: RSS as the process has it, then after a full collection. */
interface Memory {
  rss: number;
  gcRss: number;
  heapUsed: number;
  /** The JS heap V8 holds (in use or not). */
  heapTotal: number;
  external: number;
  /** V8's heap spaces: what it holds and uses of each. */
  spaces: Array<{ name: string; size: number; used: number }>;
  /** Open sockets and files: connections still kept alive (from clients, to the upstream). */
  fds: number;
}

async function fdsOf(pid: number): Promise<number> {
  let n = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) n++;
  return n;
}

async function memoryOf(server: Probed): Promise<Memory> {
  const rss = await rssOf(server.pid);
  const m = await (await fetch(`${server.probe}/memory`)).json();
  if (!m.gc) throw new Error("the target runs without --expose-gc: heapUsed would include garbage");
  return {
    rss,
    gcRss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    spaces: m.spaces,
    fds: await fdsOf(server.pid),
  };
}

async function snapshot(server: Probed, name: string) {
  if (!SNAPSHOT_DIR) return;
  const path = `${SNAPSHOT_DIR}/${name.replace(/\W+/g, "-")}.heapsnapshot`;
  await (await fetch(`${server.probe}/snapshot?path=${encodeURIComponent(path)}`)).body?.cancel();
}

/**
 * Opens `STREAMS` streams at once and reads them to their end; returns the peak resident memory while
 * they were all open. Afterwards, some ordinary traffic lets the collector run, as it would in service.
 */
async function wave(server: Probed, send: () => Promise<Response>) {
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
  // The JS heap in use while they are open (this collects garbage once; RSS is read before it).
  const open = await memoryOf(server);
  open.rss = Math.max(loaded, open.rss);
  await Promise.all(streams);
  await sleep(2000);
  for (let i = 0; i < 20; i++) {
    await Promise.all(Array.from({ length: 10 }, async () => await (await send()).body?.cancel()));
  }
  await sleep(SETTLE_MS);
  return { open, counts: { opened, ended, failed } };
}

async function measure(t: Target, upstream: string) {
  const server = await t.start(upstream);
  try {
    const send = () =>
      fetch(server.url + t.path, {
        method: "POST",
        headers: { "content-type": "application/json", ...t.headers },
        body: t.body,
        client: CLIENT,
      });
    // Warm up: a few streams to their end, so lazy parts are loaded before "idle" is read.
    await Promise.all(Array.from({ length: 5 }, async () => await (await send()).text()));
    await sleep(1000);
    const idle = await memoryOf(server);
    const first = await wave(server, send);
    const after = await memoryOf(server);
    await snapshot(server, `${t.name}-after-1`);
    // A second wave shows whether what stayed after the first is reused (no leak) or grows.
    const second = await wave(server, send);
    const after2 = await memoryOf(server);
    Deno.kill(server.pid, "SIGUSR2");
    await sleep(1000);
    const trimmed = await rssOf(server.pid);
    const trimmedMemory = await memoryOf(server);
    await snapshot(server, `${t.name}-after-2`);
    return {
      name: t.name,
      idle,
      open: first.open,
      after,
      second: second.open,
      after2,
      trimmed,
      trimmedMemory,
      ...first.counts,
    };
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
const rows: Array<Awaited<ReturnType<typeof measure>>> = [];
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
type Row = typeof rows[number];
const mb = (n: number) => (n / MB).toFixed(0);
const phases = (r: Row) => [r.idle, r.open, r.after, r.second, r.after2, r.trimmedMemory];
console.log(
  "| target | idle MB | open MB | per stream KB | after end MB | after vs idle | second wave open MB | after second MB | then trimmed MB |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const per = (r.open.rss - r.idle.rss) / Math.max(1, r.opened) / 1024;
  console.log(
    `| ${r.name} | ${mb(r.idle.rss)} | ${mb(r.open.rss)} | ${per.toFixed(0)} | ${mb(r.after.rss)} | ${
      (100 * (r.after.rss - r.idle.rss) / r.idle.rss).toFixed(0)
    }% | ${mb(r.second.rss)} | ${mb(r.after2.rss)} | ${mb(r.trimmed)} |`,
  );
}
console.log(
  "\nAfter a full garbage collection at each phase (idle -> open -> after end -> second wave open -> after it -> trimmed), MB:\n",
);
console.log("| target | RSS | JS heap used | JS heap total | external | open fds |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) {
  const row = (f: (m: Memory) => number) => phases(r).map((m) => mb(f(m))).join(" -> ");
  console.log(
    `| ${r.name} | ${row((m) => m.gcRss)} | ${row((m) => m.heapUsed)} | ${row((m) => m.heapTotal)} | ${
      row((m) => m.external)
    } | ${phases(r).map((m) => m.fds).join(" -> ")} |`,
  );
}
console.log("\nV8 heap spaces after the first wave ended (after a full collection), MB held/used:\n");
for (const r of rows) {
  const spaces = r.after.spaces.filter((s) => s.size >= MB / 2);
  console.log(`- ${r.name}: ${spaces.map((s) => `${s.name} ${mb(s.size)}/${mb(s.used)}`).join(", ")}`);
}
const gw = rows.filter((r) => r.name.startsWith("gateway"));
console.log(
  `\nGoal: ${STREAMS} open streams cost at most 300 MB over idle on each gateway route (${
    gw.map((r) => `${r.name}: ${mb(r.open.rss - r.idle.rss)} MB`).join(", ")
  }), and memory returns to within 10% of idle when they end (${
    gw.map((r) => `${r.name}: ${(100 * (r.after.rss - r.idle.rss) / r.idle.rss).toFixed(0)}%`).join(", ")
  }).`,
);
