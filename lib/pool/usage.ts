/**
 * Usage counters (requests, successes, 429s, tokens) per key, model and Pacific day, and per client
 * token. Counted in memory on the request path and flushed to KV every `WRITE_BEHIND_MS` (a hard kill
 * loses at most that much); a write the store refuses is kept and retried.
 *
 * KV layout (owned here; `day` is the Pacific day, `YYYY-MM-DD`, Google's daily quotas count):
 * - `["usage", day, keyId, model, metric]`: a key's folded totals, a `Deno.KvU64` sum per counter;
 * - `["usagebatch", day, instance, shard, seq]`: a key's counts not folded yet: each flush writes the
 *   keys' counts as a few compact batch values (`usage_batch.ts`: rows of key, model and counts, split
 *   into {@link SHARDS} shards by key id), so a pool of 10,000 keys in round robin costs a few writes per
 *   flush instead of ~4 sums per request. `instance` is the writing counter's random id.
 *   Every {@link FOLD_MS} (10 min, and at close) a counter folds its own batches into the sums, shard by
 *   shard: each atomic write deletes the batches it folds and adds their merged counts to the sums, so
 *   every count is in exactly one place (a batch or a sum) at every commit, and an interrupted fold
 *   neither loses nor double counts. Every {@link COMPACT_MS} (1 min) in between, and before a fold when
 *   merging saves many sums, a shard's batches are compacted: one atomic write deletes them and writes
 *   their merged rows as new batches (each foldable in one write), so readers read a few batches per
 *   shard, not one per flush; a crash between compaction and fold leaves the merged batches, counted.
 * - `["usagerev", day]`: a `Deno.KvU64` every fold write adds 1 to; readers of per-key totals read the
 *   sums and the batches between two reads of it and read again when it moved (a fold ran meanwhile).
 * - `["tokusage", day, tokenName, metric]` and `["tokmodel", day, tokenName, model,
 *   inputTokens|outputTokens]` (tokens of a client token per model, for the cost estimate): `Deno.KvU64`
 *   sums written at each flush (few tokens, and token limits re-read them every 2 s).
 * Counts of several counters, workers or processes on one KV add up: batches carry their writer's id,
 * and sums are atomic additions. Batches of a counter killed before its fold (SIGKILL) stay in KV,
 * counted by readers; no other counter folds them.
 *
 * @module
 */
import { pacificDay } from "./quota_clock.ts";
import { failureText, retryDelayMs, WRITE_BEHIND_MS, WriteChain } from "../kv/write_behind.ts";
import {
  addRow,
  type Batch,
  decodeBatch,
  encodeBatches,
  FoldPlan,
  keyBytes,
  mergeRows,
  METRIC_KEY_BYTES,
  METRICS,
  OP_MUTATIONS,
  OpBudget,
  rowMutations,
  shardOf,
  SHARDS,
  type UsageRow,
  utf8Max,
} from "./usage_batch.ts";

/** One usage sample. */
export interface UsageDelta {
  requests?: number;
  ok?: number;
  rateLimited?: number;
  errors?: number;
  inputTokens?: number;
  outputTokens?: number;
}

/** Summed usage. */
export type UsageTotals = Required<UsageDelta>;

/** Adds a sample into `sums`. */
function add(sums: UsageTotals, delta: UsageDelta): void {
  // Plain field additions: this runs for every upstream call.
  if (delta.requests) sums.requests += delta.requests;
  if (delta.ok) sums.ok += delta.ok;
  if (delta.rateLimited) sums.rateLimited += delta.rateLimited;
  if (delta.errors) sums.errors += delta.errors;
  if (delta.inputTokens) sums.inputTokens += delta.inputTokens;
  if (delta.outputTokens) sums.outputTokens += delta.outputTokens;
}

/** An empty {@link UsageTotals}. */
export function emptyUsage(): UsageTotals {
  return { requests: 0, ok: 0, rateLimited: 0, errors: 0, inputTokens: 0, outputTokens: 0 };
}

/**
 * How often a counter compacts its batches (ms): merges each shard's batches into a few (no sums), so
 * readers read a bounded number of batches whatever the traffic.
 */
export const COMPACT_MS = 60_000;
/**
 * How often a counter folds its batches into the per-key sums (ms; and at close). Each fold costs a sum
 * per key, model and counter seen since the last one (KV sums are the expensive writes: ~40,000 a fold
 * for 10,000 keys), so it runs rarely; compaction keeps the batches few meanwhile.
 */
