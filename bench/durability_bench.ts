/**
 * `deno task bench:durability`: what a hard kill loses, and what a health check costs.
 *
 * 1. SIGKILL window: the gateway (`main.ts`, KV in a file) serves wrk at full speed in front of the
 *    canned upstream; after `BENCH_KILL_AFTER_S` (default 3) it is killed with SIGKILL while wrk keeps
 *    going. Then the KV file is opened and the stored usage counters (requests of the benchmarked model: the
 *    folded sums plus the batches not folded yet, read as `UsageCounter` reads them) and request-log entries are compared with the number of answers wrk received.
 *    The difference, divided by the request rate, is the window of traffic lost (ms).
 * 2. `/health` with 10,000 keys (a fifth of them cooling down for five models): µs per call, in
 *    process (`app.fetch`), `BENCH_HEALTH_CALLS` calls (default 2,000).
 *
 * Usage: `deno run -A bench/durability_bench.ts [checkout]` — `checkout` is another copy of the
 * repository (default: this one), to measure two versions with one script. Figures are noisy on a
 * busy machine; run it a few times.
 *
 * @module
 */
import { ensureWrk } from "./wrk.ts";
import { freePort, serve } from "./processes.ts";
import { UsageCounter } from "../lib/pool/usage.ts";

const CHECKOUT = new URL(`${Deno.args[0] ?? "."}/`, `file://${Deno.cwd()}/`);
const KILL_AFTER_S = Number(Deno.env.get("BENCH_KILL_AFTER_S") ?? 3);
const HEALTH_CALLS = Number(Deno.env.get("BENCH_HEALTH_CALLS") ?? 2_000);
const MODEL = "gemini-2.5-flash";
const TOKEN = "bench-client-token";
const KEYS = ["b", "c", "d"].map((c) => "AIza" + c.repeat(35));

/** Waits until `url` answers (any status). */
async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      await (await fetch(url)).body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not answer`);
}

/** Runs wrk for `seconds` and answers the number of complete answers and non-2xx among them. */
async function wrk(
  url: string,
  seconds: number,
): Promise<{ answered: number; non2xx: number; text: string }> {
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(
    script,
    [
      `wrk.method = "POST"`,
      `wrk.body = ${
        JSON.stringify(JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }))
      }`,
      `wrk.headers["content-type"] = "application/json"`,
      `wrk.headers["x-goog-api-key"] = "${TOKEN}"`,
    ].join("\n"),
  );
  const out = await new Deno.Command("wrk", {
    args: ["-t", "2", "-c", "32", "-d", `${seconds}s`, "-s", script, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(script);
  const text = new TextDecoder().decode(out.stdout);
  return {
    answered: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    text,
  };
}

/** Stored model requests (usage counters) and request-log entries in a KV file. */
async function stored(path: string): Promise<{ counted: number; logged: number }> {
  const kv = await Deno.openKv(path);
  try {
    let counted = 0;
    const days = new Set<string>();
    for await (const e of kv.list({ prefix: ["usagerev"] })) days.add(String(e.key[1]));
    for await (const e of kv.list({ prefix: ["usage"] })) days.add(String(e.key[1]));
    for await (const e of kv.list({ prefix: ["usagebatch"] })) days.add(String(e.key[1]));
    const usage = new UsageCounter(kv); // reads the folded sums and the batches not folded yet
    for (const day of days) {
      for (const [group, t] of await usage.perKeyAndModel(day)) {
        if (group.endsWith(`|${MODEL}`)) counted += t.requests;
      }
    }
    let logged = 0;
    const decoder = new TextDecoder();
    for await (const e of kv.list<{ entries: Uint8Array | unknown[] }>({ prefix: ["logs", "req"] })) {
      const entries = e.value.entries instanceof Uint8Array
        ? JSON.parse(decoder.decode(e.value.entries))
        : e.value.entries;
      logged += (entries as Array<{ model?: string }>).filter((x) => x.model === MODEL).length;
    }
    return { counted, logged };
  } finally {
    kv.close();
  }
}

async function sigkillWindow(): Promise<void> {
  await ensureWrk();
  const upPort = freePort();
  const upstream = await serve(
    ["--allow-net", "--allow-env", "bench/upstream_server.ts", String(upPort)],
    upPort,
    "/",
  );
  const dir = await Deno.makeTempDir({ prefix: "gw_durability_" });
  const kvPath = `${dir}/kv.sqlite3`;
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("main.ts", CHECKOUT).pathname],
    cwd: CHECKOUT.pathname,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      KV_PATH: kvPath,
      GEMINI_API_KEYS: KEYS.join(","),
      ALLOWED_TOKENS: TOKEN,
      ADMIN_TOKEN: "bench-admin-token-123",
      UPSTREAM_BASE_URL: upstream.url,
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`${url}/health`);
    const load = wrk(`${url}/v1beta/models/${MODEL}:generateContent`, KILL_AFTER_S + 2);
    await new Promise((r) => setTimeout(r, KILL_AFTER_S * 1000));
    child.kill("SIGKILL");
    await child.status;
    const { answered, non2xx } = await load;
    const { counted, logged } = await stored(kvPath);
    const rate = answered / KILL_AFTER_S;
    const row = (what: string, kept: number) => {
      const lost = Math.max(0, answered - kept);
      console.log(
        `${what.padEnd(16)} stored ${String(kept).padStart(7)}  lost ${String(lost).padStart(6)}  ` +
          `= ${(lost / rate * 1000).toFixed(0).padStart(5)} ms of traffic`,
      );
    };
    console.log(
      `SIGKILL after ${KILL_AFTER_S} s: ${answered} answers received (${non2xx} non-2xx), ~${
        rate.toFixed(0)
      } req/s`,
    );
    row("usage counters", counted);
    row("request log", logged);
  } finally {
    await upstream.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function healthCost(): Promise<void> {
  const { createGateway } = await import(new URL("gateway.ts", CHECKOUT).href);
  const keys = Array.from({ length: 10_000 }, (_, i) => "AIza" + String(i).padStart(35, "h"));
  const gw = await createGateway({
    env: {
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: keys.join(","),
      ADMIN_TOKEN: "bench-admin-token-123",
      UPSTREAM_BASE_URL: "http://127.0.0.1:9",
      RECHECK_INTERVAL_MS: "0",
    },
  });
  try {
    await gw.ready;
    const records = gw.pool.records();
    const until = Date.now() + 3_600_000;
    for (let i = 0; i < records.length; i += 5) {
      for (const m of ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", "m4", "m5"]) {
        gw.pool.report(records[i].id, m, { kind: "cooldown", window: "minute", until, reason: "bench" });
      }
    }
    const call = async () => await (await gw.app.fetch(new Request("http://gw/health"))).json();
    const sample = await call();
    for (let i = 0; i < 50; i++) await call();
    const t0 = performance.now();
    for (let i = 0; i < HEALTH_CALLS; i++) await call();
    const us = (performance.now() - t0) * 1000 / HEALTH_CALLS;
    console.log(
      `/health with 10,000 keys: ${us.toFixed(1)} µs per call (keys: ${JSON.stringify(sample.keys)})`,
    );
  } finally {
    await gw.close();
  }
}

console.log(`checkout: ${CHECKOUT.pathname}`);
await sigkillWindow();
await healthCost();
