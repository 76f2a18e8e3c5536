/**
 * `deno task bench:live`: what relaying a Live API session costs. A canned Live upstream
 * (`bench/live_upstream.ts`) answers each `realtimeInput.text` message at once; one client sends
 * messages one at a time and times each round trip, once straight to the upstream and once through the
 * gateway (a separate process), for a small text message and an audio-sized one (16 KiB of base64).
 * The added latency per relayed message is the gateway's round trip minus the direct one (median, p99;
 * a round trip crosses the gateway twice). Then it opens `BENCH_LIVE_SESSIONS` (500) sessions through the
 * gateway and reads the gateway's memory before and after, each time after a full garbage collection
 * (`bench/live_gateway.ts` serves the gateway with a memory route for this).
 *
 * `BENCH_LIVE_MESSAGES` (default 2000) sets the round trips per run.
 *
 * @module
 */
import { WebSocket as NodeWs } from "ws";
import { freePort, serve } from "./processes.ts";

const MESSAGES = Number(Deno.env.get("BENCH_LIVE_MESSAGES") ?? 2000);
const SESSIONS = Number(Deno.env.get("BENCH_LIVE_SESSIONS") ?? 500);
const WARMUP = 200;
const KEYS = ["l", "m", "n"].map((c) => "AIza" + c.repeat(35));
const TOKEN = "bench-live-token";
const SETUP = JSON.stringify({ setup: { model: "models/gemini-live-2.5-flash-preview" } });
const PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";

/**
 * The clients use the `ws` package, as @google/genai does under Node: it sets TCP_NODELAY (browsers do
 * too). Deno's own client does not, and every 4-16 KiB message it sends waits ~40 ms for a delayed ACK,
 * which would hide what the gateway adds.
 */
const ClientWebSocket = NodeWs as unknown as new (
  url: string,
  o: { headers: Record<string, string>; perMessageDeflate: boolean },
) => WebSocket;

/** A set-up session whose next message can be awaited. */
interface Client {
  ws: WebSocket;
  next(): Promise<void>;
}

function open(url: string, headers: Record<string, string>): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new ClientWebSocket(url, { headers, perMessageDeflate: false });
    ws.binaryType = "arraybuffer";
    let waiter: (() => void) | undefined;
    const client: Client = { ws, next: () => new Promise<void>((r) => waiter = r) };
    ws.onopen = () => ws.send(SETUP);
    ws.onmessage = () => {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w();
      } else resolve(client); // setupComplete
    };
    ws.onerror = () => {};
    ws.onclose = (e) => reject(new Error(`closed: ${e.code} ${e.reason}`));
  });
}

async function roundTrips(client: Client, n: number, text: string): Promise<number[]> {
  const out: number[] = [];
  const msg = JSON.stringify({ realtimeInput: { text } });
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const reply = client.next();
    client.ws.send(msg);
    await reply;
    out.push(performance.now() - t0);
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** The gateway's memory after a full garbage collection (`bench/live_gateway.ts`). */
async function memoryOf(url: string): Promise<{ rss: number; heapUsed: number }> {
  const res = await fetch(`${url}/bench/memory`);
  const m = await res.json();
  if (!m.gc) throw new Error("the gateway runs without --expose-gc: the figures would include garbage");
  return { rss: m.rss, heapUsed: m.heapUsed };
}

async function measure(url: string, headers: Record<string, string>, text: string) {
  const client = await open(url, headers);
  await roundTrips(client, WARMUP, text);
  const times = (await roundTrips(client, MESSAGES, text)).sort((a, b) => a - b);
  client.ws.close();
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

const upPort = freePort();
const upstream = await serve(["--allow-net", "bench/live_upstream.ts", String(upPort)], upPort, "/");
const gwPort = freePort();
const dataDir = await Deno.makeTempDir();
const gateway = await serve(["-A", "--v8-flags=--expose-gc", "bench/live_gateway.ts"], gwPort, "/health", {
  PORT: String(gwPort),
  HOST: "127.0.0.1",
  KV_PATH: `${dataDir}/kv.sqlite3`,
  GEMINI_API_KEYS: KEYS.join(","),
  ALLOWED_TOKENS: TOKEN,
  ADMIN_TOKEN: "bench-admin-token-123",
  UPSTREAM_BASE_URL: upstream.url,
});
const ws = (http: string) => http.replace(/^http/, "ws") + PATH;
const rows: Array<{ size: string; direct: { p50: number; p99: number }; gw: { p50: number; p99: number } }> =
  [];
type Memory = { rss: number; heapUsed: number };
let memory: { before: Memory; open: Memory; after: Memory } | undefined;
try {
  for (const [size, text] of [["64 B text", "x".repeat(64)], ["16 KiB audio-sized", "A".repeat(16384)]]) {
    const direct = await measure(ws(upstream.url), { "x-goog-api-key": KEYS[0] }, text);
    const gw = await measure(ws(gateway.url), { "x-goog-api-key": TOKEN }, text);
    rows.push({ size, direct, gw });
  }
  const before = await memoryOf(gateway.url);
  const clients: Client[] = [];
  for (let i = 0; i < SESSIONS; i += 50) {
    const batch = Array.from(
      { length: Math.min(50, SESSIONS - i) },
      () => open(ws(gateway.url), { "x-goog-api-key": TOKEN }),
    );
    clients.push(...await Promise.all(batch));
  }
  const withSessions = await memoryOf(gateway.url);
  for (const c of clients) c.ws.close();
  await new Promise((r) => setTimeout(r, 1000));
  memory = { before, open: withSessions, after: await memoryOf(gateway.url) };
} finally {
  await gateway.stop();
  await upstream.stop();
  await Deno.remove(dataDir, { recursive: true });
}

const f = (n: number) => n.toFixed(3);
console.log(
  `\nLive relay, ${MESSAGES} sequential round trips per run (machine: ${navigator.hardwareConcurrency} cores)\n`,
);
console.log(
  "| message | direct p50 ms | gateway p50 ms | added p50 ms | direct p99 ms | gateway p99 ms | added p99 ms |",
);
console.log("|---|---|---|---|---|---|---|");
for (const { size, direct, gw } of rows) {
  console.log(
    `| ${size} | ${f(direct.p50)} | ${f(gw.p50)} | ${f(gw.p50 - direct.p50)} | ${f(direct.p99)} | ${
      f(gw.p99)
    } | ${f(gw.p99 - direct.p99)} |`,
  );
}
if (memory) {
  const mib = (n: number) => (n / 1048576).toFixed(1);
  const kib = (n: number) => (n / 1024 / SESSIONS).toFixed(1);
  const { before, open: during, after } = memory;
  console.log(`\n${SESSIONS} open sessions through the gateway (after a full GC each time):`);
  console.log(
    `- JS heap: ${mib(before.heapUsed)} -> ${mib(during.heapUsed)} MiB, ${
      kib(during.heapUsed - before.heapUsed)
    } KiB per session; ${mib(after.heapUsed)} MiB after they closed`,
  );
  console.log(
    `- RSS: ${mib(before.rss)} -> ${mib(during.rss)} MiB, ${
      kib(during.rss - before.rss)
    } KiB per session (client and upstream sockets and their buffers included); ${mib(after.rss)} MiB after`,
  );
}
console.log("A round trip crosses the gateway twice (client -> upstream, upstream -> client).");