export const FOLD_MS = 600_000;
/** Most bytes of merged rows one compaction writes (estimated; KV takes 800 KiB per atomic write). */
const COMPACT_BYTES = 400_000;
/** Readers retry this many times when a fold moved counts while they read. */
const READ_ATTEMPTS = 8;

/** The sums waiting to be written under one KV key prefix (`[...key, metric]` per counter). */
interface PendingGroup {
  key: Deno.KvKey;
  sums: UsageTotals;
}

/** Counters of `sums` that are not zero. */
function nonZero(sums: UsageTotals): number {
  let n = 0;
  for (const metric of METRICS) if (sums[metric]) n++;
  return n;
}

/** One piece of a flush: written by `apply`, put back in memory by `restore` when the write fails. */
interface FlushUnit {
  cost: { mutations: number; keys: number; values?: number };
  apply(op: Deno.AtomicOperation): void;
  restore(): void;
  /** The day of a batch (folded later) and its shard (`day\0shard`, compacted later). */
  day?: string;
  shard?: string;
}

/** Options for {@link UsageCounter}. */
export interface UsageCounterOptions {
  /** Write-behind delay (ms; default `WRITE_BEHIND_MS`). */
  flushMs?: number;
  /** Compaction interval (ms; default {@link COMPACT_MS}). */
  compactMs?: number;
  /** Fold interval (ms; default {@link FOLD_MS}). */
  foldMs?: number;
}

/** A row's counts added from a sample. */
function addDelta(row: UsageRow, delta: UsageDelta): void {
  if (delta.requests) row[2] = (row[2] as number) + delta.requests;
  if (delta.ok) row[3] = (row[3] as number) + delta.ok;
  if (delta.rateLimited) row[4] = (row[4] as number) + delta.rateLimited;
  if (delta.errors) row[5] = (row[5] as number) + delta.errors;
  if (delta.inputTokens) row[6] = (row[6] as number) + delta.inputTokens;
  if (delta.outputTokens) row[7] = (row[7] as number) + delta.outputTokens;
}

/**
 * Counts usage in memory and writes it behind: per-key counts as batches folded into sums every
 * {@link FOLD_MS}, client tokens' counts as sums (module docs: the KV layout).
 */
export class UsageCounter {
  /** Client-token groups by their KV key prefix joined with NUL (`tokusage\0day\0token`, ...). */
  #pending = new Map<string, PendingGroup>();
  /** Per-key rows by `day\0keyId\0model`. */
  #rows = new Map<string, { day: string; row: UsageRow }>();
  #timer?: number;
  #foldTimer?: number;
  #failures = 0;
  #foldFailures = 0;
  #closed = false;
  #seq = 0;
  /** Days this counter wrote batches for that are not folded yet. */
  readonly #days = new Set<string>();
  /** Shards (`day\0shard`) flushes wrote batches to since their last compaction. */
  readonly #fresh = new Set<string>();
  readonly #writes = new WriteChain();
  readonly #flushMs: number;
  readonly #foldMs: number;
  readonly #compactMs: number;
  #lastFold = Date.now();
  /** This counter's id in its batches' keys. */
  readonly instance = crypto.randomUUID().slice(0, 13);

  constructor(private readonly kv: Deno.Kv, options: UsageCounterOptions = {}) {
    this.#flushMs = options.flushMs ?? WRITE_BEHIND_MS;
    this.#foldMs = options.foldMs ?? FOLD_MS;
    this.#compactMs = options.compactMs ?? COMPACT_MS;
  }

