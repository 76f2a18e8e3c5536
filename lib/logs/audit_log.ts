/**
 * The audit log of admin actions: who (the admin session or the API token), when, from which address,
 * what was done and what changed. Admin actions are few, so each is one KV entry, written before the
 * action is answered, under `["logs", "audit", time, id]` (kept with the request and error logs, for
 * {@link AUDIT_RETENTION_MS}). Entries never hold secrets: keys are masked, secret settings and tokens
 * are named, not quoted.
 *
 * While the state store fails (its health says so, or a write failed), entries wait in memory (up to
 * {@link MAX_PENDING}), are listed by {@link AuditLog.query} all the same, and are written once the
 * store works again: an outage does not hold up the admin's answers with writes that cannot succeed,
 * nor crowd the store's other writers.
 *
 * @module
 */
import { failureText } from "../kv/write_behind.ts";

/** One admin action. */
export interface AuditEntry {
  id: string;
  /** Epoch ms. */
  time: number;
  /** Who: `session <id prefix>` for a signed-in browser, `API token` for a bearer caller. */
  actor: string;
  /** The admin's address (`lib/http/client_address.ts`). */
  address: string;
  /** What was done, e.g. `keys.delete`, `settings.update`, `signin`. */
  action: string;
  /** The admin API call, e.g. `POST /keys/delete` (empty for sign-in and sign-out). */
  request: string;
  /** HTTP status of the answer. */
  status: number;
  /** What changed, in a sentence (secrets masked or only named). */
  summary: string;
}

/** How long audit entries are kept: 90 days. */
export const AUDIT_RETENTION_MS = 90 * 86_400_000;

/** Most entries kept in memory while the store fails (the oldest are dropped beyond it). */
export const MAX_PENDING = 1_000;

/** The store's health as the audit log reads it (`KvHealth`). */
export interface StoreHealth {
  readonly status: { ok: boolean };
  onChange(listener: (s: { ok: boolean }) => void): () => void;
}

/** A page of the audit log. */
export interface AuditPage {
  entries: AuditEntry[];
  /** Cursor of the next (older) page. */
  next?: string;
}

/** KV-backed audit log. */
export class AuditLog {
  readonly #now: () => number;
  #pending: AuditEntry[] = [];
  #writing?: Promise<void>;
  readonly #unsubscribe: () => void;

  constructor(private readonly o: { kv: Deno.Kv; now?: () => number; health?: StoreHealth }) {
    this.#now = o.now ?? Date.now;
    this.#unsubscribe = o.health?.onChange((s) => {
      if (s.ok) void this.flush();
    }) ?? (() => {});
  }

  /**
   * Stores an entry (awaited by the caller, so an answered action is on record); while the store
   * fails, keeps it in memory until the store works again.
   */
  async record(e: Omit<AuditEntry, "id" | "time"> & { time?: number }): Promise<AuditEntry> {
    const time = e.time ?? this.#now();
    const entry: AuditEntry = { ...e, time, id: `${time.toString(36)}-${crypto.randomUUID().slice(0, 8)}` };
    if (this.o.health?.status.ok === false) {
      this.#keep(entry);
      return entry;
    }
    if (this.#pending.length) {
      // Entries kept from an outage go first, so the log stays in order.
      this.#keep(entry);
      await this.flush();
      return entry;
    }
    try {
      await this.o.kv.set(["logs", "audit", time, entry.id], entry, { expireIn: AUDIT_RETENTION_MS });
    } catch (err) {
      console.error("audit: could not store an entry (kept until the store works again):", failureText(err));
      this.#keep(entry);
    }
    return entry;
  }

  #keep(entry: AuditEntry): void {
    this.#pending.push(entry);
    if (this.#pending.length > MAX_PENDING) this.#pending.splice(0, this.#pending.length - MAX_PENDING);
  }

  /** Writes the entries kept while the store failed (called when the store works again). */
  flush(): Promise<void> {
    this.#writing ??= (async () => {
      try {
        while (this.#pending.length) {
          const batch = this.#pending.slice(0, 100);
          const op = this.o.kv.atomic();
          for (const e of batch) op.set(["logs", "audit", e.time, e.id], e, { expireIn: AUDIT_RETENTION_MS });
          await op.commit();
          this.#pending.splice(0, batch.length);
        }
      } catch (err) {
        console.error("audit: kept entries not stored yet:", failureText(err));
      } finally {
        this.#writing = undefined;
      }
    })();
    return this.#writing;
  }

  /** Stops following the store's health; entries still kept are tried once more. */
  async close(): Promise<void> {
    this.#unsubscribe();
    await this.flush();
  }

  /** Entries newest first, `limit` at a time (default 50, at most 500). */
  async query(q: { limit?: number; cursor?: string; action?: string } = {}): Promise<AuditPage> {
    const limit = Math.min(500, Math.max(1, q.limit ?? 50));
    const iter = this.o.kv.list<AuditEntry>({ prefix: ["logs", "audit"] }, {
      reverse: true,
      cursor: q.cursor || undefined,
    });
    // Entries kept while the store fails are newer than the stored ones: they come first.
    const kept = q.cursor ? [] : this.#pending.filter((e) => !q.action || e.action === q.action).reverse();
    const entries: AuditEntry[] = kept.slice(0, limit);
    if (entries.length >= limit) return { entries };
    for await (const e of iter) {
      if (q.action && e.value.action !== q.action) continue;
      entries.push(e.value);
      if (entries.length >= limit) return { entries, next: iter.cursor };
    }
    return { entries };
  }
}
