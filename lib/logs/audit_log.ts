/**
 * The audit log of admin actions: who (the admin session or the API token), when, from which address,
 * what was done and what changed. Admin actions are few, so each is one KV entry, written before the
 * action is answered, under `["logs", "audit", time, id]` (kept with the request and error logs, for
 * {@link AUDIT_RETENTION_MS}). Entries never hold secrets: keys are masked, secret settings and tokens
 * are named, not quoted.
 *
 * @module
 */

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

/** A page of the audit log. */
export interface AuditPage {
  entries: AuditEntry[];
  /** Cursor of the next (older) page. */
  next?: string;
}

/** KV-backed audit log. */
export class AuditLog {
  readonly #now: () => number;

  constructor(private readonly o: { kv: Deno.Kv; now?: () => number }) {
    this.#now = o.now ?? Date.now;
  }

  /** Stores an entry (awaited by the caller, so an answered action is on record). */
  async record(e: Omit<AuditEntry, "id" | "time"> & { time?: number }): Promise<AuditEntry> {
    const time = e.time ?? this.#now();
    const entry: AuditEntry = { ...e, time, id: `${time.toString(36)}-${crypto.randomUUID().slice(0, 8)}` };
    try {
      await this.o.kv.set(["logs", "audit", time, entry.id], entry, { expireIn: AUDIT_RETENTION_MS });
    } catch (err) {
      console.error("audit: could not store an entry:", err);
    }
    return entry;
  }

  /** Entries newest first, `limit` at a time (default 50, at most 500). */
  async query(q: { limit?: number; cursor?: string; action?: string } = {}): Promise<AuditPage> {
    const limit = Math.min(500, Math.max(1, q.limit ?? 50));
    const iter = this.o.kv.list<AuditEntry>({ prefix: ["logs", "audit"] }, {
      reverse: true,
      cursor: q.cursor || undefined,
    });
    const entries: AuditEntry[] = [];
    for await (const e of iter) {
      if (q.action && e.value.action !== q.action) continue;
      entries.push(e.value);
      if (entries.length >= limit) return { entries, next: iter.cursor };
    }
    return { entries };
  }
}
