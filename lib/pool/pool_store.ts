/**
 * Keeps the key pool durable and shared: loads it from KV at start, writes every change in the
 * background (never on the request path), and applies changes made by other workers or processes.
 * A background write that fails is kept and retried (backing off up to 30 s) until the store works
 * again, so nothing is lost while KV is briefly unavailable. Admin changes are written at once with
 * {@link PoolStore.persistKey} / {@link PoolStore.persistPending}, which throw when the store fails.
 *
 * KV layout: `["keys", id]` -> KeyRecord; `["pairs", model, scope]` -> PairSnapshot;
 * `["keysIgnored", id]` -> epoch ms: keys from `GEMINI_API_KEYS` the admin deleted and asked to ignore.
 * Pair writes merge (the later cooldown wins), so concurrent workers never lose each other's updates.
 *
 * @module
 */
import type { ChangeFeed } from "../kv/change_feed.ts";
import type { Dirty, KeyPool, PairSnapshot } from "./key_pool.ts";
import type { KeyRecord } from "./key_record.ts";
import { failureText } from "../kv/write_behind.ts";

/** Options for {@link PoolStore}. */
export interface PoolStoreOptions {
  kv: Deno.Kv;
  feed: ChangeFeed;
  pool: KeyPool;
}

function mergeSnap(a: PairSnapshot | null, b: PairSnapshot): PairSnapshot {
  if (!a) return b;
  const later = b.coolUntil >= a.coolUntil ? b : a;
  return {
    coolUntil: later.coolUntil,
    coolKind: later.coolKind,
    reason: later.reason,
    windowEnd: Math.max(a.windowEnd, b.windowEnd),
    learned: { ...a.learned, ...b.learned },
  };
}

/** Persists and shares the pool's state. */
export class PoolStore {
  #pending = new Map<string, Dirty>();
  #timer?: number;
  #writing?: Promise<unknown>;
  /** Keys being deleted: their state is not written meanwhile. */
  readonly #deleting = new Set<string>();
  #failures = 0;
  #stopped = false;

