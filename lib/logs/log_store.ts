/**
 * The request log and the error log. Writing never slows a request: {@link LogStore.record} pushes to
 * an in-memory buffer that is flushed to KV every `WRITE_BEHIND_MS` (~200 ms: what a hard kill can
 * lose; entries the store refuses are kept, up to `MAX_BUFFERED`, and retried) as a few large pages rather than one KV
 * entry per request (at thousands of requests per second, one write per entry would cost more than
 * the requests themselves). A page lives under a time-ordered key (`["logs", "req"|"err", firstTime,
 * pageId]`) with `expireIn` = the retention, and each entry keeps its own `expiresAt`; a sweeper
 * range-deletes expired pages every minute. Queries walk the pages newest first with filters and a cursor.
 *
 * @module
 */
import { type Outcome, outcomeOf, type RequestRecord } from "../pipeline/request_record.ts";
import { redactKeys } from "../secrets/redact.ts";
import { failureText, retryDelayMs, WRITE_BEHIND_MS, WriteChain } from "../kv/write_behind.ts";

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
  /** How the requests ended (e.g. `refused`: refused by the gateway itself). */
  outcome?: Outcome;
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
  /** Masks secrets in error texts (default: secret shapes only; the gateway passes its `Redactor`). */
  redact?: (text: string) => string;
  /** Clock, for tests. */
  now?: () => number;
  flushMs?: number;
  sweepMs?: number;
}

const KIND_KEY: Record<LogKind, string> = { request: "req", error: "err" };
/** A page holds at most this many entries and bytes of UTF-8 JSON (a KV value holds 64 KiB). */
const PAGE_ENTRIES = 200;
const PAGE_BYTES = 60_000;
const MAX_ERROR_CHARS = 8_000;
const MAX_SCAN = 5_000;
/** Most entries kept in memory while the store refuses writes (the oldest are dropped first). */
const MAX_BUFFERED = 50_000;
/** How far back a query looks for pages that started before `from` but reach into it. */
const PAGE_SPAN_MS = 15 * 60_000;

/**
 * One stored page of entries, oldest first. The entries are stored as one UTF-8 JSON array: KV's V8
 * serializer walks every field of every object, which cost more per request than the request itself.
 * (Pages written before that hold the array of objects.)
 */
interface LogPage {
  entries: Uint8Array | LogEntry[];
  lastTime: number;
  expiresAt: number;
}

function entriesOf(page: LogPage): LogEntry[] {
  return page.entries instanceof Uint8Array ? JSON.parse(decoder.decode(page.entries)) : page.entries;
}

/** 8 random hex digits (a page key's suffix). */
function randomHex8(): string {
  return ((Math.random() * 0x100000000) >>> 0).toString(16).padStart(8, "0");
}

/** Two hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** The last id's time part (`<time in base 36, 9 digits>-`): entries of one millisecond share it. */
let idTime = Number.NaN;
let idPrefix = "";

/**
 * A new entry id for an entry of `time`: `<time in base 36, 9 digits>-<8 random hex digits>` (unique
 * enough within one millisecond).
 */
