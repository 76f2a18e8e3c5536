/**
 * `deno task bench:keys`: a simulation of a pool of free-tier keys under a load above what they can
 * serve. A mock upstream enforces per-key (per-project), per-model requests-per-minute and per-day
 * limits with Google's exact 429 bodies; some keys are invalid and some suspended. The gateway's pool
 * is compared with a plain round robin that only retries, each against a fresh mock, in one run.
 * The gateway runs as `deno task start` runs it, once with 1 worker and once with `BENCH_WORKERS`
 * (default 2) workers sharing one KV file: the learned limits must hold in total, not per worker.
 * Time is compressed: a quota "minute" lasts QUOTA_WINDOW_MS (default 5 s), which both the mock and
 * the gateway are told.
 *
 * @module
 */
import { MockGemini } from "../tests/support/mock_gemini.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { freePort, serve, START_FLAGS } from "./processes.ts";

const WINDOW_MS = Number(Deno.env.get("QUOTA_WINDOW_MS") ?? 5_000);
const DURATION_MS = Number(Deno.env.get("BENCH_KEYS_SECONDS") ?? 30) * 1000;
const CLIENTS = 24;
const WORKERS = Number(Deno.env.get("BENCH_WORKERS") ?? 2);
const ADMIN = "bench-admin-token-123";
const MODEL = "gemini-2.5-flash";

interface KeySpec {
  key: string;
  rpm?: number;
  rpd?: number;
  project?: string;
  invalid?: boolean;
  suspended?: boolean;
}

const k = (n: number) => "AIza" + String(n).padStart(35, "k");
const SPECS: KeySpec[] = [
  ...Array.from({ length: 10 }, (_, i) => ({ key: k(i), rpm: 6, rpd: 1000 })),
  ...Array.from({ length: 4 }, (_, i) => ({ key: k(10 + i), rpm: 6, rpd: 10 })), // run out for the day
  { key: k(14), rpm: 8, rpd: 1000, project: "shared-project" }, // two keys of one project share its quota
  { key: k(15), rpm: 8, rpd: 1000, project: "shared-project" },
  { key: k(16), invalid: true },
  { key: k(17), invalid: true },
  { key: k(18), suspended: true },
  { key: k(19), suspended: true },
];
const BAD = SPECS.filter((s) => s.invalid || s.suspended).map((s) => s.key);

function setupMock(mock: MockGemini) {
  for (const s of SPECS) {
    mock.setKey(s.key, {
      rpm: s.rpm,
      rpd: s.rpd,
      project: s.project,
      invalid: s.invalid,
      denied: s.suspended ? "suspended" : undefined,
    });
  }
}

/** Requests the keys could serve in [start, end): per quota scope, min(rpm × windows touched, rpd). */
function capacity(start: number, end: number): number {
  const windows = Math.floor((end - 1) / WINDOW_MS) - Math.floor(start / WINDOW_MS) + 1;
  const scopes = new Map<string, { rpm: number; rpd: number }>();
  for (const s of SPECS) {
    if (s.invalid || s.suspended) continue;
    scopes.set(s.project ?? s.key, { rpm: s.rpm!, rpd: s.rpd! });
  }
  let total = 0;
  for (const { rpm, rpd } of scopes.values()) total += Math.min(rpm * windows, rpd);
  return total;
}

const body = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hello" }] }] });

type Stats = ReturnType<MockGemini["stats"]>;

async function load(
  mock: MockGemini,
  send: () => Promise<number>,
): Promise<{ start: number; end: number; clientOk: number; learned: Stats }> {
  const start = Date.now();
  const end = start + DURATION_MS;
  let clientOk = 0;
  // Limits are learned from the first 429s; a snapshot after two windows separates that phase.
  let learned = mock.stats();
  const snap = setTimeout(() => learned = mock.stats(), 2 * WINDOW_MS);
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < end) {
      const status = await send();
      if (status === 200) clientOk++;
      else await new Promise((r) => setTimeout(r, 25)); // a client backs off a little after a refusal
    }
  }));
  clearTimeout(snap);
  return { start, end: Date.now(), clientOk, learned };
}