  constructor(private readonly opts: PoolStoreOptions) {
    opts.pool.onDirty((d) => this.#queue(d));
    opts.feed.on("key", (id) => id ? this.#reloadKey(id) : undefined);
    opts.feed.on("pair", (id) => id ? this.#reloadPair(id) : undefined);
  }

  /** Loads every key and pair state from KV into the pool. */
  async load(): Promise<void> {
    const { kv, pool } = this.opts;
    for await (const e of kv.list<KeyRecord>({ prefix: ["keys"] })) pool.upsert(e.value);
    for await (const e of kv.list<PairSnapshot>({ prefix: ["pairs"] })) {
      const [, model, scope] = e.key as [string, string, string];
      pool.restorePair(model, scope, e.value);
    }
  }

  /** Stores new keys (skipping ones already present) and returns the ids that were added. */
  async addKeys(records: KeyRecord[]): Promise<string[]> {
    const added: string[] = [];
    for (const r of records) {
      const op = this.opts.kv.atomic().check({ key: ["keys", r.id], versionstamp: null }).set(
        ["keys", r.id],
        r,
      );
      this.opts.feed.record(op, { topic: "key", id: r.id });
      if ((await op.commit()).ok) {
        this.opts.pool.upsert(r);
        added.push(r.id);
      } else if (!this.opts.pool.get(r.id)) {
        await this.#reloadKey(r.id);
      }
    }
    return added;
  }

  /**
   * Deletes a key everywhere: from KV first, then from the pool (a failed delete changes nothing). A
   * write of the key's state in flight finishes first, and none starts meanwhile, so a background
   * write cannot put the deleted record back.
   */
  async deleteKey(id: string): Promise<boolean> {
    this.#deleting.add(id);
    try {
      await this.#writing;
      const op = this.opts.kv.atomic().delete(["keys", id]);
      this.opts.feed.record(op, { topic: "key", id });
      await op.commit();
      return this.opts.pool.remove(id);
    } finally {
      this.#deleting.delete(id);
    }
  }

  /** Ids of `GEMINI_API_KEYS` keys the admin deleted and asked not to add again at start. */
  async ignoredEnvKeys(): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const e of this.opts.kv.list({ prefix: ["keysIgnored"] })) out.add(String(e.key[1]));
    return out;
  }

  /** Marks keys as ignored (true) or no longer ignored (false) when they come from the environment. */
  async setEnvKeysIgnored(ids: string[], ignored: boolean): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const op = this.opts.kv.atomic();
      for (const id of ids.slice(i, i + 500)) {
        if (ignored) op.set(["keysIgnored", id], Date.now());
        else op.delete(["keysIgnored", id]);
      }
      await op.commit();
    }
  }

  /** Writes one key's record now. Throws when the store fails. */
  async persistKey(id: string): Promise<void> {
    await this.#writeKey(id);
  }

  /** Writes every queued change now. Throws the first failure (the failed changes stay queued). */
  async persistPending(): Promise<void> {
    await this.#writing;
    const error = await this.#run();
    if (error !== undefined) throw error;
  }

  /** Writes every queued change now (one pass; changes that fail stay queued for the retry). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    if (this.#pending.size) await this.#run();
  }

  /** Stops writing (pending changes are flushed first). */
  async close(): Promise<void> {
    await this.flush();
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #queue(d: Dirty): void {
    if (this.#stopped) return;
    this.#pending.set(d.type === "key" ? `k|${d.id}` : `p|${d.model}|${d.scope}`, d);
    this.#schedule(20);
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined || this.#writing || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, ms) as unknown as number;
  }

  /** One write pass (joined when one runs); then the next is scheduled if anything is left. */
  #run(): Promise<unknown> {
    const run = this.#writing ??= this.#write().finally(() => {
      this.#writing = undefined;
      if (this.#pending.size) {
        this.#schedule(this.#failures ? Math.min(30_000, 250 * 2 ** this.#failures) : 20);
      }
    });
    return run;
  }

  /** Writes what is queued; at the first failure the rest stays queued. Answers that failure. */
  async #write(): Promise<unknown> {
    const batch = [...this.#pending];
    this.#pending.clear();
    for (let i = 0; i < batch.length; i++) {
      const d = batch[i][1];
      try {
        if (d.type === "key") await this.#writeKey(d.id);
        else await this.#writePair(d.model, d.scope);
      } catch (e) {
        for (const [n, item] of batch.slice(i)) if (!this.#pending.has(n)) this.#pending.set(n, item);
        if (!this.#stopped && this.#failures++ === 0) {
          console.error(
            "pool: could not persist key state (will retry):",
            failureText(e),
          );
        }
        return e;
      }
    }
    this.#failures = 0;
    return undefined;
  }

  async #writeKey(id: string): Promise<void> {
    const record = this.opts.pool.get(id);
    if (!record || this.#deleting.has(id)) return;
    const op = this.opts.kv.atomic().set(["keys", id], record);
    this.opts.feed.record(op, { topic: "key", id });
    await op.commit();
  }

  async #writePair(model: string, scope: string): Promise<void> {
    const state = this.opts.pool.pairs().find((p) => p.model === model && p.scope === scope)?.state;
    if (!state) return;
    const mine: PairSnapshot = {
      coolUntil: state.coolUntil,
      coolKind: state.coolKind,
      reason: state.reason,
      learned: state.learned,
      windowEnd: state.windowEnd,
    };
    const key = ["pairs", model, scope];
    for (let i = 0; i < 5; i++) {
      const cur = await this.opts.kv.get<PairSnapshot>(key);
      // A reset (coolUntil 0) must overwrite; otherwise the later cooldown wins.
      const next = mine.coolUntil === 0 ? mine : mergeSnap(cur.value, mine);
      const op = this.opts.kv.atomic().check(cur).set(key, next);
      this.opts.feed.record(op, { topic: "pair", id: `${model}|${scope}` });
      if ((await op.commit()).ok) return;
    }
  }

  async #reloadKey(id: string): Promise<void> {
    const e = await this.opts.kv.get<KeyRecord>(["keys", id]).catch(() => null);
    if (!e) return;
    if (e.value) this.opts.pool.upsert(e.value);
    else this.opts.pool.remove(id);
  }

  async #reloadPair(id: string): Promise<void> {
    const sep = id.indexOf("|");
    const [model, scope] = [id.slice(0, sep), id.slice(sep + 1)];
    const e = await this.opts.kv.get<PairSnapshot>(["pairs", model, scope]).catch(() => null);
    if (e?.value) this.opts.pool.restorePair(model, scope, e.value);
  }
}
