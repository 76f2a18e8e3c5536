/**
 * Dashboard metrics: finished requests are aggregated in memory per minute (requests, successes,
 * errors, 429s, requests the gateway refused itself (by reason) and client errors apart from both,
 * tokens, a latency histogram, the same per model); dirty minutes are persisted to KV in
 * batches every `WRITE_BEHIND_MS` (minutes the store refuses stay dirty and are retried) under
 * `["metrics", minute, worker]` so they survive restarts and every worker's share is
 * merged at query time. Queries cover 1h (1-minute buckets), 24h (15-minute) and 7d (1-hour).
 *
 * @module
 */
import { outcomeOf, type RequestRecord } from "../pipeline/request_record.ts";
import { binOf, emptyHistogram, mergeHistogram, percentile } from "./histogram.ts";
import { failureText, retryDelayMs, WRITE_BEHIND_MS, WriteChain } from "../kv/write_behind.ts";

/**
 * Counters of one model. `requests` = `ok` + `errors` + `refused` + `clientErrors`; the success rate
 * is `ok / (ok + errors)`: refusals and the clients' own mistakes are not failures of the gateway.
 */
export interface ModelStats {
  requests: number;
  ok: number;
  /** Failed on the gateway's or Google's side (5xx, timeouts, 429s from Google, no key). */
  errors: number;
  /** Refused by the gateway itself (tokens, limits, allow-lists, body size). */
  refused: number;
  /** The client's own mistakes (400, 404, ...) and requests the client abandoned (499). */
  clientErrors: number;
  inputTokens: number;
  outputTokens: number;
}

/** Counters of one bucket (all models). */
export interface BucketCounts extends ModelStats {
  /** Of `errors`: rate limited (429). */
  rateLimited: number;
}

/** One minute of one worker, as stored. */
export interface MinuteBucket extends BucketCounts {
  t: number;
  hist: number[];
  models: Record<string, ModelStats>;
  /** Refused requests by reason (`RefusalReason`). */
  refusals: Record<string, number>;
}

