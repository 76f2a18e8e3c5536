/**
 * Keeps the key pool durable and shared: loads it from KV at start, writes every change in the
 * background (never on the request path), and applies changes made by other workers or processes.
 * A background write that fails is kept and retried (backing off up to 30 s) until the store works
 * again, so nothing is lost while KV is briefly unavailable. Admin changes are written at once with
 * {@link PoolStore.persistKey} / {@link PoolStore.persistPending}, which throw when the store fails.
 *
 * KV layout: `["keys", id]` -> KeyRecord; `["pairs", model, scope]` -> PairSnapshot;
 * `["checkedPack", packId]` -> the ids of keys Google judged, comma-separated: the verdicts of one write
 * pass, up to {@link CHECKED_PER_WRITE} to a pack, each pack one KV entry written once with one change
 * notice naming the pack (kept apart from the records, so this once-per-key write never races with a
 * change to a record made elsewhere; a pool of 10,000 keys being used for the first time costs one KV
 * entry per pass, not one per key: a KV entry costs about 15 µs of CPU to write, measured, and with round
 * robin over 10,000 keys every request judges a key for a long while). Deleting a key takes its id out of
 * the packs that name it. `["checked", id]` -> true is the older layout of one entry per key, still read
 * at start and deleted with its key;
 * `["keysIgnored", id]` -> epoch ms: keys from `GEMINI_API_KEYS` the admin deleted and asked to ignore.
 * Pair writes merge (the later cooldown wins), so concurrent workers never lose each other's updates.
 *
 * @module
 */
import type { ChangeFeed } from "../kv/change_feed.ts";
import type { Dirty, KeyPool, PairSnapshot } from "./key_pool.ts";
import type { KeyRecord } from "./key_record.ts";
import { failureText, WRITE_BEHIND_MS } from "../kv/write_behind.ts";

/**
 * Most "checked" marks written in one pack (one KV entry) and named by one change notice: 17 characters
 * each, far below a value's 64 KiB.
 */
export const CHECKED_PER_WRITE = 500;

/** The KV prefix of the packs of "checked" marks (see the module doc). */
export const CHECKED_PACKS = "checkedPack";

