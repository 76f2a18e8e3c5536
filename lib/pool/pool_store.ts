/**
 * Keeps the key pool durable and shared: loads it from KV at start, writes every change in the
 * background (never on the request path), and applies changes made by other workers or processes.
 *
 * KV layout: `["keys", id]` -> KeyRecord; `["pairs", model, scope]` -> PairSnapshot; `["checked", id]` ->
 * true once Google judged the key (kept apart from the record, so this once-per-key write never
 * races with a change to the record made elsewhere).
 * Pair writes merge (the later cooldown wins), so concurrent workers never lose each other's updates.
 *
 * @module
 */
import type { ChangeFeed } from "../kv/change_feed.ts";
import type { Dirty, KeyPool, PairSnapshot } from "./key_pool.ts";
import type { KeyRecord } from "./key_record.ts";

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

/** One pending write per record, pair or verdict. */
function pendingId(d: Dirty): string {
  return d.type === "pair" ? `p|${d.model}|${d.scope}` : `${d.type}|${d.id}`;
}

/** Persists and shares the pool's state. */
export class PoolStore {
  #pending = new Map<string, Dirty>();
  #flushing?: Promise<void>;
  #stopped = false;
  #failures = 0;

  constructor(private readonly opts: PoolStoreOptions) {
    opts.pool.onDirty((d) => this.#queue(d));
    opts.feed.on("key", (id) => id ? this.#reloadKey(id) : undefined);
    opts.feed.on("pair", (id) => id ? this.#reloadPair(id) : undefined);
    opts.feed.on("checked", (id) => id ? opts.pool.markChecked(id) : undefined);
  }

  /** Loads every key and pair state from KV into the pool. */
  async load(): Promise<void> {
    const { kv, pool } = this.opts;
    for await (const e of kv.list<KeyRecord>({ prefix: ["keys"] })) pool.upsert(e.value);
    for await (const e of kv.list({ prefix: ["checked"] })) pool.markChecked(String(e.key[1]));
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

  /** Deletes a key everywhere. */
  async deleteKey(id: string): Promise<boolean> {
    const existed = this.opts.pool.remove(id);
    const op = this.opts.kv.atomic().delete(["keys", id]).delete(["checked", id]);
    this.opts.feed.record(op, { topic: "key", id });
    await op.commit();
    return existed;
  }

  /** Changes waiting to be written (the KV write queue). */
  get queued(): number {
    return this.#pending.size;
  }

  /** Waits until every queued change is written. */
  async flush(): Promise<void> {
    while (this.#pending.size || this.#flushing) await (this.#flushing ?? this.#write());
  }

  /** Stops writing (pending changes are flushed first). */
  async close(): Promise<void> {
    await this.flush();
    this.#stopped = true;
  }

  #queue(d: Dirty): void {
    if (this.#stopped) return;
    this.#pending.set(pendingId(d), d);
    if (!this.#flushing) this.#flushing = new Promise((r) => setTimeout(r, 20)).then(() => this.#write());
  }

  async #write(): Promise<void> {
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    try {
      for (const d of batch) {
        if (d.type === "key") await this.#writeKey(d.id);
        else if (d.type === "checked") await this.#writeChecked(d.id);
        else await this.#writePair(d.model, d.scope);
      }
      this.#failures = 0;
    } catch (e) {
      // Another worker may hold the database for a moment ("database is locked"): try again, a few times.
      const retry = !this.#stopped && ++this.#failures <= 5;
      if (!this.#stopped) {
        console.error(`pool: could not persist key state${retry ? " (will retry)" : ""}:`, e);
      }
      if (retry) {
        for (const d of batch) {
          this.#pending.set(pendingId(d), d);
        }
        await new Promise((r) => setTimeout(r, 100 * this.#failures));
      }
    } finally {
      this.#flushing = undefined;
      if (this.#pending.size && !this.#stopped) this.#queue([...this.#pending.values()][0]);
    }
  }

  async #writeKey(id: string): Promise<void> {
    const record = this.opts.pool.get(id);
    if (!record) return;
    const op = this.opts.kv.atomic().set(["keys", id], record);
    this.opts.feed.record(op, { topic: "key", id });
    await op.commit();
  }

  async #writeChecked(id: string): Promise<void> {
    const op = this.opts.kv.atomic().set(["checked", id], true);
    this.opts.feed.record(op, { topic: "checked", id });
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
