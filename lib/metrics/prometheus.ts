/**
 * `GET /metrics` in Prometheus' text exposition format
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), written by `prom-client`.
 *
 * Every gateway (worker, process, instance) counts in its own `prom-client` registry, and writes a
 * snapshot of it to KV every few seconds in the background. On the request path a request only adds to
 * plain cells (`tally.ts`); they reach `prom-client` when the registry is read (a scrape, a snapshot). A scrape,
 * whichever worker answers it, sums the snapshots of every live gateway (prom-client's cluster
 * aggregation): counters and histograms add up, per-gateway gauges (open streams, KV write queue)
 * add up, and gauges every gateway computes alike from shared state (keys by state, time until a
 * key frees) are taken once. A gateway that stops takes its counts with it, like a restarted process.
 *
 * Labels stay bounded: no key values or ids, models outside the model list (and past the first
 * {@link MAX_LABEL_VALUES} names seen) become `other`, client tokens are their names.
 *
 * KV layout (owned here): `["prom", gatewayId, chunk]` -> a piece of the snapshot's JSON.
 *
 * The admin panel's capacity view is exported too (`gemini_gateway_capacity_*`): requests left are
 * each gateway's share minus its own use, so they add up; the rest comes from the shared key state
 * and is taken once. Only the gateways serving now export their share (an idle one's share is the one
 * it would get if it served; with none serving, one stands for the pool: `countsInPoolSum` in
 * `lib/cluster/capacity_board.ts`). To add series, register them on {@link PrometheusMetrics.registry}
 * with `aggregator` set, and fill them in a `collect()`.
 *
 * @module
 */
import client from "prom-client";
import type { RequestRecord } from "../pipeline/request_record.ts";
import type { ForwardObserver } from "../pipeline/observer.ts";
import { ATTEMPT_OUTCOMES } from "../pipeline/observer.ts";
import { CAPACITY_SERIES, type CapacitySample } from "../pool/capacity.ts";
import { CounterTally, TallyHistogram } from "./tally.ts";
import { oneAtATime } from "../util/one_at_a_time.ts";

/** Prefix of every series. */
export const PREFIX = "gemini_gateway_";
/** At most this many distinct values per unbounded label (models not in the list, token names). */
export const MAX_LABEL_VALUES = 50;
/** How often each gateway writes its snapshot to KV. */
export const SNAPSHOT_MS = 5_000;
const CHUNK_CHARS = 30_000; // a KV value holds 64 KiB; UTF-16 worst case stays below
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Options for {@link PrometheusMetrics}. */
export interface PrometheusOptions {
  kv: Deno.Kv;
  /** This gateway's id and the ids of the live gateways (this one included). */
  members: { id: string; aliveIds(): string[] };
  /** Keys by state (the same on every gateway). */
  keyStates: () => Record<"active" | "cooling" | "disabled", number>;
  /** Models with key state, and when the next key frees for each (epoch ms; Infinity: none will). */
  nextFree: () => Array<{ model: string; freeAt: number }>;
  /** Real model ids from the model list (label values allowed as they are). */
  knownModels: () => ReadonlySet<string>;
  /** Changes waiting to be written to KV, per store. */
  queues: () => Record<string, number>;
  /** Live API sessions open on this gateway now. */
  liveSessions?: () => number;
  /** The pool's capacity per model as this gateway sees it (`lib/pool/capacity.ts`); absent: not exported. */
  capacity?: () => CapacitySample[];
  now?: () => number;
}