function newId(time: number): string {
  if (time !== idTime) {
    idTime = time;
    idPrefix = `${time.toString(36).padStart(9, "0")}-`;
  }
  const r = (Math.random() * 0x100000000) >>> 0;
  return idPrefix + HEX[r >>> 24] + HEX[(r >>> 16) & 255] + HEX[(r >>> 8) & 255] + HEX[r & 255];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const [OPEN, COMMA, CLOSE] = [0x5b, 0x2c, 0x5d]; // "[", ",", "]"

/** One page to store: entries `from`..`to` (exclusive) of their list, as one UTF-8 JSON array. */
interface PackedPage {
  first: number;
  last: number;
  expiresAt: number;
  bytes: Uint8Array;
  /** How many entries of the list this page and the ones before it hold. */
  to: number;
}

/** The end of an entry's JSON that adds its masked key, by masked key (ASCII: `\u` escapes). */
const maskTails = new Map<string, string>();

/**
 * `,"keyMasked":"AIza\u2026k9Xw"}`: the end of an entry's JSON with its masked key, in ASCII. Cached
 * per masked key (up to 10,000); a miss (every request while round robin over a pool of 10,000 keys
 * meets each key for the first time) escapes the few non-ASCII characters in one pass, without a regex.
 */
function maskTail(masked: string): string {
  let tail = maskTails.get(masked);
  if (tail === undefined) {
    if (maskTails.size >= 10_000) maskTails.clear();
    const json = JSON.stringify(masked);
    let ascii = "";
    let from = 0;
    for (let i = 0; i < json.length; i++) {
      const c = json.charCodeAt(i);
      if (c < 0x80) continue;
      ascii += json.slice(from, i) + "\\u" + c.toString(16).padStart(4, "0");
      from = i + 1;
    }
    maskTails.set(masked, tail = `,"keyMasked":${from ? ascii + json.slice(from) : json}}`);
  }
  return tail;
}

/**
 * An entry's JSON in two parts, `head` + `tail`. The masked key (`AIza…k9Xw`) is most entries' only
 * non-ASCII text, and one such character makes `JSON.stringify` build the whole text in UTF-16 and
 * the UTF-8 encoding take its slow path: so the entry is serialized without it (ASCII), and the masked
 * key follows in a cached ASCII `tail` (written last in the object; JSON.parse gives the same entry).
 */
function entryJson(e: LogEntry): { head: string; tail: string } {
  const masked = e.keyMasked;
  if (masked === undefined) return { head: JSON.stringify(e), tail: "" };
  e.keyMasked = undefined;
  const text = JSON.stringify(e);
  e.keyMasked = masked;
  return { head: text.slice(0, -1), tail: maskTail(masked) };
}

/**
 * Packs entries (sorted by time; `texts[i]` is the JSON of `entries[i]`) into pages of at most
 * {@link PAGE_ENTRIES} entries and {@link PAGE_BYTES} bytes. Each text is encoded to UTF-8 once,
 * straight into its page (measuring it first would encode it twice). An entry larger than a page gets
 * a page of its own.
 */
function pack(
  entries: readonly LogEntry[],
  texts: ReadonlyArray<{ head: string; tail: string }>,
  scratch: Uint8Array,
): PackedPage[] {
  const pages: PackedPage[] = [];
  let pos = 0;
  let count = 0;
  let page: Omit<PackedPage, "bytes" | "to"> | undefined;
  const close = (to: number) => {
    scratch[pos++] = CLOSE;
    pages.push({ ...page!, bytes: scratch.slice(0, pos), to });
    page = undefined;
  };
  /** Encodes text `i` at `at` (room is kept for the "]" after it): the bytes written, or -1 when it does not fit. */
  const put = (i: number, at: number): number => {
    const { head, tail } = texts[i];
    const a = encoder.encodeInto(head, scratch.subarray(at, PAGE_BYTES - 1));
    if (a.read < head.length) return -1;
    if (!tail) return a.written;
    const b = encoder.encodeInto(tail, scratch.subarray(at + a.written, PAGE_BYTES - 1));
    return b.read < tail.length ? -1 : a.written + b.written;
  };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    let written = page && count < PAGE_ENTRIES ? put(i, pos + 1) : -1;
    if (written >= 0) {
      scratch[pos] = COMMA;
      pos += 1 + written;
    } else {
      if (page) close(i);
      page = { first: e.time, last: e.time, expiresAt: 0 };
      count = 0;
      written = put(i, 1);
      if (written < 0) {
        const { head, tail } = texts[i];
        pages.push({ ...page, expiresAt: e.expiresAt, bytes: encoder.encode(`[${head}${tail}]`), to: i + 1 });
        page = undefined;
        continue;
      }
      scratch[0] = OPEN;
      pos = 1 + written;
    }
    count++;
    page!.last = e.time;
    page!.expiresAt = Math.max(page!.expiresAt, e.expiresAt);
  }
  if (page) close(entries.length);
  return pages;
}

function matches(e: LogEntry, q: LogQuery, now: number): boolean {
  if (e.expiresAt <= now) return false;
  if (q.status === "ok" && e.status >= 400) return false;
  if (q.status === "error" && e.status < 400) return false;
  if (typeof q.status === "number" && e.status !== q.status) return false;
  if (q.outcome && outcomeOf(e) !== q.outcome) return false;
  if (q.model && e.model !== q.model) return false;
  if (q.keyId && e.keyId !== q.keyId) return false;
  if (q.token && e.tokenName !== q.token) return false;
  return true;
}

/** Buffered, KV-backed request and error logs. */
export class LogStore {
  #buffer: LogEntry[] = [];
  /** Buffered errors already stored in the request log (a write of the error log failed after it). */
  #inRequestLog = new WeakSet<LogEntry>();
  #flushTimer?: number;
  #sweepTimer?: number;
  readonly #writes = new WriteChain();
  #now: () => number;
  #closed = false;
  #failures = 0;

  constructor(private readonly o: LogStoreOptions) {
    this.#now = o.now ?? Date.now;
  }

