/**
 * Usage counters (requests, successes, 429s, tokens) per key, model and Pacific day, and per client
 * token. Counted in memory on the request path and flushed to KV in batched atomic sums.
 *
 * @module
 */

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

  /** Adds `delta` to the counters under `key` (for example `["usage", day, keyId, model]`). */
  add(key: Deno.KvKey, delta: UsageDelta): void {
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
  async read(prefix: Deno.KvKey): Promise<Map<string, UsageTotals>> {
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