/** Keeps a label's values bounded: known values pass, a few others too, the rest become `other`. */
class BoundedLabel {
  #seen = new Set<string>();
  constructor(private readonly known: () => ReadonlySet<string> = () => new Set()) {}
  of(value: string | undefined): string {
    if (!value) return "none";
    if (this.#seen.has(value) || this.known().has(value)) return value;
    if (this.#seen.size >= MAX_LABEL_VALUES || !/^[\w.:@-]{1,80}$/.test(value)) return "other";
    this.#seen.add(value);
    return value;
  }
}

const STATUS_LABELS: string[] = [];
/** An HTTP status as a label value (one string per status, not one per request). */
function statusLabel(status: number): string {
  return STATUS_LABELS[status] ??= String(status);
}

type Json = Awaited<ReturnType<client.Registry["getMetricsAsJSON"]>>;

/** One piece of a stored snapshot: `of` pieces in all. */
interface SnapshotPiece {
  of: number;
  text: string;
}

/** The gateway's Prometheus metrics. */
export class PrometheusMetrics {
  /** This gateway's registry (add series here; see the module doc). */
  readonly registry = new client.Registry();
  #models: BoundedLabel;
  #tokens = new BoundedLabel();
  /** Streams passing through now (counted here). */
  readonly #open = { streams: 0 };
  #timer?: number;
  #stopped = false;
  readonly #requests = new CounterTally(["route", "model", "status", "token"] as const);
  readonly #attempts = new CounterTally(["outcome", "model"] as const);
  readonly #tokensTotal = new CounterTally(["direction", "model"] as const);
  readonly #latency;
  readonly #ttfb;

  constructor(private readonly o: PrometheusOptions) {
    this.#models = new BoundedLabel(o.knownModels);
    const registers = [this.registry];
    const requests = this.#requests;
    new client.Counter({
      name: `${PREFIX}requests_total`,
      help: "Finished client requests by route, model, HTTP status and client token name.",
      labelNames: ["route", "model", "status", "token"] as const,
      registers,
      collect() {
        requests.foldInto(this);
      },
    });
    const attempts = this.#attempts;
    const attemptsCounter = new client.Counter({
      name: `${PREFIX}upstream_attempts_total`,
      help: "Upstream attempts by outcome (ok, rate_limited_minute, rate_limited_day, no_access, " +
        "invalid_key, server_error, timeout, network, client_error) and model.",
      labelNames: ["outcome", "model"] as const,
      registers,
      collect() {
        attempts.foldInto(this);
      },
    });
    for (const outcome of ATTEMPT_OUTCOMES) attemptsCounter.inc({ outcome, model: "none" }, 0);
    this.#latency = new TallyHistogram({
      name: `${PREFIX}request_duration_seconds`,
      help: "Time from a request's arrival to its end (the last byte of a stream), by route.",
      labelNames: ["route"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#ttfb = new TallyHistogram({
      name: `${PREFIX}time_to_first_byte_seconds`,
      help: "Time from a request's arrival until its answer starts reaching the client (a stream's first " +
        "bytes; a unary answer once read whole), by route.",
      labelNames: ["route"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const tokensTotal = this.#tokensTotal;
    new client.Counter({
      name: `${PREFIX}tokens_total`,
      help: "Gemini tokens by direction (input: prompt; output: candidates and thoughts) and model.",
      labelNames: ["direction", "model"] as const,
      registers,
      collect() {
        tokensTotal.foldInto(this);
      },
    });
    const open = this.#open;
    const models = this.#models;
    new client.Gauge({
      name: `${PREFIX}open_streams`,
      help: "Streamed answers passing through now.",
      registers,
      aggregator: "sum",
      collect() {
        this.set(open.streams);
      },
    });
    new client.Gauge({
      name: `${PREFIX}live_sessions`,
      help: "Live API sessions open now.",
      registers,
      aggregator: "sum",
      collect() {
        this.set(o.liveSessions?.() ?? 0);
      },
    });
    new client.Gauge({
      name: `${PREFIX}kv_write_queue`,
      help: "Changes waiting to be written to KV, by store.",
      labelNames: ["store"] as const,
      registers,
      aggregator: "sum",
      collect() {
        for (const [store, n] of Object.entries(o.queues())) this.set({ store }, n);
      },
    });
    new client.Gauge({
      name: `${PREFIX}keys`,
      help: "API keys by state (active, cooling: some model cooling down, disabled).",
      labelNames: ["state"] as const,
      registers,
      aggregator: "max",
      collect() {
        for (const [state, n] of Object.entries(o.keyStates())) this.set({ state }, n);
      },
    });
    new client.Gauge({
      name: `${PREFIX}key_next_free_seconds`,
      help:
        "Seconds until the next key can serve the model (0: one can now; +Inf: none will without an admin).",
      labelNames: ["model"] as const,
      registers,
      aggregator: "max",
      collect() {
        this.reset();
        const next = o.nextFree();
        const now = (o.now ?? Date.now)(); // after: a key free now says "now" (0 s), never later
        for (const { model, freeAt } of next) {
          this.set({ model: models.of(model) }, Math.max(0, (freeAt - now) / 1000));
        }
      },
    });
    // One capacity report per scrape, shared by the capacity series' collect() calls (made within a few
    // ms of each other; a snapshot right after a share change must not reuse figures from before it).
    let capacity: { at: number; samples: CapacitySample[] } | undefined;
    const capacitySamples = (): CapacitySample[] => {
      const now = (o.now ?? Date.now)();
      if (!capacity || now - capacity.at > 100) capacity = { at: now, samples: o.capacity?.() ?? [] };
      return capacity.samples;
    };
    for (const series of o.capacity ? CAPACITY_SERIES : []) {
      new client.Gauge({
        name: `${PREFIX}${series.name.replace(/^gateway_/, "")}`,
        help: series.help,
        labelNames: ["model"] as const,
        registers,
        aggregator: series.perGateway ? "sum" : "max",
        collect() {
          this.reset();
          for (const sample of capacitySamples()) {
            if (sample.name === series.name) {
              this.set({ model: models.of(sample.labels.model) }, sample.value);
            }
          }
        },
      });
    }
    new client.Gauge({
      name: `${PREFIX}gateways`,
      help: "Gateways (workers, processes, instances) serving from this KV database.",
      registers,
      aggregator: "max",
      collect() {
        this.set(o.members.aliveIds().length);
      },
    });
  }

  /** Counts a finished request (a record sink; never blocks). */
  record(rec: RequestRecord): void {
    const model = this.#models.of(rec.model);
    this.#requests.add([rec.route, model, statusLabel(rec.status), this.#tokens.of(rec.tokenName)]);
    this.#latency.observe([rec.route], rec.latencyMs / 1000);
    if (rec.inputTokens) this.#tokensTotal.add(["input", model], rec.inputTokens);
    if (rec.outputTokens) this.#tokensTotal.add(["output", model], rec.outputTokens);
  }

  /** The pipeline hooks: attempts by outcome, time to first byte, open streams. */
  readonly observer: ForwardObserver = {
    attempt: (start) => (end) => {
      this.#attempts.add([end.outcome, this.#models.of(start.model)]);
      if (end.outcome === "ok") this.#ttfb.observe([start.route], end.elapsedMs / 1000);
    },
    stream: () => this.#opened("streams"),
  };

  /** Counts one more open thing; the returned function closes it (once). */
  #opened(what: "streams"): () => void {
    this.#open[what]++;
    let open = true;
    return () => {
      if (open) this.#open[what]--;
      open = false;
    };
  }

  /** Starts writing snapshots to KV. */
  start(): void {
    // One snapshot at a time: while the store is slow or failing, ticks are skipped, not queued.
    this.#timer = setInterval(oneAtATime(() => this.snapshot()), SNAPSHOT_MS) as unknown as number;
    Deno.unrefTimer(this.#timer);
  }

  /** Writes this gateway's snapshot to KV now. */
  async snapshot(): Promise<void> {
    if (this.#stopped) return;
    const text = JSON.stringify(await this.registry.getMetricsAsJSON());
    const { kv, members } = this.o;
    const op = kv.atomic();
    const chunks = Math.max(1, Math.ceil(text.length / CHUNK_CHARS));
    for (let i = 0; i < chunks; i++) {
      const piece: SnapshotPiece = { of: chunks, text: text.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS) };
      op.set(["prom", members.id, i], piece, { expireIn: SNAPSHOT_MS * 6 });
    }
    await op.commit();
  }

  /** The text exposition of every live gateway's metrics. */
  async render(): Promise<string> {
    const { kv, members } = this.o;
    const all: Json[] = [await this.registry.getMetricsAsJSON()];
    for (const id of members.aliveIds()) {
      if (id === members.id) continue;
      const pieces = await Array.fromAsync(kv.list<SnapshotPiece>({ prefix: ["prom", id] }), (e) => e.value);
      const of = pieces[0]?.of ?? 0;
      if (of && pieces.length >= of) all.push(JSON.parse(pieces.slice(0, of).map((p) => p.text).join("")));
    }
    return await client.AggregatorRegistry.aggregate(all).metrics();
  }

  /** Stops the snapshots and removes this gateway's. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const op = this.o.kv.atomic();
    for await (const e of this.o.kv.list({ prefix: ["prom", this.o.members.id] })) op.delete(e.key);
    await op.commit().catch(() => {});
  }
}

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;
