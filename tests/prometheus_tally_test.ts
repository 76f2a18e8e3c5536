/**
 * The request path counts in plain cells (`lib/metrics/tally.ts`) that reach prom-client when the
 * registry is read: what a registry reads out (JSON for the snapshots, and the text format, alone and
 * summed over gateways) must be exactly what prom-client's own Counter and Histogram give for the same
 * calls.
 */
import assert from "node:assert/strict";
import client from "prom-client";
import { CounterTally, TallyHistogram } from "../lib/metrics/tally.ts";

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const LABELS = ["route", "model"] as const;

/** The same observations into prom-client's classes (`direct`) and into the tallies (`tallied`). */
function registries(observations: Array<[string, string, number]>) {
  const direct = new client.Registry();
  const tallied = new client.Registry();
  const counter = new client.Counter({ name: "c_total", help: "c", labelNames: LABELS, registers: [direct] });
  const histogram = new client.Histogram({
    name: "h_seconds",
    help: "h",
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [direct],
  });
  const tally = new CounterTally(LABELS);
  new client.Counter({
    name: "c_total",
    help: "c",
    labelNames: LABELS,
    registers: [tallied],
    collect() {
      tally.foldInto(this);
    },
  });
  const tallyHistogram = new TallyHistogram({
    name: "h_seconds",
    help: "h",
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [tallied],
  });
  for (const [route, model, value] of observations) {
    counter.inc({ route, model }, Math.round(value * 10));
    histogram.observe({ route, model }, value);
    tally.add([route, model], Math.round(value * 10));
    tallyHistogram.observe([route, model], value);
  }
  return { direct, tallied, counter, tally };
}

const OBSERVATIONS: Array<[string, string, number]> = [
  ["gemini", "gemini-2.5-flash", 0.012],
  ["openai", "gemini-2.5-pro", 0.3],
  ["gemini", "gemini-2.5-flash", 0.05], // on a bound: counted in it
  ["gemini", "other", 301], // above every bound: +Inf only
  ["openai", "gemini-2.5-pro", 7.25],
  ["gemini", "gemini-2.5-flash", 1.75],
];

Deno.test("tallies read out exactly as prom-client's Counter and Histogram (JSON and text)", async () => {
  const { direct, tallied } = registries(OBSERVATIONS);
  assert.deepEqual(await tallied.getMetricsAsJSON(), await direct.getMetricsAsJSON());
  assert.equal(await tallied.metrics(), await direct.metrics());
  // Summed over gateways (what GET /metrics answers), from the snapshots' JSON.
  const sum = async (r: client.Registry[]) =>
    await client.AggregatorRegistry.aggregate(
      await Promise.all(r.map(async (x) => JSON.parse(JSON.stringify(await x.getMetricsAsJSON())))),
    ).metrics();
  const other = registries(OBSERVATIONS.slice(2));
  assert.equal(await sum([tallied, other.tallied]), await sum([direct, other.direct]));
});

Deno.test("a counter tally adds each increment once, however often the registry is read", async () => {
  const { direct, tallied, counter, tally } = registries(OBSERVATIONS);
  await tallied.getMetricsAsJSON();
  counter.inc({ route: "gemini", model: "gemini-2.5-flash" }, 3);
  tally.add(["gemini", "gemini-2.5-flash"], 3);
  await tallied.getMetricsAsJSON();
  assert.deepEqual(await tallied.getMetricsAsJSON(), await direct.getMetricsAsJSON());
});