  /**
   * Counts one upstream call of a key (and of the client token that made it) for today's Pacific day.
   * `model` is the real model id (`-` when the call named none). Plain additions in memory (no KV).
   */
  count(call: { keyId: string; model?: string; tokenName?: string }, delta: UsageDelta): void {
    const day = pacificDay(Date.now());
    const model = call.model ?? "-";
    const pending = this.#pending;
    let id = `${day}\0${call.keyId}\0${model}`;
    let entry = this.#rows.get(id);
    if (!entry) this.#rows.set(id, entry = { day, row: [call.keyId, model, 0, 0, 0, 0, 0, 0] });
    addDelta(entry.row, delta);
    const token = call.tokenName;
    if (token) {
      id = `tokusage\0${day}\0${token}`;
      add((pending.get(id) ?? this.#group(id, ["tokusage", day, token])).sums, delta);
      if (delta.inputTokens || delta.outputTokens) {
        id = `tokmodel\0${day}\0${token}\0${model}`;
        const sums = (pending.get(id) ?? this.#group(id, ["tokmodel", day, token, model])).sums;
        sums.inputTokens += delta.inputTokens ?? 0;
        sums.outputTokens += delta.outputTokens ?? 0;
      }
    }
    this.#schedule(this.#flushMs);
  }

  /** The pending group `id` (its KV key prefix joined with NUL), created empty for `key`. */
  #group(id: string, key: Deno.KvKey): PendingGroup {
    let group = this.#pending.get(id);
    if (!group) this.#pending.set(id, group = { key, sums: emptyUsage() });
    return group;
  }

  /** A per-key row put back in memory (a write that failed), added to what was counted meanwhile. */
  #restoreRow(day: string, row: UsageRow): void {
    const id = `${day}\0${row[0]}\0${row[1]}`;
    const entry = this.#rows.get(id);
    if (entry) addRow(entry.row, row);
    else this.#rows.set(id, { day, row });
  }

  /** One day's totals per key id (summed over models). */
  async perKey(day: string): Promise<Map<string, UsageTotals>> {
    const out = new Map<string, UsageTotals>();
    for (const [group, t] of await this.perKeyAndModel(day)) {
      const id = group.split("|")[0];
      const acc = out.get(id) ?? emptyUsage();
      for (const k of Object.keys(acc) as Array<keyof UsageTotals>) acc[k] += t[k];
      out.set(id, acc);
    }
    return out;
  }

  /**
   * One day's totals per key id and model, keyed `keyId|model`: the folded sums plus the batches not
   * folded yet (every counter's), read again when a fold moved counts from batches to sums meanwhile.
   */
  async perKeyAndModel(day: string): Promise<Map<string, UsageTotals>> {
    const rev = ["usagerev", day];
    let out = new Map<string, UsageTotals>();
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const before = (await this.kv.get(rev)).versionstamp;
      out = await this.#read(["usage", day]);
      for await (const e of this.kv.list({ prefix: ["usagebatch", day] })) {
        for (const row of decodeBatch(e.value)) {
          const group = `${row[0]}|${row[1]}`;
          let t = out.get(group);
          if (!t) out.set(group, t = emptyUsage());
          for (let i = 0; i < METRICS.length; i++) t[METRICS[i]] += Number(row[i + 2]) || 0;
        }
      }
      if ((await this.kv.get(rev)).versionstamp === before) break;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
    return out;
  }

  /** One day's tokens per client token name and model, keyed `tokenName|model`. */
  perTokenAndModel(day: string): Promise<Map<string, UsageTotals>> {
    return this.#read(["tokmodel", day]);
  }

  /** One day's totals per client token name (every token, or only `names`). */
  async perToken(day: string, names?: readonly string[]): Promise<Map<string, UsageTotals>> {
    if (!names) return this.#read(["tokusage", day]);
    const out = new Map<string, UsageTotals>();
    for (const name of names) {
      const t = (await this.#read(["tokusage", day, name])).get("");
      if (t) out.set(name, t);
    }
    return out;
  }

  /** A token's increments counted but not yet written to KV (the counters that are not zero). */
  pendingForToken(day: string, name: string): UsageDelta {
    const sums = this.#pending.get(`tokusage\0${day}\0${name}`)?.sums;
    const out: UsageDelta = {};
    for (const metric of METRICS) if (sums?.[metric]) out[metric] = sums[metric];
    return out;
  }

  /** Number of counter groups waiting to be written (the KV write queue). */
  get queued(): number {
    return this.#pending.size + this.#rows.size;
  }

  #schedule(ms: number): void {
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setTimeout(() => void this.flush(), ms) as unknown as number;
    }
  }

