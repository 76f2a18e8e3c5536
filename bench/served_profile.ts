/**
 * `deno task bench:served`: the gateway as `deno task start` serves it (one worker, KV on disk, logs
 * on), loaded by wrk at 64 connections, beside the bare forwarder in the same run, priced in CPU per
 * request:
 * - from `/proc` (no profiler running): µs of the main thread and of all threads per request, for
 *   the bare forwarder and the gateway's route (the main thread is what limits requests per second);
 * - from a V8 CPU profile of the gateway (`--cpu-prof`, a second run): the pieces of the request's path,
 *   where the time goes (our folders, Hono, the runtime's JavaScript, its native ops, GC) and the top
 *   functions by self time, all in µs per request.
 *
 * Usage: `deno run -A bench/served_profile.ts [route]` with route one of `native` (default), `openai`,
 * `anthropic`, `responses`, `native-stream`, `openai-stream`. `BENCH_SECONDS` sets each wrk run (5),
 * `BENCH_TOP` the functions listed (30), `BENCH_PROFILE_OUT` a directory to keep the `.cpuprofile` in
 * (for Chrome's DevTools), `BENCH_LOGS=false` turns the request log off, `BENCH_POOL_KEYS=<n>` serves
 * the gateway through `bench/pool_gateway.ts` with `n` generated keys (in-memory KV) instead of
 * `main.ts` with 3 (compare `BENCH_POOL_KEYS=3` with `BENCH_POOL_KEYS=10000`), `BENCH_WORKERS` sets the
 * gateway's `WORKERS` (1; with more, "main thread" sums the JavaScript threads: the main thread and
 * each `worker-N`, and the profile is the main thread's), `BENCH_V8_FLAGS` passes V8 flags to the gateway
 * (`--v8-flags=<value>`, e.g. `--max-semi-space-size=32`).
 *
 * @module
 */
import { ensureWrk, runWrk } from "./wrk.ts";
import { freePort, serve, type Served, START_FLAGS } from "./processes.ts";
import { printSummary, type Profile } from "./profile_summary.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const TOP = Number(Deno.env.get("BENCH_TOP") ?? 30);
const KEYS = ["b", "c", "d"].map((c) => "AIza" + c.repeat(35));
const TOKEN = "bench-client-token";
const route = Deno.args[0] ?? "native";
const POOL_KEYS = Deno.env.get("BENCH_POOL_KEYS");
const WORKERS = Deno.env.get("BENCH_WORKERS") ?? "1";
const V8_FLAGS = Deno.env.get("BENCH_V8_FLAGS");

const nativeBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Say hello." }] }] });
const chat = (stream: boolean) =>
  JSON.stringify({
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "Say hello." }],
    ...(stream ? { stream: true } : {}),
  });
const ROUTES: Record<string, { path: string; body: string; headers: Record<string, string> }> = {
  native: {
    path: "/v1beta/models/gemini-2.5-flash:generateContent",
    body: nativeBody,
    headers: { "x-goog-api-key": TOKEN },
  },
  "native-stream": {
    path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    body: nativeBody,
    headers: { "x-goog-api-key": TOKEN },
  },
  openai: { path: "/v1/chat/completions", body: chat(false), headers: { authorization: `Bearer ${TOKEN}` } },
  "openai-stream": {
    path: "/v1/chat/completions",
    body: chat(true),
    headers: { authorization: `Bearer ${TOKEN}` },
  },
  anthropic: {
    path: "/v1/messages",
    body: JSON.stringify({
      model: "gemini-2.5-flash",
      max_tokens: 256,
      messages: [{ role: "user", content: "Say hello." }],
    }),
    headers: { "x-api-key": TOKEN, "anthropic-version": "2023-06-01" },
  },
  responses: {
    path: "/v1/responses",
    body: JSON.stringify({ model: "gemini-2.5-flash", input: "Say hello." }),
    headers: { authorization: `Bearer ${TOKEN}` },
  },
};
const target = ROUTES[route];
if (!target) throw new Error(`No route '${route}'; routes: ${Object.keys(ROUTES).join(", ")}`);

/** Clock ticks of CPU (user + system) of a thread, or of every thread of the process. */
function ticks(pid: number, thread?: number): Promise<number> {
  const read = async (path: string) => {
    const fields = (await Deno.readTextFile(path)).split(") ")[1].split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  };
  if (thread !== undefined) return read(`/proc/${pid}/task/${thread}/stat`);
  return read(`/proc/${pid}/stat`);
}
const TICK_US = 10_000; // USER_HZ is 100 on Linux

/** Clock ticks of CPU of the process's JavaScript threads: the main thread and the `worker-N` threads. */
async function jsTicks(pid: number): Promise<number> {
  let sum = await ticks(pid, pid);
  for await (const t of Deno.readDir(`/proc/${pid}/task`)) {
    const comm = await Deno.readTextFile(`/proc/${pid}/task/${t.name}/comm`).catch(() => "");
    if (/^worker-\d+$/.test(comm.trim())) sum += await ticks(pid, Number(t.name)).catch(() => 0);
  }
  return sum;
}