/** A new pack's id: time first (packs list in about the order they were written), then random. */
function packId(): string {
  return `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Most keys {@link PoolStore.addKeys} stores in one atomic write (KV checks at most 100 keys per write). */
export const KEYS_PER_WRITE = 100;

/** The key ids a change notice names (one, or several comma-separated). */
function idsOf(notice: string | undefined): string[] {
  return notice ? notice.split(",").filter(Boolean) : [];
}

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
  /** Records and pair states to write, by `key|<id>` / `p|<model>|<scope>`. */
  #pending = new Map<string, Dirty>();
  /** Ids of keys judged for the first time, to write as packs (a plain set: one entry per verdict). */
  #checked = new Set<string>();
  #timer?: number;
  /** The scheduled pass waits for more "checked" marks (a record or cooldown brings it forward). */
  #lazy = false;
  /** Something besides "checked" marks is queued. */
  #urgent = false;
  #writing?: Promise<unknown>;
  /** Keys being deleted: their state is not written meanwhile. */
  readonly #deleting = new Set<string>();
  #failures = 0;
  #stopped = false;

  constructor(private readonly opts: PoolStoreOptions) {
    opts.pool.onDirty((d) => this.#queue(d));
    // Notices name one id, or several comma-separated (keys added together, keys judged in one pass).
    opts.feed.on("key", (ids) => Promise.all(idsOf(ids).map((id) => this.#reloadKey(id))).then(() => {}));
    opts.feed.on("pair", (id) => id ? this.#reloadPair(id) : undefined);
    opts.feed.on("checkedPack", (pack) => pack ? this.#reloadPack(pack) : undefined);
    // Gateways before packs named the ids in the notice.
    opts.feed.on("checked", (ids) => idsOf(ids).forEach((id) => opts.pool.markChecked(id)));
  }

  /** Loads every key and pair state from KV into the pool. */
  async load(): Promise<void> {
    const { kv, pool } = this.opts;
    for await (const e of kv.list<KeyRecord>({ prefix: ["keys"] })) pool.upsert(e.value);
    for await (const e of kv.list({ prefix: ["checked"] })) pool.markChecked(String(e.key[1]));
    for await (const e of kv.list<string>({ prefix: [CHECKED_PACKS] })) {
      for (const id of idsOf(e.value)) pool.markChecked(id);
    }
    for await (const e of kv.list<PairSnapshot>({ prefix: ["pairs"] })) {
      const [, model, scope] = e.key as [string, string, string];
      pool.restorePair(model, scope, e.value);
    }
  }

  /**
   * Stores new keys (skipping ones already present) and returns the ids that were added. Keys are
   * written {@link KEYS_PER_WRITE} to an atomic write with one change notice (a start with 10,000 keys
   * takes 100 writes, not 10,000); a write that meets a key already stored is redone key by key.
   */
  async addKeys(all: KeyRecord[]): Promise<string[]> {
    const seen = new Set<string>();
    const records = all.filter((r) => !seen.has(r.id) && seen.add(r.id));
    const added: string[] = [];
    for (let i = 0; i < records.length; i += KEYS_PER_WRITE) {
      const chunk = records.slice(i, i + KEYS_PER_WRITE);
      if (chunk.length === 1) {
        if (await this.#addKey(chunk[0])) added.push(chunk[0].id);
        continue;
      }
      const op = this.opts.kv.atomic();
      for (const r of chunk) op.check({ key: ["keys", r.id], versionstamp: null }).set(["keys", r.id], r);
      this.opts.feed.record(op, { topic: "key", id: chunk.map((r) => r.id).join(",") });
      if ((await op.commit()).ok) {
        for (const r of chunk) this.opts.pool.upsert(r);
        added.push(...chunk.map((r) => r.id));
      } else {
        for (const r of chunk) if (await this.#addKey(r)) added.push(r.id);
      }
    }
    return added;
  }

  /** Stores one new key; false when it was already stored (the pool then gets the stored record). */
  async #addKey(r: KeyRecord): Promise<boolean> {
    const op = this.opts.kv.atomic().check({ key: ["keys", r.id], versionstamp: null }).set(
      ["keys", r.id],
      r,
    );
    this.opts.feed.record(op, { topic: "key", id: r.id });
    if ((await op.commit()).ok) {
      this.opts.pool.upsert(r);
      return true;
    }
    if (!this.opts.pool.get(r.id)) await this.#reloadKey(r.id);
    return false;
  }

  /**
   * Deletes a key everywhere: from KV first, then from the pool (a failed delete changes nothing). A
   * write of the key's state in flight finishes first, and none starts meanwhile, so a background
   * write cannot put the deleted record back. See {@link deleteKeys}.
   */
  async deleteKey(id: string): Promise<boolean> {
    return (await this.deleteKeys([id])) > 0;
  }

  /**
   * Deletes keys (as {@link deleteKey} does, one by one) and then takes their ids out of the packs of
   * "checked" marks in one pass over the packs. Answers how many were in the pool. Throws when KV does
   * (the keys deleted before stay deleted).
   */
  async deleteKeys(ids: readonly string[]): Promise<number> {
    const gone = new Set(ids);
    for (const id of gone) this.#deleting.add(id);
    try {
      await this.#writing;
      let n = 0;
      for (const id of gone) {
        const op = this.opts.kv.atomic().delete(["keys", id]).delete(["checked", id]);
        this.opts.feed.record(op, { topic: "key", id });
        await op.commit();
        if (this.opts.pool.remove(id)) n++;
      }
      await this.#unmark(gone);
      return n;
    } finally {
      for (const id of gone) this.#deleting.delete(id);
    }
  }

  /** Takes `ids` out of every pack of "checked" marks that names one (a pack left empty is deleted). */
  async #unmark(ids: ReadonlySet<string>): Promise<void> {
    const { kv } = this.opts;
    for await (const first of kv.list<string>({ prefix: [CHECKED_PACKS] })) {
      let e: Deno.KvEntryMaybe<string> = first;
      for (let i = 0; i < 5 && e.value !== null; i++) {
        const kept = idsOf(e.value).filter((id) => !ids.has(id));
        if (kept.length === idsOf(e.value).length) break;
        const op = kv.atomic().check(e);
        if (kept.length) op.set(e.key, kept.join(","));
        else op.delete(e.key);
        if ((await op.commit()).ok) break;
        e = await kv.get<string>(e.key);
      }
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

  /** Changes waiting to be written (the KV write queue). */
  get queued(): number {
    return this.#pending.size + this.#checked.size;
  }

  /** Writes every queued change now (one pass; changes that fail stay queued for the retry). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    if (this.queued) await this.#run();
  }

  /** Stops writing (pending changes are flushed first). */
  async close(): Promise<void> {
    await this.flush();
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #queue(d: Dirty): void {
    if (this.#stopped) return;
    if (d.type === "checked") this.#checked.add(d.id);
    else {
      this.#pending.set(d.type === "pair" ? `p|${d.model}|${d.scope}` : `${d.type}|${d.id}`, d);
      this.#urgent = true;
    }
    this.#schedule(this.#urgent ? 20 : WRITE_BEHIND_MS);
  }

  /**
   * Schedules a write pass in `ms` unless one is scheduled or running. A pass with only "checked" marks
   * queued waits {@link WRITE_BEHIND_MS} (more marks share its write); a record or a cooldown queued
   * meanwhile brings it forward.
   */
  #schedule(ms: number): void {
    if (this.#writing || this.#stopped) return;
    if (this.#timer !== undefined) {
      if (!this.#lazy || ms >= WRITE_BEHIND_MS) return;
      clearTimeout(this.#timer);
    }
    this.#lazy = ms === WRITE_BEHIND_MS;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, ms) as unknown as number;
  }

  /** One write pass (joined when one runs); then the next is scheduled if anything is left. */
  #run(): Promise<unknown> {
    const run = this.#writing ??= this.#write().finally(() => {
      this.#writing = undefined;
      if (this.queued) {
        this.#schedule(
          this.#failures ? Math.min(30_000, 250 * 2 ** this.#failures) : this.#urgent ? 20 : WRITE_BEHIND_MS,
        );
      }
    });
    return run;
  }

  /**
   * Writes what is queued: "checked" marks first, {@link CHECKED_PER_WRITE} to a write, then records and
   * pair states one by one. At the first failure the rest stays queued. Answers that failure.
   */
  async #write(): Promise<unknown> {
    const batch = [...this.#pending];
    const checked = [...this.#checked];
    this.#pending.clear();
    this.#checked.clear();
    this.#urgent = false;
    const steps: Array<{ items: Array<[string, Dirty]>; ids?: string[]; write: () => Promise<void> }> = [];
    for (let i = 0; i < checked.length; i += CHECKED_PER_WRITE) {
      const ids = checked.slice(i, i + CHECKED_PER_WRITE);
      steps.push({ items: [], ids, write: () => this.#writeChecked(ids) });
    }
    for (const item of batch) {
      const d = item[1];
      if (d.type === "key") steps.push({ items: [item], write: () => this.#writeKey(d.id) });
      else if (d.type === "pair") {
        steps.push({
          items: [item],
          write: () => this.#writePair(d.model, d.scope),
        });
      }
    }
    for (let i = 0; i < steps.length; i++) {
      try {
        await steps[i].write();
      } catch (e) {
        for (const st of steps.slice(i)) {
          for (const id of st.ids ?? []) this.#checked.add(id);
          for (const [n, item] of st.items) {
            if (!this.#pending.has(n)) this.#pending.set(n, item);
            this.#urgent = true;
          }
        }
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

  /**
   * Writes the "checked" marks of keys (still in the pool) as one new pack, with a change notice that
   * names the pack (a few bytes: every gateway's change feed reads the notices of the last seconds again
   * on each change, so 500 ids in each would be read over and over).
   */
  async #writeChecked(ids: string[]): Promise<void> {
    const present = ids.filter((id) => this.opts.pool.get(id) && !this.#deleting.has(id));
    if (!present.length) return;
    const pack = packId();
    const op = this.opts.kv.atomic().set([CHECKED_PACKS, pack], present.join(","));
    this.opts.feed.record(op, { topic: "checkedPack", id: pack });
    await op.commit();
  }

  /** Learns the verdicts of a pack another gateway wrote. */
  async #reloadPack(pack: string): Promise<void> {
    const e = await this.opts.kv.get<string>([CHECKED_PACKS, pack]).catch(() => null);
    for (const id of idsOf(e?.value ?? undefined)) this.opts.pool.markChecked(id);
  }

  async #writePair(model: string, scope: string): Promise<void> {
    const state = this.opts.pool.pairState(model, scope);
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
