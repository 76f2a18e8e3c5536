/**
 * Tells every worker and process sharing a KV database what changed. A writer adds a change entry
 * to the same atomic operation as its write ({@link ChangeFeed.record}); readers learn of it through
 * `kv.watch` (workers of one process, KV Connect) and by polling (processes sharing a local file,
 * where `kv.watch` does not see other processes' writes), then reload just what changed.
 *
 * @module
 */

const REV_KEY = ["meta", "rev"] as const;
const CHANGE_TTL_MS = 10 * 60_000;
/** How far back a poll re-reads, to tolerate clocks of several processes that disagree a little. */
const SKEW_MS = 5_000;

/** One change notice. */
export interface Change {
  /** What kind of record changed: `key`, `cooldown`, `settings`, `token`, ... */
  topic: string;
  /** Which record, when the topic has several. */
  id?: string;
}

/** Options for {@link ChangeFeed}. */
export interface ChangeFeedOptions {
  /** Poll interval in ms (0 disables polling). */
  pollMs: number;
}

/** Reacts to a change; a returned promise is awaited by {@link ChangeFeed.stop}. */
export type ChangeListener = (id?: string) => void | Promise<void>;

/** Publishes and delivers change notices through KV. */
export class ChangeFeed {
  #listeners = new Map<string, Set<ChangeListener>>();
  #pending = new Set<Promise<void>>();
  #stopped = false;
  #seen = new Map<string, number>();
  #cursor = Date.now();
  #timer?: number;
  #watch?: ReadableStreamDefaultReader<unknown>;
  #syncing?: Promise<void>;

  constructor(private readonly kv: Deno.Kv, private readonly options: ChangeFeedOptions) {}

  /** Adds a change notice to an atomic operation, so the write and its notice commit together. */
  record(op: Deno.AtomicOperation, change: Change): Deno.AtomicOperation {
    const id = crypto.randomUUID();
    this.#seen.set(id, Date.now()); // our own change: listeners were already told in-process
    return op
      .set(["changes", Date.now(), id], change, { expireIn: CHANGE_TTL_MS })
      .sum([...REV_KEY], 1n);
  }

  /** Calls `listener` with the record id whenever a change on `topic` arrives from elsewhere. */
  on(topic: string, listener: ChangeListener): () => void {
    let set = this.#listeners.get(topic);
    if (!set) this.#listeners.set(topic, set = new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Starts watching and polling. */
  start(): void {
    if (this.options.pollMs > 0) {
      this.#timer = setInterval(() => void this.sync(), this.options.pollMs) as unknown as number;
      Deno.unrefTimer(this.#timer);
    }
    try {
      const stream = this.kv.watch([[...REV_KEY]]);
      this.#watch = stream.getReader();
      (async () => {
        const reader = this.#watch!;
        for (;;) {
          const { done } = await reader.read().catch(() => ({ done: true }));
          if (done) return;
          await this.sync();
        }
      })();
    } catch {
      // watch unsupported: polling covers it
    }
  }

  /** Reads change notices written since the last sync and delivers the new ones. */
  sync(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#syncing ??= this.#doSync().finally(() => this.#syncing = undefined);
    return this.#syncing;
  }

  async #doSync(): Promise<void> {
    const from = this.#cursor - SKEW_MS;
    let newest = this.#cursor;
    try {
      for await (
        const entry of this.kv.list<Change>({ start: ["changes", from], end: ["changes", Infinity] })
      ) {
        const [, ts, id] = entry.key as [string, number, string];
        newest = Math.max(newest, ts);
        if (this.#seen.has(id)) continue;
        this.#seen.set(id, ts);
        for (const l of this.#listeners.get(entry.value.topic) ?? []) this.#deliver(l, entry.value.id);
      }
    } catch {
      return; // the database is closing
    }
    this.#cursor = newest;
    for (const [id, ts] of this.#seen) if (ts < from - CHANGE_TTL_MS) this.#seen.delete(id);
  }

  #deliver(listener: ChangeListener, id?: string): void {
    if (this.#stopped) return;
    const result = listener(id);
    if (!(result instanceof Promise)) return;
    const tracked = result.catch((err) => {
      if (!this.#stopped) console.error("change feed: a listener failed:", err);
    }).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  /** Stops watching and polling, and waits for reloads already running so KV can close safely. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#watch?.cancel().catch(() => {});
    await this.#syncing;
    await Promise.all(this.#pending);
  }
}
