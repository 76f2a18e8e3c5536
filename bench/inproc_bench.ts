/**
 * `deno task bench:inproc`: the gateway's own CPU time per request, in process. The gateway's
 * `app.fetch` is called in a loop with the upstream `fetch` replaced by canned Gemini answers
 * (`bench/inproc_harness.ts`), so the figure is the gateway's work alone (no sockets, no other
 * process). Prints, as medians of `BENCH_ROUNDS` rounds:
 * - µs per request on the native, OpenAI, Anthropic and Responses routes, sequential and 64 at a time;
 * - µs per stream chunk over a `BENCH_CHUNKS`-event (2,000) streamed answer: the native route's
 *   pass-through and the OpenAI route's translation, and their ratio (goal ≤ 2);
 * - the native route with 10,000 keys in the pool against 3 keys (goal: < 5% slower).
 *
 * Usage: `deno run -A bench/inproc_bench.ts [gateway module]`: with another checkout's `gateway.ts`,
 * both versions are measured in one run, rounds alternating (`before` is the given module, `after`
 * this checkout). `BENCH_REQUESTS` sets the count per measurement (5000), `BENCH_ROUNDS` the rounds (3).
 *
 * @module
 */
import {
  type BenchGateway,
  measure,
  ROUTES,
  startGateway,
  STREAM_CHUNKS,
  stubUpstream,
} from "./inproc_harness.ts";

const OTHER = Deno.args[0] ? new URL(Deno.args[0], `file://${Deno.cwd()}/`).href : undefined;
const N = Number(Deno.env.get("BENCH_REQUESTS") ?? 5_000);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const BIG_POOL = 10_000;
const STREAM_REQUESTS = Math.max(4, Math.round(N / 250));

stubUpstream();
const versions: Array<{ name: string; gw: BenchGateway; big: BenchGateway }> = [];
for (const [name, module] of OTHER ? [["before", OTHER], ["after", undefined]] : [["now", undefined]]) {
  versions.push({
    name: name!,
    gw: await startGateway({ module }),
    big: await startGateway({ module, keys: BIG_POOL }),
  });
}

/** One measured row: its samples per version. */
const rows = new Map<string, Map<string, number[]>>();
const add = (row: string, version: string, value: number) => {
  const byVersion = rows.get(row) ?? rows.set(row, new Map()).get(row)!;
  (byVersion.get(version) ?? byVersion.set(version, []).get(version)!).push(value);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (let round = 0; round < ROUNDS; round++) {
  for (const v of round % 2 ? [...versions].reverse() : versions) {
    for (const name of ["native", "openai", "anthropic", "responses"]) {
      for (const c of [1, 64]) {
        add(
          `${name} @${c} (µs/request)`,
          v.name,
          await measure(v.gw, ROUTES[name], { concurrency: c, requests: N }),
        );
      }
    }
    for (const name of ["native stream", "openai stream"]) {
      const us = await measure(v.gw, ROUTES[name], { concurrency: 1, requests: STREAM_REQUESTS, warmup: 2 });
      add(`${name} (µs/chunk)`, v.name, us / STREAM_CHUNKS);
    }
    add(
      `native @64, ${BIG_POOL} keys (µs/request)`,
      v.name,
      await measure(v.big, ROUTES.native, { concurrency: 64, requests: N }),
    );
  }
}

const names = versions.map((v) => v.name);
console.log(
  `in-process, ${N} requests per measurement (streams: ${STREAM_REQUESTS} of ${STREAM_CHUNKS} chunks), ` +
    `median of ${ROUNDS} rounds${OTHER ? `; before = ${OTHER}` : ""}\n`,
);
console.log(`| measurement | ${names.join(" | ")} |${OTHER ? " after/before |" : ""}`);
console.log(`|---|${names.map(() => "---|").join("")}${OTHER ? "---|" : ""}`);
const med = (row: string, version: string) => median(rows.get(row)!.get(version)!);
for (const row of rows.keys()) {
  const values = names.map((n) => med(row, n));
  const ratio = OTHER ? ` ${(values[1] / values[0]).toFixed(2)} |` : "";
  console.log(
    `| ${row} | ${values.map((x) => x.toFixed(row.includes("chunk") ? 2 : 1)).join(" | ")} |${ratio}`,
  );
}
console.log("");
for (const n of names) {
  const perChunk = med("openai stream (µs/chunk)", n) / med("native stream (µs/chunk)", n);
  const keys = med(`native @64, ${BIG_POOL} keys (µs/request)`, n) / med("native @64 (µs/request)", n) - 1;
  console.log(
    `${n}: OpenAI stream chunk costs ${perChunk.toFixed(2)}x the native pass-through (goal <= 2); ` +
      `${BIG_POOL} keys cost ${(100 * keys).toFixed(1)}% per request (goal < 5%)`,
  );
}
for (const v of versions) {
  await v.gw.close();
  await v.big.close();
}
