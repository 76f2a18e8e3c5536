/**
 * Re-checks disabled and "no access" keys on a schedule, with calls that use no generation quota.
 * Only one instance runs a round at a time: a lease in KV decides which.
 *
 * @module
 */
import type { KeyAdmin } from "./key_admin.ts";
import { ADMIN_DISABLED } from "./key_admin.ts";
import type { KeyPool } from "./key_pool.ts";
import { type KeyKind, type KeyRecord, kindOf } from "./key_record.ts";
import { verifyKey } from "./verify.ts";
import { takeLease } from "../cluster/lease.ts";

/** Options for {@link Rechecker}. */
export interface RecheckerOptions {
  kv: Deno.Kv;
  pool: KeyPool;
  admin: KeyAdmin;
  /** Interval between rounds in ms (0 disables). */
  intervalMs: () => number;
  /** Where checks of a key of `kind` go. */
  baseUrl: (kind: KeyKind) => string;
  clientFor?: (keyId: string) => Deno.HttpClient | undefined;
}

/** What one round did. */
export interface RecheckRound {
  ran: boolean;
  keysChecked: number;
  keysRestored: number;
  pairsRestored: number;
}

/** Schedules re-checks; call {@link Rechecker.start}. */
export class Rechecker {
  readonly owner = crypto.randomUUID();
  #timer?: number;

  constructor(private readonly o: RecheckerOptions) {}

  /** Starts the schedule (checks every minute whether a round is due). */
  start(): void {
    this.#timer = setInterval(() => void this.tick().catch(() => {}), 60_000) as unknown as number;
    Deno.unrefTimer(this.#timer);
  }

  /** Stops the schedule. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** Takes the lease if it is free or expired; true when this instance holds it now. */
  acquireLease(now = Date.now()): Promise<boolean> {
    const ttlMs = Math.max(this.o.intervalMs(), 10_000);
    return takeLease({ kv: this.o.kv, job: "recheck", owner: this.owner, ttlMs, now });
  }

  /** Runs a round if one is due and this instance wins the lease. */
  async tick(force = false): Promise<RecheckRound> {
    const round: RecheckRound = { ran: false, keysChecked: 0, keysRestored: 0, pairsRestored: 0 };
    if (!force && this.o.intervalMs() <= 0) return round;
    if (!(await this.acquireLease())) return round;
    round.ran = true;
    const disabled = this.o.pool.records().filter((r) => !r.enabled && r.disabledReason !== ADMIN_DISABLED);
    const report = await this.o.admin.verify(disabled.map((r) => r.id), { concurrency: 4 });
    round.keysChecked = report.checked;
    round.keysRestored = report.enabled.length;
    // The first enabled key of each quota scope (one pass, not one per pair: 10,000 keys without
    // access to a model would otherwise cost 10,000 walks over the pool).
    const firstOf = new Map<string, KeyRecord>();
    for (const r of this.o.pool.records()) {
      const scope = this.o.pool.scopeOf(r.id);
      if (r.enabled && scope !== undefined && !firstOf.has(scope)) firstOf.set(scope, r);
    }
    for (const { model, scope, state } of this.o.pool.pairs()) {
      if (state.coolKind !== "no_access") continue;
      const rec = firstOf.get(scope);
      if (!rec) continue;
      const v = await verifyKey({
        baseUrl: this.o.baseUrl(kindOf(rec)),
        kind: kindOf(rec),
        key: rec.key,
        model,
        client: this.o.clientFor?.(rec.id),
      });
      if (v.kind === "ok") {
        this.o.pool.reset(rec.id, model);
        round.pairsRestored++;
      }
    }
    return round;
  }
}
