/**
 * The request log and the error log. Writing never slows a request: {@link LogStore.record} pushes to
 * an in-memory buffer that is flushed to KV in atomic batches (every ~500 ms). Entries live under a
 * time-ordered key (`["logs", "req"|"err", time, id]`) with `expireIn` = the retention and an
 * `expiresAt` in the value; a sweeper range-deletes expired entries every minute. Queries walk the
 * time index newest first with filters and a cursor.
 *
 * @module
 */
import type { RequestRecord } from "../pipeline/request_record.ts";
import { redactKeys } from "../pool/key_record.ts";

/** One stored log entry: the finished request plus its id, masked key and expiry. */
export interface LogEntry extends RequestRecord {
  id: string;
  keyMasked?: string;
  expiresAt: number;
}

/** Which log: every request, or only failures (status >= 400). */
export type LogKind = "request" | "error";

/** Filters for {@link LogStore.query}. */
export interface LogQuery {
  kind?: LogKind;
  from?: number;
  to?: number;
  /** `ok` (< 400), `error` (>= 400) or one status code. */
  status?: "ok" | "error" | number;
  model?: string;
  keyId?: string;
  token?: string;
  limit?: number;
  cursor?: string;
}

/** Options for {@link LogStore}. */
export interface LogStoreOptions {
  kv: Deno.Kv;
  settings: () => { logsEnabled: boolean; logRetentionHours: number };
  /** The masked key for a key id (from the pool). */
  maskKey?: (keyId: string) => string | undefined;
  /** Clock, for tests. */
  now?: () => number;
  flushMs?: number;
  sweepMs?: number;
}

const KIND_KEY: Record<LogKind, string> = { request: "req", error: "err" };
/** Entries and bytes per atomic batch (KV limits an atomic write's size). */
const BATCH = 100;
const BATCH_BYTES = 300_000;
const MAX_ERROR_CHARS = 8_000;
const MAX_SCAN = 5_000;
const RING = 200;

function matches(e: LogEntry, q: LogQuery, now: number): boolean {
  if (e.expiresAt <= now) return false;
  if (q.status === "ok" && e.status >= 400) return false;
  if (q.status === "error" && e.status < 400) return false;
  if (typeof q.status === "number" && e.status !== q.status) return false;
  if (q.model && e.model !== q.model) return false;
  if (q.keyId && e.keyId !== q.keyId) return false;
  if (q.token && e.tokenName !== q.token) return false;
  return true;
}

/** Buffered, KV-backed request and error logs. */
export class LogStore {
  #buffer: LogEntry[] = [];
  #ring: LogEntry[] = [];
  #flushTimer?: number;
  #sweepTimer?: number;
  #flushing?: Promise<void>;
  #now: () => number;
  #closed = false;

  constructor(private readonly o: LogStoreOptions) {
    this.#now = o.now ?? Date.now;
  }