/** One wrk run at 64 connections with the CPU the process spent, per request. */
async function load(s: Served) {
  const o = {
    url: s.url + target.path,
    connections: 64,
    body: target.body,
    headers: { "content-type": "application/json", ...target.headers },
  };
  await runWrk({ ...o, seconds: 1 }); // warm up
  const [main0, all0] = [await jsTicks(s.pid), await ticks(s.pid)];
  const r = await runWrk({ ...o, seconds: SECONDS });
  const [main1, all1] = [await jsTicks(s.pid), await ticks(s.pid)];
  const requests = r.rps * SECONDS;
  return {
    rps: r.rps,
    errors: r.errors,
    requests,
    mainUs: (main1 - main0) * TICK_US / requests,
    allUs: (all1 - all0) * TICK_US / requests,
  };
}

await ensureWrk();
const dataDir = await Deno.makeTempDir();
const profileDir = Deno.env.get("BENCH_PROFILE_OUT") ?? await Deno.makeTempDir();
const started: Served[] = [];
try {
  const upPort = freePort();
  const upstream = await serve(
    ["--allow-net", "--allow-env", "bench/upstream_server.ts", String(upPort)],
    upPort,
    "/",
  );
  started.push(upstream);
  const barePort = freePort();
  const bare = await serve(
    ["--allow-net", "bench/bare_forwarder.ts", String(barePort), upstream.url, KEYS[0], "plain"],
    barePort,
    "/",
  );
  started.push(bare);
  const gateway = async (profile: boolean) => {
    const port = freePort();
    const flags = [
      ...START_FLAGS,
      ...(V8_FLAGS ? [`--v8-flags=${V8_FLAGS}`] : []),
      ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
    ];
    const s = await serve(
      POOL_KEYS ? [...flags, "bench/pool_gateway.ts", String(port), POOL_KEYS] : [...flags, "main.ts"],
      port,
      "/health",
      {
        HOST: "127.0.0.1",
        PORT: String(port),
        WORKERS,
        KV_PATH: `${dataDir}/kv-${profile ? "p" : "m"}.sqlite3`,
        GEMINI_API_KEYS: POOL_KEYS ? "" : KEYS.join(","),
        ALLOWED_TOKENS: TOKEN,
        ADMIN_TOKEN: "bench-admin-token-123",
        UPSTREAM_BASE_URL: upstream.url,
        LOGS_ENABLED: Deno.env.get("BENCH_LOGS") ?? "true",
      },
    );
    started.push(s);
    return s;
  };
  const bareRun = route.startsWith("native") ? await load(bare) : undefined;
  const measured = await gateway(false);
  const gwRun = await load(measured);
  await measured.stop();
  const profiled = await gateway(true);
  const profRun = await load(profiled);
  await profiled.stop(); // SIGTERM: the gateway exits, and the runtime writes the profile
  const file = [...Deno.readDirSync(profileDir)].filter((e) => e.name.endsWith(".cpuprofile"))
    .map((e) => `${profileDir}/${e.name}`).sort().at(-1);
  if (!file) throw new Error(`no .cpuprofile was written to ${profileDir}`);
  const profile: Profile = JSON.parse(await Deno.readTextFile(file));

  const f1 = (n: number) => n.toFixed(1);
  console.log(
    `\n## ${route}${
      POOL_KEYS ? ` (${POOL_KEYS} keys, bench/pool_gateway.ts)` : ""
    }: wrk ${SECONDS} s at 64 connections, ${WORKERS} worker(s), CPU per request from /proc (no profiler)\n`,
  );
  console.log("| server | req/s | main thread µs/req | all threads µs/req | errors |");
  console.log("|---|---|---|---|---|");
  if (bareRun) {
    console.log(
      `| bare forwarder | ${bareRun.rps.toFixed(0)} | ${f1(bareRun.mainUs)} | ${
        f1(bareRun.allUs)
      } | ${bareRun.errors} |`,
    );
  }
  console.log(
    `| gateway ${route} | ${gwRun.rps.toFixed(0)} | ${f1(gwRun.mainUs)} | ${
      f1(gwRun.allUs)
    } | ${gwRun.errors} |`,
  );
  console.log(
    `| gateway ${route}, profiled | ${profRun.rps.toFixed(0)} | ${f1(profRun.mainUs)} | ${
      f1(profRun.allUs)
    } | ${profRun.errors} |`,
  );
  console.log(
    `\n## V8 profile of the gateway (${profRun.requests.toFixed(0)} requests, plus the warm-up and start)\n`,
  );
  printSummary(profile, profRun.requests, TOP);
  if (!Deno.env.get("BENCH_PROFILE_OUT")) await Deno.remove(profileDir, { recursive: true });
} finally {
  for (const s of started.reverse()) await s.stop();
  await Deno.remove(dataDir, { recursive: true });
}