  #scheduleFold(ms: number): void {
    if (this.#foldTimer === undefined && !this.#closed) {
      this.#foldTimer = setTimeout(() => {
        this.#foldTimer = undefined;
        const full = Date.now() - this.#lastFold >= this.#foldMs;
        void this.#writes.run(() => this.#foldAll(full));
      }, ms) as unknown as number;
    }
  }

  /**
   * Writes every pending increment now (after a write already running). Increments the store refuses
   * are kept (and retried), so a failing KV delays counts instead of losing them.
   */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#writes.run(() => this.#write());
  }

  /**
   * Folds this counter's batches into the per-key sums now (after a write already running). A fold
   * the store refuses is retried later; its batches stay counted meanwhile.
   */
  fold(): Promise<void> {
    clearTimeout(this.#foldTimer);
    this.#foldTimer = undefined;
    return this.#writes.run(() => this.#foldAll(true));
  }

  /**
   * Compacts this counter's batches now (after a write already running): each shard's batches merged
   * into a few, no sums written. A compaction the store refuses is retried later.
   */
  compact(): Promise<void> {
    clearTimeout(this.#foldTimer);
    this.#foldTimer = undefined;
    return this.#writes.run(() => this.#foldAll(false));
  }

  /** The pieces of a flush: per-key batches (by day and shard) and client-token sums. */
  #units(): FlushUnit[] {
    const units: FlushUnit[] = [];
    const shards = new Map<string, UsageRow[]>();
    for (const { day, row } of this.#rows.values()) {
      const id = `${day}\0${shardOf(row[0])}`;
      const rows = shards.get(id);
      if (rows) rows.push(row);
      else shards.set(id, [row]);
    }
    this.#rows.clear();
    for (const [id, rows] of shards) {
      const [day, shard] = id.split("\0");
      for (const batch of encodeBatches(rows)) {
        const key = ["usagebatch", day, this.instance, Number(shard), ++this.#seq];
        units.push({
          cost: { mutations: 1, keys: keyBytes(key), values: batch.bytes.length },
          apply: (op) => op.set(key, batch.bytes),
          restore: () => batch.rows.forEach((row) => this.#restoreRow(day, row)),
          day,
          shard: id,
        });
      }
    }
    for (const [id, { key, sums }] of this.#pending) {
      const n = nonZero(sums);
      units.push({
        cost: { mutations: n, keys: n * (keyBytes(key) + METRIC_KEY_BYTES), values: 8 * n },
        apply: (op) => {
          for (const metric of METRICS) {
            if (sums[metric]) op.sum([...key, metric], BigInt(Math.round(sums[metric])));
          }
        },
        restore: () => add(this.#group(id, key).sums, sums),
      });
    }
    this.#pending.clear();
    return units;
  }

  async #write(): Promise<void> {
    const units = this.#units();
    for (let i = 0; i < units.length;) {
      const op = this.kv.atomic();
      const start = i;
      const budget = new OpBudget();
      while (i < units.length && (budget.empty || budget.fits(units[i].cost))) {
        budget.take(units[i].cost);
        units[i++].apply(op);
      }
      try {
        await op.commit();
      } catch (e) {
        // Kept for the retry, added to what was counted meanwhile.
        for (const unit of units.slice(start)) unit.restore();
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#schedule(retryDelayMs(++this.#failures));
        if (this.#failures === 1) {
          console.error("usage: flush failed (will retry):", failureText(e));
        }
        return;
      }
      for (let j = start; j < i; j++) {
        const { day, shard } = units[j];
        if (day !== undefined) this.#days.add(day);
        if (shard !== undefined) this.#fresh.add(shard);
      }
    }
    this.#failures = 0;
    if (this.#days.size) this.#scheduleFold(this.#compactMs);
  }

  /**
   * Folds (`full`) or compacts every day this counter has batches of; a failure keeps the day for a
   * later try. Then the next compaction is scheduled while batches are left.
   */
  async #foldAll(full: boolean): Promise<void> {
    for (const day of [...this.#days]) {
      try {
        for (let shard = 0; shard < SHARDS; shard++) {
          if (full) await this.#foldShard(day, shard);
          else await this.#compactShard(day, shard);
        }
        if (full) this.#days.delete(day);
      } catch (e) {
        if (this.#foldFailures++ === 0) console.error("usage: fold failed (will retry):", failureText(e));
        this.#scheduleFold(retryDelayMs(this.#foldFailures));
        return;
      }
    }
    this.#foldFailures = 0;
    if (full) this.#lastFold = Date.now();
    if (this.#days.size) this.#scheduleFold(this.#compactMs);
  }

  /** Compacts one shard's batches when flushes added some since its last compaction. */
  async #compactShard(day: string, shard: number): Promise<void> {
    const id = `${day}\0${shard}`;
    if (!this.#fresh.has(id)) return;
    const batches = await this.#batches(day, shard);
    if (batches.length > 1) await this.#compact(day, shard, batches);
    this.#fresh.delete(id);
  }

  /** This counter's batches of one day and shard. */
  async #batches(day: string, shard: number): Promise<Batch[]> {
    const out: Batch[] = [];
    for await (const e of this.kv.list({ prefix: ["usagebatch", day, this.instance, shard] })) {
      out.push({ key: e.key, rows: decodeBatch(e.value) });
    }
    return out;
  }

  /**
   * Folds one shard: its batches, greedily grouped into atomic writes that each delete their batches
   * and add their merged counts to the sums; compacted first when merging all of them saves many sums.
   */
  async #foldShard(day: string, shard: number): Promise<void> {
    let batches = await this.#batches(day, shard);
    if (!batches.length) return;
    let plans = this.#plan(day, batches);
    const planned = plans.reduce((n, p) => n + p.sums, 0);
    const merged = mergeRows(batches.flatMap((b) => b.rows)).reduce((n, r) => n + rowMutations(r), 0);
    if (plans.length > 1 && planned > 2 * merged) {
      await this.#compact(day, shard, batches);
      batches = await this.#batches(day, shard);
      plans = this.#plan(day, batches);
    }
    for (const plan of plans) {
      const op = this.kv.atomic().sum(["usagerev", day], 1n);
      for (const b of plan.batches) op.delete(b.key);
      for (const row of plan.rows.values()) {
        for (let i = 0; i < METRICS.length; i++) {
          const n = Math.round(Number(row[i + 2]) || 0);
          if (n) op.sum(["usage", day, row[0], row[1], METRICS[i]], BigInt(n));
        }
      }
      await op.commit();
    }
  }

  /** Groups batches into fold writes that fit KV's limits (in order). */
  #plan(day: string, batches: Batch[]): FoldPlan[] {
    const plans: FoldPlan[] = [];
    let plan = new FoldPlan(day);
    for (const b of batches) {
      if (plan.add(b)) continue;
      plans.push(plan);
      plan = new FoldPlan(day);
      plan.add(b);
    }
    if (plan.batches.length) plans.push(plan);
    return plans;
  }

  /**
   * Replaces batches by their merged rows (as new batches, each foldable in one write), in atomic
   * writes that each delete the batches they merge: a crash between them loses and doubles nothing.
   */
  async #compact(day: string, shard: number, batches: Batch[]): Promise<void> {
    for (let i = 0; i < batches.length;) {
      const group: Batch[] = [];
      const merged = new Map<string, UsageRow>();
      let bytes = 0;
      while (i < batches.length && group.length < OP_MUTATIONS / 2) {
        const rows = batches[i].rows;
        const ids = rows.map((row) => `${row[0]}\0${row[1]}`);
        let more = 0;
        // At most: the two names plus six counts of up to 12 digits and the JSON around them.
        for (let r = 0; r < rows.length; r++) {
          if (!merged.has(ids[r])) more += utf8Max(rows[r][0]) + utf8Max(rows[r][1]) + 90;
        }
        if (group.length && bytes + more > COMPACT_BYTES) break;
        for (let r = 0; r < rows.length; r++) {
          const had = merged.get(ids[r]);
          if (had) addRow(had, rows[r]);
          else merged.set(ids[r], [...rows[r]]);
        }
        bytes += more;
        group.push(batches[i++]);
      }
      const parts = encodeBatches([...merged.values()]);
      const op = this.kv.atomic().sum(["usagerev", day], 1n);
      for (const b of group) op.delete(b.key);
      for (const part of parts) op.set(["usagebatch", day, this.instance, shard, ++this.#seq], part.bytes);
      await op.commit();
    }
  }

  /** Writes what is pending, folds this counter's batches, and stops (refused writes are dropped). */
  async close(): Promise<void> {
    await this.flush();
    await this.fold();
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#foldTimer);
    this.#timer = this.#foldTimer = undefined;
  }

  /** Reads summed counters under `prefix`, grouped by the key parts between prefix and metric. */
  async #read(prefix: Deno.KvKey): Promise<Map<string, UsageTotals>> {
    const out = new Map<string, UsageTotals>();
    for await (const e of this.kv.list<Deno.KvU64>({ prefix })) {
      const parts = e.key.slice(prefix.length);
      const metric = String(parts.pop());
      const group = parts.join("|");
      let t = out.get(group);
      if (!t) out.set(group, t = emptyUsage());
      if (metric in t) t[metric as keyof UsageTotals] += Number(e.value.value);
    }
    return out;
  }
}