/** One bucket of a metrics answer. */
export interface MetricsBucket extends BucketCounts {
  t: number;
  /** Latency percentiles in ms of served and failed requests (null when the bucket has none). */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The time ranges the dashboard shows. */
export type MetricsRange = "1h" | "24h" | "7d";

/** Length and bucket size per range. */
export const RANGES: Record<MetricsRange, { spanMs: number; bucketMs: number }> = {
  "1h": { spanMs: 3_600_000, bucketMs: 60_000 },
  "24h": { spanMs: 86_400_000, bucketMs: 900_000 },
  "7d": { spanMs: 7 * 86_400_000, bucketMs: 3_600_000 },
};

/** A metrics answer. */
export interface MetricsReport {
  range: MetricsRange;
  bucketMs: number;
  buckets: MetricsBucket[];
  byModel: Array<{ model: string } & ModelStats>;
  /** Refused requests over the range by reason, most first. */
  refusals: Array<{ reason: string; count: number }>;
}

/** Options for {@link Metrics}. */
export interface MetricsOptions {
  kv: Deno.Kv;
  now?: () => number;
  flushMs?: number;
}

const MINUTE = 60_000;
const KEEP_MS = 8 * 86_400_000;
/** Closed 15-minute blocks are cached for the 24h and 7d views. */
const BLOCK = 900_000;
/** A block counts as closed this long after it ends (other workers flush within seconds). */
const SETTLE_MS = 5 * MINUTE;

function emptyModel(): ModelStats {
  return { requests: 0, ok: 0, errors: 0, refused: 0, clientErrors: 0, inputTokens: 0, outputTokens: 0 };
}

function emptyMinute(t: number): MinuteBucket {
  return { t, ...emptyModel(), rateLimited: 0, hist: emptyHistogram(), models: {}, refusals: {} };
}

const MODEL_COUNTERS = [
  "requests",
  "ok",
  "errors",
  "refused",
  "clientErrors",
  "inputTokens",
  "outputTokens",
] as const;
const COUNTERS = [...MODEL_COUNTERS, "rateLimited"] as const;

/** Which counter each outcome adds to (besides `requests`). */
const OUTCOME_COUNTER = {
  ok: "ok",
  refused: "refused",
  client_error: "clientErrors",
  cancelled: "clientErrors",
  rate_limited: "errors",
  error: "errors",
} as const;

/** Counts `n` requests ending in `counter`, with their tokens, into `c`. */
function count(
  c: ModelStats,
  counter: (typeof OUTCOME_COUNTER)[keyof typeof OUTCOME_COUNTER],
  n: number,
  rec: RequestRecord,
): void {
  c.requests += n;
  c[counter] += n;
  c.inputTokens += rec.inputTokens ?? 0;
  c.outputTokens += rec.outputTokens ?? 0;
}

/** Adds minute `m` into `into` (counters, histogram, per model, refusals). */
function mergeMinute(into: MinuteBucket, m: MinuteBucket): void {
  for (const k of COUNTERS) into[k] += m[k] ?? 0;
  mergeHistogram(into.hist, m.hist);
  for (const [model, s] of Object.entries(m.models ?? {})) {
    const t = into.models[model] ??= emptyModel();
    for (const k of MODEL_COUNTERS) t[k] += s[k] ?? 0;
  }
  for (const [reason, n] of Object.entries(m.refusals ?? {})) {
    into.refusals[reason] = (into.refusals[reason] ?? 0) + n;
  }
}

/** In-memory per-minute aggregation, persisted to KV. */
export class Metrics {
  readonly worker = crypto.randomUUID().slice(0, 8);
  #minutes = new Map<number, MinuteBucket>();
  #dirty = new Set<number>();
  #blocks = new Map<number, MinuteBucket>();
  #timer?: number;
  #now: () => number;
  #closed = false;
  #failures = 0;
  readonly #writes = new WriteChain();

  constructor(private readonly o: MetricsOptions) {
    this.#now = o.now ?? Date.now;
  }

  /** Counts a finished request (a record sink; never blocks). */
  record(rec: RequestRecord): void {
    if (this.#closed) return;
    const t = Math.floor(rec.time / MINUTE) * MINUTE;
    let m = this.#minutes.get(t);
    if (!m) this.#minutes.set(t, m = emptyMinute(t));
    const n = rec.count ?? 1;
    const outcome = outcomeOf(rec);
    const counter = OUTCOME_COUNTER[outcome];
    // Plain increments: this runs once per request.
    count(m, counter, n, rec);
    count(m.models[rec.model ?? "-"] ??= emptyModel(), counter, n, rec);
    if (outcome === "rate_limited") m.rateLimited += n;
    if (rec.refusal) m.refusals[rec.refusal] = (m.refusals[rec.refusal] ?? 0) + n;
    // Latency is the time to serve: refusals and the clients' own mistakes would only pull it down.
    if (counter === "ok" || counter === "errors") m.hist[binOf(rec.latencyMs)] += n;
    this.#dirty.add(t);
    this.#schedule(this.o.flushMs ?? WRITE_BEHIND_MS);
  }

  #schedule(ms: number): void {
    if (this.#timer === undefined && !(this.#closed && this.#failures)) {
      this.#timer = setTimeout(() => void this.flush(), ms) as unknown as number;
    }
  }

  /** Minutes waiting to be written (the KV write queue). */
  get queued(): number {
    return this.#dirty.size;
  }