  /** Starts the periodic sweeper. */
  start(): void {
    this.#sweepTimer = setInterval(() => void this.sweep(), this.o.sweepMs ?? 60_000) as unknown as number;
    Deno.unrefTimer(this.#sweepTimer);
  }

  /** Queues a finished request (a record sink; never blocks). Dropped when logs are off. */
  record(rec: RequestRecord): void {
    const s = this.o.settings();
    if (!s.logsEnabled || this.#closed) return;
    const id = `${rec.time.toString(36).padStart(9, "0")}-${crypto.randomUUID().slice(0, 8)}`;
    const entry: LogEntry = {
      id,
      time: rec.time,
      route: rec.route,
      method: rec.method,
      path: rec.path,
      model: rec.model,
      keyId: rec.keyId,
      keyMasked: rec.keyId ? this.o.maskKey?.(rec.keyId) : undefined,
      tokenName: rec.tokenName,
      status: rec.status,
      latencyMs: rec.latencyMs,
      attempts: rec.attempts,
      stream: rec.stream,
      inputTokens: rec.inputTokens,
      outputTokens: rec.outputTokens,
      error: rec.error ? redactKeys(rec.error).slice(0, MAX_ERROR_CHARS) : undefined,
      expiresAt: this.#now() + s.logRetentionHours * 3_600_000,
    };
    for (const k of Object.keys(entry) as Array<keyof LogEntry>) if (entry[k] === undefined) delete entry[k];
    this.#buffer.push(entry);
    this.#ring.push(entry);
    if (this.#ring.length > RING) this.#ring.shift();
    this.#flushTimer ??= setTimeout(() => void this.flush(), this.o.flushMs ?? 500) as unknown as number;
  }

  /** The most recent entries of this process, newest first (no KV read). */
  recent(limit = 50): LogEntry[] {
    return this.#ring.slice(-limit).reverse();
  }

  /** Writes every buffered entry now. */
  flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const prev = this.#flushing ?? Promise.resolve();
    const run = prev.then(() => this.#write());
    this.#flushing = run.finally(() => {
      if (this.#flushing === run) this.#flushing = undefined;
    });
    return run;
  }

  async #write(): Promise<void> {
    while (this.#buffer.length) {
      let n = 0;
      let bytes = 0;
      while (n < this.#buffer.length && n < BATCH && bytes < BATCH_BYTES) {
        const e = this.#buffer[n++];
        bytes += (e.status >= 400 ? 2 : 1) * (300 + (e.error?.length ?? 0) + e.path.length);
      }
      const batch = this.#buffer.splice(0, n);
      const op = this.o.kv.atomic();
      for (const e of batch) {
        const expireIn = Math.max(1, e.expiresAt - this.#now());
        op.set(["logs", "req", e.time, e.id], e, { expireIn });
        if (e.status >= 400) op.set(["logs", "err", e.time, e.id], e, { expireIn });
      }
      await op.commit().catch((err) => console.error("logs: flush failed:", err));
    }
  }

  /**
   * Deletes entries older than the retention: a range over the time index, so only expired entries
   * are read. (Entries also carry a KV `expireIn`; queries skip any past their `expiresAt`.)
   * Returns how many keys were deleted.
   */
  async sweep(): Promise<number> {
    const cutoff = this.#now() - this.o.settings().logRetentionHours * 3_600_000;
    let n = 0;
    try {
      for (const kind of Object.values(KIND_KEY)) {
        let op = this.o.kv.atomic();
        let count = 0;
        for await (const e of this.o.kv.list({ start: ["logs", kind], end: ["logs", kind, cutoff] })) {
          op.delete(e.key);
          n++;
          if (++count >= 500) {
            await op.commit();
            [op, count] = [this.o.kv.atomic(), 0];
          }
        }
        if (count) await op.commit();
      }
    } catch {
      // the database is closing
    }
    return n;
  }

  /** Entries matching `q`, newest first, with a cursor for the next page. */
  async query(q: LogQuery = {}): Promise<{ entries: LogEntry[]; next?: string }> {
    await this.flush();
    const kind = KIND_KEY[q.kind ?? "request"];
    const limit = Math.min(500, Math.max(1, q.limit ?? 50));
    const now = this.#now();
    const iter = this.o.kv.list<LogEntry>({
      start: ["logs", kind, q.from ?? 0],
      end: ["logs", kind, (q.to ?? now) + 1],
    }, { reverse: true, cursor: q.cursor || undefined });
    const entries: LogEntry[] = [];
    let scanned = 0;
    let exhausted = true;
    for await (const e of iter) {
      if (matches(e.value, q, now)) entries.push(e.value);
      if (entries.length >= limit || ++scanned >= MAX_SCAN) {
        exhausted = false;
        break;
      }
    }
    return exhausted ? { entries } : { entries, next: iter.cursor };
  }

  /** One entry by id, or undefined. */
  async get(id: string): Promise<LogEntry | undefined> {
    const m = /^([0-9a-z]{9})-[0-9a-f]{8}$/.exec(id);
    if (!m) return undefined;
    await this.flush();
    const e = await this.o.kv.get<LogEntry>(["logs", "req", parseInt(m[1], 36), id]);
    return e.value && e.value.expiresAt > this.#now() ? e.value : undefined;
  }

  /** Flushes and stops the timers. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    await this.flush();
  }
}
