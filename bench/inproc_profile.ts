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
import { printSummary, type Profile, summarize } from "./profile_summary.ts";

const N = Number(Deno.env.get("BENCH_REQUESTS") ?? 10_000);
const TOP = Number(Deno.env.get("BENCH_TOP") ?? 25);
const OUT = Deno.env.get("BENCH_PROFILE_OUT");
const names = Deno.args.length ? Deno.args : ["native", "openai"];

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
  printSummary(profile, requests, TOP);
}
await session.post("Profiler.disable");
session.disconnect();
await gw.close();
