/**
 * `deno task bench:abuse`: the gateway's figures under faults and abuse, each scenario against a fresh
 * gateway process in front of the raw-TCP fault upstream (tests/support/fault_upstream.ts):
 *
 * - slow clients: `BENCH_SLOW_CLIENTS` (default 2000) requests whose bodies stop half-way: memory while
 *   they hang, how long until each got its 408 (`CLIENT_BODY_TIMEOUT_MS`, 2 s here), memory after;
 * - large bodies: a 200 MB (`BENCH_HUGE_MB`) upstream answer read through the native route, and six 100 MB posts (with
 *   and without a declared length): the process's peak memory (`VmHWM`) over idle;
 * - a flood of TRACE requests: their status and how many keys it put out of rotation;
 * - an upstream that never answers: time to the client's answer and upstream attempts, with and
 *   without `RESEND_AFTER_TIMEOUT`, under one `REQUEST_DEADLINE_MS`.
 *
 * `BENCH_ONLY=slow,huge,posts,trace,stalls` runs some scenarios. Figures are printed as a table; they
 * are measurements, not pass/fail checks.
 *
 * @module
 */
import { FaultUpstream } from "../tests/support/fault_upstream.ts";
import { freePort, rssOf, serve, type Served, START_FLAGS } from "./processes.ts";

const SLOW_CLIENTS = Number(Deno.env.get("BENCH_SLOW_CLIENTS") ?? 2000);
const HUGE_MB = Number(Deno.env.get("BENCH_HUGE_MB") ?? 200);
/** Only these scenarios (comma separated: slow, huge, posts, trace, stalls); all by default. */
const ONLY = (Deno.env.get("BENCH_ONLY") ?? "").split(",").filter(Boolean);
const runs = (name: string) => !ONLY.length || ONLY.includes(name);
const TOKEN = "bench-client-token";
const MB = 1024 * 1024;
const KEYS = ["AIza" + "a".repeat(35), "AIza" + "b".repeat(35), "AIza" + "c".repeat(35)];
const GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent";
const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dataDir = await Deno.makeTempDir();
const rows: Array<[string, string]> = [];

async function gateway(upstream: string, env: Record<string, string> = {}): Promise<Served> {
  const port = freePort();
  const gw = await serve([...START_FLAGS, "main.ts"], port, "/health", {
    PORT: String(port),
    HOST: "127.0.0.1",
    WORKERS: "1",
    KV_PATH: `${dataDir}/kv-${port}.sqlite3`,
    GEMINI_API_KEYS: KEYS.join(","),
    ALLOWED_TOKENS: TOKEN,
    ADMIN_TOKEN: "bench-admin-token-123",
    UPSTREAM_BASE_URL: upstream,
    ...env,
  });
  await sleep(500);
  return gw;
}

async function connect(url: string): Promise<Deno.Conn> {
  return await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
}

/** Reads a raw connection until it closes or `ms` pass; returns what arrived. */
async function readFor(conn: Deno.Conn, ms: number): Promise<string> {
  const buf = new Uint8Array(4096);
  let out = "";
  const until = performance.now() + ms;
  for (;;) {
    const left = until - performance.now();
    if (left <= 0) return out;
    const n = await Promise.race([conn.read(buf).catch(() => null), sleep(left).then(() => -1)]);
    if (n === null || n === -1) return out;
    out += new TextDecoder().decode(buf.subarray(0, n as number));
    if (/\r\n\r\n/.test(out)) return out;
  }
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

async function slowClients(up: FaultUpstream) {
  const gw = await gateway(up.url, { CLIENT_BODY_TIMEOUT_MS: "2000" });
  up.requests.length = 0;
  try {
    const idle = await rssOf(gw.pid);
    const head = `POST ${GENERATE} HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${TOKEN}\r\n` +
      `content-type: application/json\r\ncontent-length: 100000\r\n\r\n`;
    const half = head + '{"contents": [{"role": "user", "parts": [{"text": "' + "x".repeat(1000);
    const t0 = performance.now();
    const conns: Deno.Conn[] = [];
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      const c = await connect(gw.url);
      await c.write(enc.encode(half));
      conns.push(c);
    }
    const sent = performance.now() - t0;
    const held = await rssOf(gw.pid);
    const answers = await Promise.all(conns.map(async (c) => {
      const text = await readFor(c, 60_000);
      return { status: Number(text.split(" ")[1]), at: performance.now() - t0 };
    }));
    const got408 = answers.filter((a) => a.status === 408);
    const last = Math.max(...got408.map((a) => a.at), 0);
    await sleep(1000);
    const afterCut = await rssOf(gw.pid);
    for (const c of conns) c.close();
    await sleep(2000);
    const afterClose = await rssOf(gw.pid);
    rows.push(
      [
        `slow clients: ${SLOW_CLIENTS} half-sent bodies, memory while held`,
        `${mb(held - idle)} over idle (${mb(idle)}), sent in ${(sent / 1000).toFixed(1)} s`,
      ],
      [
        `slow clients: answered 408 (CLIENT_BODY_TIMEOUT_MS 2 s)`,
        `${got408.length}/${SLOW_CLIENTS}, the last ${(last / 1000).toFixed(1)} s after the first was sent`,
      ],
      [
        `slow clients: memory after the 408s (sockets still open) / after the clients left`,
        `${mb(afterCut - idle)} / ${mb(afterClose - idle)} over idle`,
      ],
      [`slow clients: requests that reached the upstream`, `${up.requests.length}`],
    );
  } finally {
    await gw.stop();
  }
}

