/**
 * The request log and the error log. Writing never slows a request: {@link LogStore.record} pushes to
 * an in-memory buffer that is flushed to KV every ~500 ms as a few large pages rather than one KV
 * entry per request (at thousands of requests per second, one write per entry would cost more than
 * the requests themselves). A page lives under a time-ordered key (`["logs", "req"|"err", firstTime,
 * pageId]`) with `expireIn` = the retention, and each entry keeps its own `expiresAt`; a sweeper
 * range-deletes expired pages every minute. Queries walk the pages newest first with filters and a cursor.
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
/** A page holds at most this many entries and about this many bytes (a KV value holds 64 KiB). */
const PAGE_ENTRIES = 200;
const PAGE_BYTES = 48_000;
const MAX_ERROR_CHARS = 8_000;
const MAX_SCAN = 5_000;
const RING = 200;
/** How far back a query looks for pages that started before `from` but reach into it. */
const PAGE_SPAN_MS = 15 * 60_000;

/** One stored page of entries, oldest first. */
interface LogPage {
  entries: LogEntry[];
  lastTime: number;
  expiresAt: number;
}

function entryBytes(e: LogEntry): number {
  return 300 + (e.error?.length ?? 0) + e.path.length;
}

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
    if (!this.#buffer.length) return;
    const batch = this.#buffer.splice(0, this.#buffer.length).sort((a, b) => a.time - b.time);
    const pages: Array<{ kind: string; entries: LogEntry[] }> = [];
    for (const [kind, entries] of [["req", batch], ["err", batch.filter((e) => e.status >= 400)]] as const) {
      let page: LogEntry[] = [];
      let bytes = 0;
      for (const e of entries) {
        if (page.length && (page.length >= PAGE_ENTRIES || bytes + entryBytes(e) > PAGE_BYTES)) {
          pages.push({ kind, entries: page });
          [page, bytes] = [[], 0];
        }
        page.push(e);
        bytes += entryBytes(e);
      }
      if (page.length) pages.push({ kind, entries: page });
    }
    for (const { kind, entries } of pages) {
      const expiresAt = Math.max(...entries.map((e) => e.expiresAt));
      const value: LogPage = { entries, lastTime: entries[entries.length - 1].time, expiresAt };
      const key = ["logs", kind, entries[0].time, crypto.randomUUID().slice(0, 8)];
      await this.o.kv.set(key, value, { expireIn: Math.max(1, expiresAt - this.#now()) })
        .catch((err) => console.error("logs: flush failed:", err));
    }
  }

  /**
   * Deletes entries older than the retention: a range over the time index, so only expired entries
   * are read. (Entries also carry a KV `expireIn`; queries skip any past their `expiresAt`.)
   * Returns how many keys were deleted.
   */
  async sweep(): Promise<number> {
    const now = this.#now();
    let n = 0;
    try {
      for (const kind of Object.values(KIND_KEY)) {
        for await (const e of this.o.kv.list<LogPage>({ start: ["logs", kind], end: ["logs", kind, now] })) {
          if (e.value.expiresAt > now) continue;
          await this.o.kv.delete(e.key);
          n++;
        }
      }
    } catch {
      // the database is closing
    }
    return n;
  }

  /**
   * Entries matching `q`, newest first, with a cursor for the next page. The cursor names the KV
   * position before the page being read and how many of its entries were already returned.
   */
  async query(q: LogQuery = {}): Promise<{ entries: LogEntry[]; next?: string }> {
    await this.flush();
    const kind = KIND_KEY[q.kind ?? "request"];
    const limit = Math.min(500, Math.max(1, q.limit ?? 50));
    const now = this.#now();
    const from = q.from ?? 0;
    const to = q.to ?? now;
    const [kvCursor, skipText] = (q.cursor ?? "").split("~");
    let skip = Number(skipText) || 0;
    const iter = this.o.kv.list<LogPage>({
      start: ["logs", kind, Math.max(0, from - PAGE_SPAN_MS)],
      end: ["logs", kind, to + 1],
    }, { reverse: true, cursor: kvCursor || undefined });
    const entries: LogEntry[] = [];
    let before = kvCursor ?? "";
    let scanned = 0;
    for await (const page of iter) {
      const list = page.value.entries;
      for (let i = list.length - 1 - skip; i >= 0; i--) {
        const e = list[i];
        if (e.time >= from && e.time <= to && matches(e, q, now)) entries.push(e);
        scanned++;
        if (entries.length >= limit || scanned >= MAX_SCAN) {
          const used = list.length - i;
          return used >= list.length
            ? { entries, next: `${iter.cursor}~0` }
            : { entries, next: `${before}~${used}` };
        }
      }
      skip = 0;
      before = iter.cursor;
    }
    return { entries };
  }

  /** One entry by id, or undefined. */
  async get(id: string): Promise<LogEntry | undefined> {
    const m = /^([0-9a-z]{9})-[0-9a-f]{8}$/.exec(id);
    if (!m) return undefined;
    await this.flush();
    const time = parseInt(m[1], 36);
    const iter = this.o.kv.list<LogPage>(
      { start: ["logs", "req", Math.max(0, time - PAGE_SPAN_MS)], end: ["logs", "req", time + 1] },
      { reverse: true },
    );
    for await (const page of iter) {
      const e = page.value.entries.find((x) => x.id === id);
      if (e) return e.expiresAt > this.#now() ? e : undefined;
    }
    return undefined;
  }

  /** Flushes and stops the timers. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    await this.flush();
  }
}
