/**
 * `deno task bench:smoother`: the delay the streaming smoother adds. A mock Gemini streams an answer
 * with a few large text deltas (one long "word" each) through the gateway's native SSE route; each
 * variant (smoother off, on with several settings) is timed over several runs: time to first byte,
 * time to first text, time to last byte and the number of SSE events the client receives. The
 * difference in time to last byte against "off" is the delay the smoother adds (bounded per pause by
 * smootherMaxDelayMs and per response by smootherBudgetMs).
 *
 * Environment: SMOOTHER_BENCH_RUNS (default 8), SMOOTHER_BENCH_DELTAS (large deltas per answer, 3),
 * SMOOTHER_BENCH_DELTA_CHARS (characters per large delta, 600), SMOOTHER_BENCH_CHUNK_DELAY_MS (mock
 * pause between upstream chunks, 30).
 *
 * @module
 */
import { createGateway } from "../gateway.ts";
import { MockGemini } from "../tests/support/mock_gemini.ts";

const num = (name: string, d: number) => Number(Deno.env.get(name) ?? d);
const RUNS = num("SMOOTHER_BENCH_RUNS", 8);
const DELTAS = num("SMOOTHER_BENCH_DELTAS", 3);
const DELTA_CHARS = num("SMOOTHER_BENCH_DELTA_CHARS", 600);
const CHUNK_DELAY_MS = num("SMOOTHER_BENCH_CHUNK_DELAY_MS", 30);
const TOKEN = "bench-client-token-1234";
const MODEL = "gemini-2.5-flash";

/** One smoother configuration to time. */
interface Variant {
  label: string;
  settings: Record<string, unknown>;
}

const VARIANTS: Variant[] = [
  { label: "off", settings: { smoother: false } },
  { label: "on (defaults: 24 chars, 20 ms, 3 s budget)", settings: { smoother: true } },
  {
    label: "on, 48 chars, 10 ms",
    settings: { smoother: true, smootherChunkChars: 48, smootherMaxDelayMs: 10, smootherBudgetMs: 3_000 },
  },
  {
    label: "on, 24 chars, 20 ms, 300 ms budget",
    settings: { smoother: true, smootherChunkChars: 24, smootherMaxDelayMs: 20, smootherBudgetMs: 300 },
  },
  {
    label: "on, 24 chars, no pauses",
    settings: { smoother: true, smootherChunkChars: 24, smootherMaxDelayMs: 0, smootherBudgetMs: 3_000 },
  },
];

/** Timings of one streamed answer (ms from sending the request). */
interface Sample {
  firstByte: number;
  firstText: number;
  lastByte: number;
  events: number;
  chars: number;
}

/** A prompt the mock echoes as two short words, then DELTAS long words (one large delta each). */
function prompt(): string {
  const long = (i: number) =>
    `d${i}-` + "abcdefghij".repeat(Math.ceil(DELTA_CHARS / 10)).slice(0, DELTA_CHARS - 3);
  return ["w1", "w2", ...Array.from({ length: DELTAS }, (_, i) => long(i))].join(" ");
}

async function once(url: string, text: string): Promise<Sample> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, {
    method: "POST",
    headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text }] }] }),
  });
  if (!res.ok || !res.body) throw new Error(`stream failed with HTTP ${res.status}: ${await res.text()}`);
  const dec = new TextDecoder();
  let buf = "";
  let firstByte = -1;
  let firstText = -1;
  let events = 0;
  let chars = 0;
  for await (const bytes of res.body) {
    const now = performance.now() - t0;
    if (firstByte < 0) firstByte = now;
    buf += dec.decode(bytes, { stream: true });
    const frames = buf.split(/\r\n\r\n|\n\n/);
    buf = frames.pop() ?? "";
    for (const f of frames) {
      if (!f.startsWith("data:")) continue;
      events++;
      const ev = JSON.parse(f.slice(5));
      const t = (ev.candidates?.[0]?.content?.parts ?? []).map((p: { text?: string }) => p.text ?? "").join(
        "",
      );
      if (t && firstText < 0) firstText = now;
      chars += t.length;
    }
  }
  return { firstByte, firstText, lastByte: performance.now() - t0, events, chars };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function max(xs: number[]): number {
  return Math.max(...xs);
}

const fmt = (n: number) => n.toFixed(1).padStart(8);

async function main() {
  const mock = await MockGemini.start({ chunkDelayMs: CHUNK_DELAY_MS });
  const gw = await createGateway({
    env: {
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: ["AIza" + "b".repeat(35), "AIza" + "c".repeat(35)].join(","),
      ALLOWED_TOKENS: TOKEN,
      ADMIN_TOKEN: "bench-admin-token-123456",
      UPSTREAM_BASE_URL: mock.url,
      SYNC_INTERVAL_MS: "0",
      KEEP_ALIVE_MS: "0",
    },
  });
  await gw.ready;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gw.app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const text = prompt();
  const expectedChars = `echo: ${text}`.length;
  console.log(
    `smoother bench: ${RUNS} runs per variant; answer = 3 short deltas + ${DELTAS} deltas of ` +
      `${DELTA_CHARS} chars; mock pause between upstream chunks ${CHUNK_DELAY_MS} ms\n`,
  );
  console.log(
    "variant".padEnd(44) + "  TTFB med" + "  1st-text" + "  TTLB med" + "  TTLB max" + "  +TTLB vs off" +
      "  events",
  );
  try {
    await once(url, text); // warm-up (connections, JIT)
    let baseline = 0;
    for (const v of VARIANTS) {
      await gw.settings.update(v.settings);
      const samples: Sample[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await once(url, text));
      for (const s of samples) {
        if (s.chars !== expectedChars) {
          throw new Error(`${v.label}: got ${s.chars} chars, not ${expectedChars}`);
        }
      }
      const ttlb = median(samples.map((s) => s.lastByte));
      if (v.label === "off") baseline = ttlb;
      console.log(
        v.label.padEnd(44) +
          fmt(median(samples.map((s) => s.firstByte))) + "  " +
          fmt(median(samples.map((s) => s.firstText))) + "  " +
          fmt(ttlb) + "  " +
          fmt(max(samples.map((s) => s.lastByte))) + "  " +
          fmt(ttlb - baseline).padStart(13) + "  " +
          String(median(samples.map((s) => s.events))).padStart(6),
      );
    }
    console.log("\nAll times in ms (medians unless noted). +TTLB is the delay the smoother adds.");
  } finally {
    await server.shutdown();
    await gw.close();
    await mock.close();
  }
}

if (import.meta.main) await main();