async function runGateway(workers: number) {
  const mock = await MockGemini.start({ minuteMs: WINDOW_MS });
  setupMock(mock);
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const gw = await serve([...START_FLAGS, "main.ts"], port, "/health", {
    PORT: String(port),
    HOST: "127.0.0.1",
    KV_PATH: `${dir}/kv.sqlite3`,
    GEMINI_API_KEYS: SPECS.map((s) => s.key).join(","),
    ALLOWED_TOKENS: "bench-token-123456",
    ADMIN_TOKEN: ADMIN,
    UPSTREAM_BASE_URL: mock.url,
    QUOTA_WINDOW_MS: String(WINDOW_MS),
    MAX_WAIT_MS: "200",
    WORKERS: String(workers),
  });
  // Wait until every worker serves, then label the two keys of one project (that is how the pool
  // knows they share a quota) through the admin API; the workers learn it through KV.
  const seen = new Set<string>();
  for (let i = 0; i < 400 && seen.size < workers; i++) {
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    const health = await (await fetch(`${gw.url}/health`, { client })).json().catch(() => ({}));
    client.close();
    if (health.instance) seen.add(health.instance);
    if (seen.size < workers) await new Promise((r) => setTimeout(r, 25));
  }
  const shared = SPECS.filter((s) => s.project);
  const labelled = await fetch(`${gw.url}/admin/api/keys/update`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ ids: shared.map((s) => keyId(s.key)), project: shared[0].project }),
  });
  if (!labelled.ok) throw new Error(`labelling the project failed: ${await labelled.text()}`);
  await new Promise((r) => setTimeout(r, 500));
  const url = `${gw.url}/v1beta/models/${MODEL}:generateContent`;
  const r = await load(mock, async () => {
    const res = await fetch(url, {
      method: "POST",
      body,
      headers: { "x-goog-api-key": "bench-token-123456" },
    });
    await res.body?.cancel();
    return res.status;
  });
  const stats = mock.stats();
  const badCalls = BAD.map((key) => mock.callsFor(key));
  await gw.stop();
  await mock.close();
  await Deno.remove(dir, { recursive: true });
  return { ...r, stats, badCalls };
}

async function runNaive() {
  const mock = await MockGemini.start({ minuteMs: WINDOW_MS });
  setupMock(mock);
  const keys = SPECS.map((s) => s.key);
  let cursor = 0;
  const url = `${mock.url}/v1beta/models/${MODEL}:generateContent`;
  const r = await load(mock, async () => {
    let status = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const key = keys[cursor++ % keys.length];
      const res = await fetch(url, { method: "POST", body, headers: { "x-goog-api-key": key } });
      await res.body?.cancel();
      status = res.status;
      if (
        status === 200 ||
        (status >= 400 && status < 500 && status !== 429 && status !== 403 && status !== 400)
      ) break;
    }
    return status;
  });
  const stats = mock.stats();
  const badCalls = BAD.map((key) => mock.callsFor(key));
  await mock.close();
  return { ...r, stats, badCalls };
}

function report(name: string, r: Awaited<ReturnType<typeof runNaive>>) {
  const cap = capacity(r.start, r.end);
  const ok = r.stats.ok;
  return {
    name,
    capacity: cap,
    successes: ok,
    used: `${(100 * ok / cap).toFixed(1)}%`,
    "429s/success": (r.stats.rateLimited / Math.max(1, ok)).toFixed(3),
    "429s/success known": ((r.stats.rateLimited - r.learned.rateLimited) / Math.max(1, ok - r.learned.ok))
      .toFixed(3),
    "bad-key calls": `${r.badCalls.reduce((a, b) => a + b, 0)} (max per key ${Math.max(...r.badCalls)})`,
  };
}

console.log(
  `Simulating ${SPECS.length} keys (${BAD.length} bad), ${CLIENTS} clients, ${
    DURATION_MS / 1000
  } s, quota window ${WINDOW_MS} ms...`,
);
const one = await runGateway(1);
const many = await runGateway(WORKERS);
const naive = await runNaive();
const rows = [
  report("gateway pool, 1 worker", one),
  report(`gateway pool, ${WORKERS} workers`, many),
  report("plain round robin", naive),
];
console.log(
  "\n| strategy | capacity | successes | capacity used | upstream 429s per success (all / once limits known) | calls to bad keys |",
);
console.log("|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.capacity} | ${r.successes} | ${r.used} | ${r["429s/success"]} / ${
      r["429s/success known"]
    } | ${r["bad-key calls"]} |`,
  );
}
console.log(
  `\n"Once limits are known" counts from the third quota window on (the first 429 of each key and model teaches the pool its limit).`,
);
console.log(
  "Goals: >= 95% of capacity used, <= 0.05 upstream 429s per success once limits are known, one call per invalid key.",
);