  /**
   * Starts the periodic sweeper. With `lease`, a round runs only when it returns true (one gateway
   * of all those sharing the KV sweeps each period).
   */
  start(lease?: () => Promise<boolean>): void {
    const round = async () => {
      if (!lease || await lease().catch(() => false)) await this.sweep();
    };
    this.#sweepTimer = setInterval(() => void round(), this.o.sweepMs ?? 60_000) as unknown as number;
    Deno.unrefTimer(this.#sweepTimer);
  }

  /** Entries waiting to be written (the KV write queue). */
  get queued(): number {
    return this.#buffer.length;
  }

  /** Queues a finished request (a record sink; never blocks). Dropped when logs are off. */
  record(rec: RequestRecord): void {
    const s = this.o.settings();
    if (!s.logsEnabled || this.#closed) return;
    // Undefined fields are left out of the stored JSON, so the entry is built with all of them. The
    // id is given when the batch is written (per batch, not per request).
    const entry: LogEntry = {
      id: "",
      time: rec.time,
      route: rec.route,
      method: rec.method,
      path: rec.path,
      clientMethod: rec.clientMethod,
      clientPath: rec.clientPath,
      clientModel: rec.clientModel,
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
      error: rec.error ? (this.o.redact ?? redactKeys)(rec.error).slice(0, MAX_ERROR_CHARS) : undefined,
      live: rec.live,
      source: rec.source,
      outcome: rec.outcome,
      refusal: rec.refusal,
      count: rec.count,
      tries: rec.tries,
      expiresAt: this.#now() + s.logRetentionHours * 3_600_000,
    };
    this.#buffer.push(entry);
    this.#schedule(this.o.flushMs ?? WRITE_BEHIND_MS);
  }

  #schedule(ms: number): void {
    if (this.#flushTimer === undefined && !(this.#closed && this.#failures)) {
      this.#flushTimer = setTimeout(() => void this.flush(), ms) as unknown as number;
    }
  }

  /** Writes every buffered entry now. */
  flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    return this.#writes.run(() => this.#write());
  }

  async #write(): Promise<void> {
    if (!this.#buffer.length) return;
    const batch = this.#buffer.splice(0, this.#buffer.length).sort((a, b) => a.time - b.time);
    for (const e of batch) if (!e.id) e.id = newId(e.time);
    // Each entry is serialized once; an error's text serves both logs.
    const texts = new Map(batch.map((e) => [e, entryJson(e)]));
    const requests = batch.filter((e) => !this.#inRequestLog.has(e));
    const errors = batch.filter((e) => e.status >= 400);
    const scratch = new Uint8Array(PAGE_BYTES);
    const requestPages = pack(requests, requests.map((e) => texts.get(e)!), scratch);
    const errorPages = errors.length ? pack(errors, errors.map((e) => texts.get(e)!), scratch) : [];
    const pages = [
      ...requestPages.map((p) => ({ kind: "req", ...p })),
      ...errorPages.map((p) => ({ kind: "err", ...p })),
    ];
    for (const [i, { kind, first, last, expiresAt, bytes }] of pages.entries()) {
      const value: LogPage = { entries: bytes, lastTime: last, expiresAt };
      const key = ["logs", kind, first, randomHex8()];
      try {
        await this.o.kv.set(key, value, { expireIn: Math.max(1, expiresAt - this.#now()) });
      } catch (err) {
        this.#keep({ requests, errors, i, requestPages, errorPages });
        if (this.#failures++ === 0) {
          console.error("logs: flush failed (will retry):", failureText(err));
        }
        clearTimeout(this.#flushTimer);
        this.#flushTimer = undefined;
        this.#schedule(retryDelayMs(this.#failures));
        return;
      }
    }
    this.#failures = 0;
  }

  /**
   * After page `i` (request pages first, then error pages) was refused: keeps for the retry every
   * entry not yet stored in a log it belongs to. An error already in the request log is marked so,
   * and is written to the error log only.
   */
  #keep(o: {
    requests: LogEntry[];
    errors: LogEntry[];
    i: number;
    requestPages: PackedPage[];
    errorPages: PackedPage[];
  }): void {
    const inRequests = o.i < o.requestPages.length;
    const storedRequests = inRequests ? (o.requestPages[o.i - 1]?.to ?? 0) : o.requests.length;
    const storedErrors = inRequests ? 0 : (o.errorPages[o.i - o.requestPages.length - 1]?.to ?? 0);
    const keep = o.requests.slice(storedRequests);
    const kept = new Set(keep);
    for (const e of o.errors.slice(storedErrors)) {
      if (kept.has(e)) continue;
      this.#inRequestLog.add(e);
      keep.push(e);
    }
    this.#buffer.unshift(...keep);
    if (this.#buffer.length > MAX_BUFFERED) this.#buffer.splice(0, this.#buffer.length - MAX_BUFFERED);
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
      const list = entriesOf(page.value);
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
      const e = entriesOf(page.value).find((x) => x.id === id);
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
