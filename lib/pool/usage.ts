/**
 * Usage counters (requests, successes, 429s, tokens) per key, model and Pacific day, and per client
 * token. Counted in memory on the request path and flushed to KV in batched atomic sums.
 *
 * KV layout (owned here): `["usage", day, keyId, model, metric]`, `["tokusage", day, tokenName,
 * metric]` and `["tokmodel", day, tokenName, model, inputTokens|outputTokens]` (tokens of a client
 * token per model, for the cost estimate), each a `Deno.KvU64` sum; `day` is the Pacific day
 * (`YYYY-MM-DD`) Google's daily quotas count.
 *
 * @module
 */
import { pacificDay } from "./quota_clock.ts";

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

  constructor(private readonly kv: Deno.Kv, private readonly flushMs = 1000) {}

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

  /** One day's totals per client token name. */
  perToken(day: string): Promise<Map<string, UsageTotals>> {
    return this.#read(["tokusage", day]);
  }

  #add(key: Deno.KvKey, delta: UsageDelta): void {
    const id = key.join("\u0000");
    let p = this.#pending.get(id);
    if (!p) this.#pending.set(id, p = { key, delta: new Map() });
    for (const [metric, n] of Object.entries(delta)) {
      if (n) p.delta.set(metric, (p.delta.get(metric) ?? 0) + n);
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), this.flushMs) as unknown as number;
    }
  }

  /** Writes every pending increment now. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const items = [...this.#pending.values()];
    this.#pending.clear();
    let op = this.kv.atomic();
    let count = 0;
    for (const { key, delta } of items) {
      for (const [metric, n] of delta) {
        op.sum([...key, metric], BigInt(Math.round(n)));
        if (++count >= MAX_MUTATIONS) {
          await op.commit();
          [op, count] = [this.kv.atomic(), 0];
        }
      }
    }
    if (count) await op.commit().catch((e) => console.error("usage: flush failed:", e));
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