async function hugeAnswer(up: FaultUpstream) {
  const gw = await gateway(up.url);
  try {
    const idle = await rssOf(gw.pid);
    up.script({ kind: "huge", bytes: HUGE_MB * MB });
    const r = await fetch(gw.url + GENERATE, {
      method: "POST",
      headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "big" }] }] }),
    });
    let bytes = 0;
    for await (const chunk of r.body!) bytes += chunk.length;
    const peak = await rssOf(gw.pid, "VmHWM");
    rows.push([
      `a ${HUGE_MB} MB upstream answer (native, unary), peak memory`,
      `${mb(peak - idle)} over idle; the client got ${mb(bytes)} (status ${r.status})`,
    ]);
  } finally {
    await gw.stop();
  }
}

async function bigPosts(up: FaultUpstream, declared: boolean) {
  const gw = await gateway(up.url);
  try {
    const idle = await rssOf(gw.pid);
    const block = new Uint8Array(1 * MB).fill(120);
    const statuses = await Promise.all(Array.from({ length: 6 }, async () => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= 100) return c.close();
          sent++;
          c.enqueue(block);
        },
      });
      try {
        const r = await fetch(gw.url + GENERATE, {
          method: "POST",
          headers: {
            "x-goog-api-key": TOKEN,
            "content-type": "application/json",
            ...(declared ? { "content-length": String(100 * MB) } : {}),
          },
          body: declared ? new Uint8Array(100 * MB) : body,
        });
        await r.body?.cancel();
        return r.status;
      } catch (e) {
        return `error (${String(e).slice(0, 40)})`;
      }
    }));
    const peak = await rssOf(gw.pid, "VmHWM");
    rows.push([
      `six 100 MB posts, ${declared ? "with" : "without"} content-length, peak memory`,
      `${mb(peak - idle)} over idle; answers ${[...new Set(statuses)].join(", ")}`,
    ]);
  } finally {
    await gw.stop();
  }
}

async function traceFlood(up: FaultUpstream) {
  const gw = await gateway(up.url);
  try {
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, async () => {
        const c = await connect(gw.url);
        try {
          await c.write(
            enc.encode(
              `TRACE /v1beta/models HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${TOKEN}\r\nConnection: close\r\n\r\n`,
            ),
          );
          const s = Number((await readFor(c, 5000)).split(" ")[1]);
          statuses.set(s, (statuses.get(s) ?? 0) + 1);
        } finally {
          c.close();
        }
      }));
    }
    const health = await (await fetch(gw.url + "/health")).json();
    rows.push([
      "1000 TRACE requests",
      `${[...statuses].map(([s, n]) => `${n}x ${s}`).join(", ")}; keys: ${
        JSON.stringify(health.keys ?? health)
      }`,
    ]);
  } finally {
    await gw.stop();
  }
}

async function stalls(up: FaultUpstream, resend: boolean) {
  const gw = await gateway(up.url, {
    REQUEST_TIMEOUT_MS: "1000",
    REQUEST_DEADLINE_MS: "2500",
    MAX_ATTEMPTS: "5",
    RESEND_AFTER_TIMEOUT: String(resend),
  });
  try {
    up.otherwise({ kind: "stall_before_headers" });
    up.requests.length = 0;
    const t0 = performance.now();
    const r = await fetch(gw.url + GENERATE, {
      method: "POST",
      headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    });
    await r.body?.cancel();
    const ms = performance.now() - t0;
    rows.push([
      `upstream never answers, REQUEST_TIMEOUT_MS 1 s, deadline 2.5 s, resend ${resend ? "on" : "off"}`,
      `${r.status} after ${(ms / 1000).toFixed(2)} s, ${up.requests.length} upstream attempt(s)`,
    ]);
  } finally {
    up.otherwise({ kind: "answer" });
    await gw.stop();
  }
}

const up = FaultUpstream.start();
try {
  if (runs("slow")) await slowClients(up);
  if (runs("huge")) await hugeAnswer(up);
  if (runs("posts")) await bigPosts(up, true);
  if (runs("posts")) await bigPosts(up, false);
  if (runs("trace")) await traceFlood(up);
  if (runs("stalls")) await stalls(up, false);
  if (runs("stalls")) await stalls(up, true);
} finally {
  up.close();
  await Deno.remove(dataDir, { recursive: true });
}

console.log(
  `\nbench:abuse (machine: ${navigator.hardwareConcurrency} cores; memory is the gateway process's RSS)\n`,
);
console.log("| scenario | figure |");
console.log("|---|---|");
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