  /** Writes dirty minutes to KV (after a flush already running) and forgets minutes that are done. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#writes.run(() => this.#write());
  }

  async #write(): Promise<void> {
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    for (let i = 0; i < dirty.length; i += 50) {
      const op = this.o.kv.atomic();
      for (const t of dirty.slice(i, i + 50)) {
        op.set(["metrics", t, this.worker], this.#minutes.get(t)!, { expireIn: KEEP_MS });
      }
      try {
        await op.commit();
      } catch (e) {
        for (const t of dirty.slice(i)) this.#dirty.add(t);
        if (this.#failures++ === 0) {
          console.error("metrics: flush failed (will retry):", failureText(e));
        }
        this.#schedule(retryDelayMs(this.#failures));
        return;
      }
    }
    this.#failures = 0;
    const current = Math.floor(this.#now() / MINUTE) * MINUTE;
    for (const t of this.#minutes.keys()) {
      if (t < current - 2 * MINUTE && !this.#dirty.has(t)) this.#minutes.delete(t);
    }
  }

  /** Buckets for a range, merged over every worker, oldest first. */
  async query(range: MetricsRange): Promise<MetricsReport> {
    await this.flush();
    const { spanMs, bucketMs } = RANGES[range];
    const now = this.#now();
    const end = Math.floor(now / bucketMs) * bucketMs + bucketMs;
    const start = end - Math.ceil(spanMs / bucketMs) * bucketMs;
    const pieces = await this.#pieces({ start, end, unit: Math.min(bucketMs, BLOCK), now });
    const merged = new Map<number, MinuteBucket>();
    for (let t = start; t < end; t += bucketMs) merged.set(t, emptyMinute(t));
    const all = emptyMinute(0);
    for (const [t, piece] of pieces) {
      mergeMinute(merged.get(Math.floor((t - start) / bucketMs) * bucketMs + start)!, piece);
      mergeMinute(all, piece);
    }
    return {
      range,
      bucketMs,
      buckets: [...merged.values()].map((b) => ({
        t: b.t,
        requests: b.requests,
        ok: b.ok,
        errors: b.errors,
        refused: b.refused,
        clientErrors: b.clientErrors,
        rateLimited: b.rateLimited,
        inputTokens: b.inputTokens,
        outputTokens: b.outputTokens,
        p50: b.ok + b.errors ? percentile(b.hist, 0.5) : null,
        p95: b.ok + b.errors ? percentile(b.hist, 0.95) : null,
        p99: b.ok + b.errors ? percentile(b.hist, 0.99) : null,
      })),
      byModel: Object.entries(all.models)
        .map(([model, s]) => ({ model, ...s }))
        .sort((a, b) => b.requests - a.requests),
      refusals: Object.entries(all.refusals)
        .map(([reason, count]) => ({ reason, count }))
        .sort((a, b) => b.count - a.count),
    };
  }

  /**
   * Minutes merged per `unit` (1 minute or a 15-minute block) over [start, end). Closed blocks are
   * cached, so a 7-day view reads KV only from the first block not yet cached.
   */
  async #pieces(
    o: { start: number; end: number; unit: number; now: number },
  ): Promise<Map<number, MinuteBucket>> {
    const { start, end, unit, now } = o;
    const out = new Map<number, MinuteBucket>();
    let firstMissing = end;
    for (let t = start; t < end; t += unit) {
      const cached = unit === BLOCK ? this.#blocks.get(t) : undefined;
      if (cached) out.set(t, cached);
      else firstMissing = Math.min(firstMissing, t);
    }
    if (firstMissing < end) {
      const fresh = new Map<number, MinuteBucket>();
      for (let t = firstMissing; t < end; t += unit) fresh.set(t, emptyMinute(t));
      const iter = this.o.kv.list<MinuteBucket>({ start: ["metrics", firstMissing], end: ["metrics", end] });
      for await (const e of iter) {
        const t = Math.floor(((e.key[1] as number) - firstMissing) / unit) * unit + firstMissing;
        mergeMinute(fresh.get(t)!, e.value);
      }
      for (const [t, b] of fresh) {
        out.set(t, b);
        if (unit === BLOCK && t + BLOCK <= now - SETTLE_MS) this.#blocks.set(t, b);
      }
    }
    for (const t of this.#blocks.keys()) if (t < now - KEEP_MS) this.#blocks.delete(t);
    return out;
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }
}
