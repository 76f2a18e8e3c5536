/**
 * `deno task bench:profile`: a V8 CPU profile of the gateway in process (the `bench:inproc` harness,
 * 64 requests at a time) per route, priced in µs of CPU per request: each piece of the request's path
 * inclusive (client auth, key choice, prepare, translation, the record sinks, ...) and the top functions
 * by self time. The profile is taken with the inspector protocol (`node:inspector`), the same
 * sampling profiler as `--cpu-prof`.
 *
 * Usage: `deno run -A bench/inproc_profile.ts [route ...]` (routes of `bench/inproc_harness.ts`,
 * default `native openai`). `BENCH_REQUESTS` sets the count (10000), `BENCH_TOP` the functions listed
 * (25), `BENCH_PROFILE_OUT` a directory to write the `.cpuprofile` files to (for Chrome's DevTools).
 *
 * @module
 */
import { Session } from "node:inspector/promises";
import { measure, ROUTES, startGateway, stubUpstream } from "./inproc_harness.ts";

const N = Number(Deno.env.get("BENCH_REQUESTS") ?? 10_000);
const TOP = Number(Deno.env.get("BENCH_TOP") ?? 25);
const OUT = Deno.env.get("BENCH_PROFILE_OUT");
const names = Deno.args.length ? Deno.args : ["native", "openai"];

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A piece of the request's path: a sample counts for it when any frame on its stack matches. */
const PIECES: Array<[string, (f: CallFrame) => boolean]> = [
  ["hono dispatch (all)", (f) => f.functionName === "dispatch" && f.url.includes("hono")],
  ["client auth", (f) => f.functionName === "clientAuthHandler"],
  ["cors", (f) => f.url.endsWith("lib/http/cors.ts")],
  ["edge (whole)", (f) => f.functionName === "handle" && /routes\/\w+\.ts$/.test(f.url)],
  ["read request body", (f) => f.url.endsWith("lib/http/body.ts")],
  [
    "prepare",
    (f) => f.url.endsWith("lib/pipeline/prepare.ts") || f.url.includes("lib/features/request_features"),
  ],
  ["pipeline (forward)", (f) => f.url.endsWith("lib/pipeline/forward.ts")],
  ["key choice", (f) => f.url.includes("lib/pool/key_pool.ts") && /pick|choose/i.test(f.functionName)],
  ["upstream request", (f) => f.url.endsWith("lib/pipeline/upstream.ts")],
  ["upstream body read", (f) => f.url.endsWith("lib/pipeline/upstream_body.ts")],
  ["usage count", (f) => f.url.endsWith("lib/pool/usage.ts")],
  ["token limits", (f) => f.url.endsWith("lib/tokens/token_limits.ts")],
  ["log record", (f) => f.url.endsWith("lib/logs/log_store.ts")],
  ["metrics record", (f) => f.url.endsWith("lib/metrics/metrics.ts") || f.url.endsWith("histogram.ts")],
  ["redact", (f) => f.url.endsWith("lib/secrets/redact.ts")],
  [
    "translate (openai/anthropic/responses)",
    (f) => /lib\/(openai|anthropic|responses)\//.test(f.url),
  ],
  ["sse encode", (f) => f.url.endsWith("lib/http/sse.ts")],
  ["gemini stream read", (f) => f.url.endsWith("lib/gemini/stream.ts")],
  ["zod", (f) => f.url.includes("/zod@")],
  ["JSON.parse", (f) => f.functionName === "parse" && f.url === ""],
  ["JSON.stringify", (f) => f.functionName === "stringify" && f.url === ""],
  ["garbage collector", (f) => f.functionName === "(garbage collector)"],
];

function short(f: CallFrame): string {
  const file = f.url.replace(/^.*\/(node_modules|npm|registry\.npmjs\.org)\//, "npm:").replace(
    /^file:\/\/.*?\/(lib|routes|bench|gateway\.ts)/,
    "$1",
  ).replace(/^.*\/(hono@[^/]+|zod@[^/]+)\/.*\/([^/]+)$/, "$1/$2");
  return `${f.functionName || "(anonymous)"} ${file ? `${file}:${f.lineNumber + 1}` : "(native)"}`;
}

function summarize(p: Profile, requests: number) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const pieces = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(p.samples[i])!;
    if (leaf.callFrame.functionName === "(idle)") continue;
    busy += dt;
    const key = short(leaf.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const hit = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      for (const [name, match] of PIECES) if (!hit.has(name) && match(f)) hit.add(name);
    }
    for (const name of hit) pieces.set(name, (pieces.get(name) ?? 0) + dt);
  }
  const per = (us: number) => (us / requests).toFixed(2);
  return { busy: per(busy), self, pieces, per };
}

stubUpstream();
const gw = await startGateway({ keys: Number(Deno.env.get("BENCH_POOL_KEYS") ?? 3) });
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 100 });
for (const name of names) {
  const make = ROUTES[name];
  if (!make) throw new Error(`No route '${name}'; routes: ${Object.keys(ROUTES).join(", ")}`);
  const requests = name.includes("stream") ? Math.max(1, Math.round(N / 200)) : N;
  await measure(gw, make, { concurrency: 64, requests: Math.min(2000, requests) }); // warm up
  await session.post("Profiler.start");
  const wall = await measure(gw, make, { concurrency: 64, requests, warmup: 0 });
  const { profile } = await session.post("Profiler.stop") as unknown as { profile: Profile };
  if (OUT) await Deno.writeTextFile(`${OUT}/${name.replace(/\s/g, "_")}.cpuprofile`, JSON.stringify(profile));
  const s = summarize(profile, requests);
  console.log(
    `\n## ${name}: ${requests} requests, 64 at a time; ${
      wall.toFixed(1)
    } µs wall, ${s.busy} µs CPU per request (profiled)\n`,
  );
  console.log("| piece (inclusive) | µs per request |");
  console.log("|---|---|");
  for (const [piece] of PIECES) {
    const us = s.pieces.get(piece);
    if (us) console.log(`| ${piece} | ${s.per(us)} |`);
  }
  console.log(`\n| top ${TOP} functions by self time | µs per request |`);
  console.log("|---|---|");
  for (const [fn, us] of [...s.self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`| ${fn.replaceAll("|", "\\|")} | ${s.per(us)} |`);
  }
}
await session.post("Profiler.disable");
session.disconnect();
await gw.close();
