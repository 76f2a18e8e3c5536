/**
 * The per-key usage batch: a compact KV value holding many keys' counts (one row per key and model),
 * so a flush of a large pool's counters is a few KV writes instead of one atomic sum per counter.
 * {@link UsageCounter} (`usage.ts`) writes them and folds them into the per-key sums.
 *
 * A batch is the UTF-8 JSON of `[[keyId, model, requests, ok, rateLimited, errors, inputTokens,
 * outputTokens], ...]` stored as a `Uint8Array` (KV keeps bytes as they are, so the size is known:
 * at most {@link BATCH_BYTES}, under KV's 64 KiB value limit), with at most {@link FOLD_MUTATIONS}
 * counters that are not zero, so any one batch folds into its sums in one atomic write.
 *
 * Limits of one atomic write (Deno KV: 1,000 mutations, 80 KiB of keys, 800 KiB of keys and values;
 * https://docs.deno.com/deploy/kv/manual/transactions/) are kept with margin by {@link OpBudget};
 * {@link FoldPlan} groups stored batches into fold writes that fit them.
 *
 * @module
 */

/** The counters of a sample, in the order of a row (and of `UsageTotals`). */
export const METRICS = ["requests", "ok", "rateLimited", "errors", "inputTokens", "outputTokens"] as const;

/** Key bytes of a sum's last part (the longest metric name). */
export const METRIC_KEY_BYTES = 14;

/** One row of a batch: a key's counts for one model (`model` is `-` when the call named none). */
export type UsageRow = [keyId: string, model: string, ...counts: number[]];

/** Most bytes of one batch value (KV refuses values over 65,536 bytes). */
export const BATCH_BYTES = 60_000;
/** Most non-zero counters in one batch, so one batch always folds in one atomic write. */
export const FOLD_MUTATIONS = 450;

/**
 * Batches of one flush are split by a hash of the key id into this many shards, so folding one shard
 * merges a bounded number of keys (a pool of 10,000 keys: ~625 a shard) whatever the pool's size.
 */
export const SHARDS = 16;

/** The shard of a key id (a hash of its last characters). */
export function shardOf(keyId: string): number {
  let h = 0;
  for (let i = Math.max(0, keyId.length - 8); i < keyId.length; i++) h = (h * 31 + keyId.charCodeAt(i)) | 0;
  return (h >>> 0) % SHARDS;
}

/** Most mutations, key bytes and key + value bytes this module puts in one atomic write. */
export const OP_MUTATIONS = 500;
const OP_KEY_BYTES = 64_000;
const OP_BYTES = 640_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Counters of `row` that are not zero (each is one sum when the row is folded). */
export function rowMutations(row: UsageRow): number {
  let n = 0;
  for (let i = 2; i < row.length; i++) if (row[i]) n++;
  return n;
}

/** Adds the counts of `row` into `into` (same key and model). */
export function addRow(into: UsageRow, row: UsageRow): void {
  for (let i = 2; i < row.length; i++) into[i] = (into[i] as number) + (row[i] as number);
}

/** Merges rows with the same key and model (rows are copied; `rows` are not changed). */
export function mergeRows(rows: Iterable<UsageRow>): UsageRow[] {
  const out = new Map<string, UsageRow>();
  for (const row of rows) {
    const id = `${row[0]}\0${row[1]}`;
    const had = out.get(id);
    if (had) addRow(had, row);
    else out.set(id, [...row]);
  }
  return [...out.values()];
}

/** Bytes of a string in UTF-8, at most (exact for ASCII). */
export function utf8Max(s: string): number {
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s.length : s.length * 3;
}

/**
 * Splits rows into batch values: each at most {@link BATCH_BYTES} bytes and {@link FOLD_MUTATIONS}
 * non-zero counters. Answers the encoded values with their rows.
 */
