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
import { failureText, retryDelayMs, WRITE_BEHIND_MS } from "../kv/write_behind.ts";

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

/** An empty {@link UsageTotals}. */
export function emptyUsage(): UsageTotals {
  return { requests: 0, ok: 0, rateLimited: 0, errors: 0, inputTokens: 0, outputTokens: 0 };
}

const MAX_MUTATIONS = 500;

/** Batches counter increments into KV atomic sums. */
export class UsageCounter {
  #pending = new Map<string, { key: Deno.KvKey; delta: Map<string, number> }>();
  #timer?: number;
  #failures = 0;
  #closed = false;

  constructor(private readonly kv: Deno.Kv, private readonly flushMs = WRITE_BEHIND_MS) {}

  /**
   * Counts one upstream call of a key (and of the client token that made it) for today's Pacific day.
   * `model` is the real model id (`-` when the call named none).
   */
  count(call: { keyId: string; model?: string; tokenName?: string }, delta: UsageDelta): void {
    const day = pacificDay(Date.now());
    this.#add(["usage", day, call.keyId, call.model ?? "-"], delta);
    if (call.tokenName) {
      this.#add(["tokusage", day, call.tokenName], delta);
      if (delta.inputTokens || delta.outputTokens) {
        this.#add(["tokmodel", day, call.tokenName, call.model ?? "-"], {
          inputTokens: delta.inputTokens,
          outputTokens: delta.outputTokens,
        });
      }
    }
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

  /** A token's increments counted but not yet written to KV. */
  pendingForToken(day: string, name: string): UsageDelta {
    const p = this.#pending.get(["tokusage", day, name].join("\u0000"));
    return p ? Object.fromEntries(p.delta) : {};
  }

  /** Number of counter groups waiting to be written (the KV write queue). */
  get queued(): number {
    return this.#pending.size;
  }

  #add(key: Deno.KvKey, delta: UsageDelta | Map<string, number>): void {
    const id = key.join("\u0000");
    let p = this.#pending.get(id);
    if (!p) this.#pending.set(id, p = { key, delta: new Map() });
    const sums = p.delta;
    if (delta instanceof Map) {
      for (const [metric, n] of delta) if (n) sums.set(metric, (sums.get(metric) ?? 0) + n);
    } else {
      // `for...in` over the sample's few fields: no entries array per request.
      for (const metric in delta) {
        const n = delta[metric as keyof UsageDelta];
        if (n) sums.set(metric, (sums.get(metric) ?? 0) + n);
      }
    }
    this.#schedule(this.flushMs);
  }

  #schedule(ms: number): void {
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setTimeout(() => void this.flush(), ms) as unknown as number;
    }
  }

  /**
   * Writes every pending increment now. Increments the store refuses are kept (and retried), so a
   * failing KV delays counts instead of losing them.
   */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const items = [...this.#pending.values()];
    this.#pending.clear();
    for (let i = 0; i < items.length;) {
      const op = this.kv.atomic();
      const batch: typeof items = [];
      let count = 0;
      while (i < items.length && count + items[i].delta.size <= MAX_MUTATIONS) {
        for (const [metric, n] of items[i].delta) op.sum([...items[i].key, metric], BigInt(Math.round(n)));
        count += items[i].delta.size;
        batch.push(items[i++]);
      }
      try {
        await op.commit();
      } catch (e) {
        for (const { key, delta } of [...batch, ...items.slice(i)]) this.#add(key, delta);
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
