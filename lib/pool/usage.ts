/**
 * Usage counters (requests, successes, 429s, tokens) per key, model and Pacific day, and per client
 * token. Counted in memory on the request path and flushed to KV in batched atomic sums every
 * `WRITE_BEHIND_MS` (a hard kill loses at most that much); a batch the store refuses is kept and retried.
 *
 * KV layout (owned here): `["usage", day, keyId, model, metric]`, `["tokusage", day, tokenName,
 * metric]` and `["tokmodel", day, tokenName, model, inputTokens|outputTokens]` (tokens of a client
 * token per model, for the cost estimate), each a `Deno.KvU64` sum; `day` is the Pacific day
 * (`YYYY-MM-DD`) Google's daily quotas count.
 *
 * @module
 */
import { pacificDay } from "./quota_clock.ts";
import { failureText, retryDelayMs, WRITE_BEHIND_MS, WriteChain } from "../kv/write_behind.ts";

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

const MAX_MUTATIONS = 500;
/** The counters of a sample, in the order they are written. */
const METRICS = ["requests", "ok", "rateLimited", "errors", "inputTokens", "outputTokens"] as const;

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

/** Batches counter increments into KV atomic sums. */
export class UsageCounter {
  /** Groups by their KV key prefix joined with NUL (`usage\0day\0keyId\0model`, ...). */
  #pending = new Map<string, PendingGroup>();
  #timer?: number;
  #failures = 0;
  #closed = false;
  readonly #writes = new WriteChain();

  constructor(private readonly kv: Deno.Kv, private readonly flushMs = WRITE_BEHIND_MS) {}

  /**
   * Counts one upstream call of a key (and of the client token that made it) for today's Pacific day.
   * `model` is the real model id (`-` when the call named none). Plain additions in memory (no KV).
   */
  count(call: { keyId: string; model?: string; tokenName?: string }, delta: UsageDelta): void {
    const day = pacificDay(Date.now());
    const model = call.model ?? "-";
    const pending = this.#pending;
    let id = `usage\0${day}\0${call.keyId}\0${model}`;
    add((pending.get(id) ?? this.#group(id, ["usage", day, call.keyId, model])).sums, delta);
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
    this.#schedule(this.flushMs);
  }

  /** The pending group `id` (its KV key prefix joined with NUL), created empty for `key`. */
  #group(id: string, key: Deno.KvKey): PendingGroup {
    let group = this.#pending.get(id);
    if (!group) this.#pending.set(id, group = { key, sums: emptyUsage() });
    return group;
  }

  /** One day's totals per key id (summed over models). */
  async perKey(day: string): Promise<Map<string, UsageTotals>> {
    const out = new Map<string, UsageTotals>();
    for (const [group, t] of await this.#read(["usage", day])) {
      const id = group.split("|")[0];
      const acc = out.get(id) ?? emptyUsage();
      for (const k of Object.keys(acc) as Array<keyof UsageTotals>) acc[k] += t[k];
      out.set(id, acc);
    }
    return out;
  }

  /** One day's totals per key id and model, keyed `keyId|model`. */
  perKeyAndModel(day: string): Promise<Map<string, UsageTotals>> {
    return this.#read(["usage", day]);
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
    return this.#pending.size;
  }

  #schedule(ms: number): void {
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setTimeout(() => void this.flush(), ms) as unknown as number;
    }
  }

  /**
   * Writes every pending increment now (after a flush already running). Increments the store refuses
   * are kept (and retried), so a failing KV delays counts instead of losing them.
   */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#writes.run(() => this.#write());
  }

  async #write(): Promise<void> {
    const items = [...this.#pending];
    this.#pending.clear();
    for (let i = 0; i < items.length;) {
      const op = this.kv.atomic();
      const start = i;
      let count = 0;
      while (i < items.length && count + nonZero(items[i][1].sums) <= MAX_MUTATIONS) {
        const { key, sums } = items[i][1];
        for (const metric of METRICS) {
          if (sums[metric]) op.sum([...key, metric], BigInt(Math.round(sums[metric])));
        }
        count += nonZero(sums);
        i++;
      }
      try {
        await op.commit();
      } catch (e) {
        // Kept for the retry, added to what was counted meanwhile.
        for (const [id, { key, sums }] of items.slice(start)) add(this.#group(id, key).sums, sums);
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#schedule(retryDelayMs(++this.#failures));
        if (this.#failures === 1) {
          console.error("usage: flush failed (will retry):", failureText(e));
        }
        return;
      }
    }
    this.#failures = 0;
  }

  /** Writes what is pending and stops retrying (increments the store still refuses are dropped). */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
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