export function encodeBatches(rows: readonly UsageRow[]): Array<{ bytes: Uint8Array; rows: UsageRow[] }> {
  const out: Array<{ bytes: Uint8Array; rows: UsageRow[] }> = [];
  let texts: string[] = [];
  let chunk: UsageRow[] = [];
  let bytes = 2;
  let mutations = 0;
  const close = () => {
    if (chunk.length) out.push({ bytes: encoder.encode(`[${texts.join(",")}]`), rows: chunk });
    texts = [];
    chunk = [];
    bytes = 2;
    mutations = 0;
  };
  for (const row of rows) {
    const text = JSON.stringify(row);
    const size = utf8Max(text) + 1;
    const m = rowMutations(row);
    if (chunk.length && (bytes + size > BATCH_BYTES || mutations + m > FOLD_MUTATIONS)) close();
    texts.push(text);
    chunk.push(row);
    bytes += size;
    mutations += m;
  }
  close();
  return out;
}

/** The rows of a batch value (an unreadable value has none: it was not written by this module). */
export function decodeBatch(value: unknown): UsageRow[] {
  if (!(value instanceof Uint8Array)) return [];
  const rows = JSON.parse(decoder.decode(value));
  return Array.isArray(rows) ? rows as UsageRow[] : [];
}

/** Bytes a KV key takes, at most (each part: its UTF-8 text or 8 bytes, plus a tag and terminator). */
export function keyBytes(key: Deno.KvKey): number {
  let n = 0;
  for (const part of key) n += (typeof part === "string" ? utf8Max(part) : 8) + 2;
  return n;
}

/**
 * What one atomic write holds so far, against KV's limits (with margin): {@link OpBudget.fits} says
 * whether `mutations` more mutations of `keys` key bytes and `values` value bytes still fit.
 */
export class OpBudget {
  mutations = 0;
  keys = 0;
  bytes = 0;

  fits(more: { mutations: number; keys: number; values?: number }): boolean {
    return this.mutations + more.mutations <= OP_MUTATIONS && this.keys + more.keys <= OP_KEY_BYTES &&
      this.bytes + more.keys + (more.values ?? 0) <= OP_BYTES;
  }

  take(more: { mutations: number; keys: number; values?: number }): void {
    this.mutations += more.mutations;
    this.keys += more.keys;
    this.bytes += more.keys + (more.values ?? 0);
  }

  /** True when nothing was taken yet (a first item always goes in, whatever its size). */
  get empty(): boolean {
    return this.mutations === 0;
  }
}

/** A stored batch: its KV key and rows. */
export interface Batch {
  key: Deno.KvKey;
  rows: UsageRow[];
}

/** The merged rows of a fold write, with what they cost as sums (mutations and key bytes). */
export class FoldPlan {
  readonly rows = new Map<string, UsageRow>();
  readonly budget = new OpBudget();
  readonly batches: Batch[] = [];

  constructor(private readonly day: string) {
    this.budget.take({ mutations: 1, keys: keyBytes(["usagerev", day]) }); // the fold counter
  }

  /** Adds `batch` (its deletion and its sums) when the write still fits; answers whether it did. */
  add(batch: Batch): boolean {
    let mutations = 1;
    let keys = keyBytes(batch.key);
    for (const row of batch.rows) {
      const had = this.rows.get(`${row[0]}\0${row[1]}`);
      let fresh = 0;
      for (let i = 2; i < row.length; i++) if (row[i] && !had?.[i]) fresh++;
      mutations += fresh;
      if (fresh) keys += fresh * (this.#sumKeyBytes(row) + METRIC_KEY_BYTES);
    }
    if (this.batches.length && !this.budget.fits({ mutations, keys })) return false;
    this.budget.take({ mutations, keys, values: 8 * mutations });
    this.batches.push(batch);
    for (const row of batch.rows) {
      const id = `${row[0]}\0${row[1]}`;
      const had = this.rows.get(id);
      if (had) addRow(had, row);
      else this.rows.set(id, [...row]);
    }
    return true;
  }

  #sumKeyBytes(row: UsageRow): number {
    return keyBytes(["usage", this.day]) + utf8Max(row[0]) + utf8Max(row[1]) + 4;
  }

  /** The sums of the merged rows. */
  get sums(): number {
    let n = 0;
    for (const row of this.rows.values()) n += rowMutations(row);
    return n;
  }
}
