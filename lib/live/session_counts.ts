/**
 * Concurrent Live sessions per key. Google limits how many Live sessions a project holds open at once
 * (a few on the free tier) and refuses one more with close code 1011 "… RESOURCE_EXHAUSTED: Maximum
 * concurrent sessions …". The gateway counts the sessions it holds open per quota scope (the key's
 * project label, else the key: keys of one project share the limit), learns a scope's limit from such a
 * refusal (the sessions it held there at that moment), and chooses keys through the pool
 * (`KeyPool.pick`, so cooldowns, disabled keys and pacing apply) least-loaded first, skipping the
 * scopes that are full. Counts are per process; a learned limit is forgotten after
 * {@link LEARNED_LIMIT_TTL_MS} so a raised limit is found again.
 *
 * Source: https://ai.google.dev/gemini-api/docs/rate-limits (Live API concurrent sessions).
 *
 * @module
 */
import type { KeyChoice, KeyPool, NoKey } from "../pool/key_pool.ts";

/** How long a learned session limit is trusted (ms). */
export const LEARNED_LIMIT_TTL_MS = 15 * 60_000;

interface Learned {
  /** Sessions the scope may hold (0: full for now, by sessions the gateway does not see). */
  limit: number;
  /** Epoch ms when the limit is forgotten. */
  until: number;
}

/** Open Live sessions per quota scope, learned limits, and the least-loaded key choice. */
export class SessionCounts {
  #open = new Map<string, number>();
  #learned = new Map<string, Learned>();
  readonly #pool: KeyPool;
  readonly #now: () => number;

  constructor(o: { pool: KeyPool; now?: () => number }) {
    this.#pool = o.pool;
    this.#now = o.now ?? Date.now;
  }

  #scope(keyId: string): string {
    return this.#pool.scopeOf(keyId) ?? `k:${keyId}`;
  }

  /** Sessions open (or being opened) on the key's scope. */
  openOn(keyId: string): number {
    return this.#open.get(this.#scope(keyId)) ?? 0;
  }

  /** Counts a session on a key until the returned release function is called (once; later calls do nothing). */
  acquire(keyId: string): () => void {
    const scope = this.#scope(keyId);
    this.#open.set(scope, (this.#open.get(scope) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#open.get(scope) ?? 1) - 1;
      if (n > 0) this.#open.set(scope, n);
      else this.#open.delete(scope);
    };
  }

  /**
   * Google refused a session on `keyId` for its concurrent-session limit (call after releasing the
   * refused attempt): the sessions the gateway holds there now are the limit. When it holds none, others
   * use the project: the scope counts as full for `holdMs`.
   */
  learnLimit(keyId: string, holdMs: number): void {
    const scope = this.#scope(keyId);
    const open = this.#open.get(scope) ?? 0;
    const now = this.#now();
    this.#learned.set(scope, { limit: open, until: now + (open > 0 ? LEARNED_LIMIT_TTL_MS : holdMs) });
  }

  /** The learned limit of the key's scope, if one is known and fresh. */
  limitOf(keyId: string): number | undefined {
    const scope = this.#scope(keyId);
    const l = this.#learned.get(scope);
    if (!l) return undefined;
    if (l.until <= this.#now()) {
      this.#learned.delete(scope);
      return undefined;
    }
    return l.limit;
  }

  /**
   * Chooses a key for a new session on `model` through the pool: among keys not yet `tried` whose scope
   * is below its learned limit, the least loaded first (round robin among equals, as the pool does).
   *
   * @returns the key, or why none can serve (`freeAt` Infinity when every scope is full).
   */
  choose(model: string, tried: ReadonlySet<string>): KeyChoice | NoKey {
    const exclude = new Set(tried);
    const loads = new Map<string, number>();
    let full = 0;
    for (const r of this.#pool.records()) {
      if (!r.enabled || tried.has(r.id)) continue;
      const open = this.openOn(r.id);
      const limit = this.limitOf(r.id);
      if (limit !== undefined && open >= limit) {
        exclude.add(r.id);
        full++;
      } else loads.set(r.id, open);
    }
    if (loads.size === 0 && full > 0) {
      return {
        freeAt: Infinity,
        reason: `all ${full} keys hold as many Live sessions as Google allows; try again when one ends`,
      };
    }
    let last: NoKey | undefined;
    for (const level of [...new Set(loads.values())].sort((a, b) => a - b)) {
      const busier = new Set(exclude);
      for (const [id, open] of loads) if (open > level) busier.add(id);
      const pick = this.#pool.pick(model, busier);
      if (!("freeAt" in pick)) return pick;
      last = pick;
    }
    return last ?? this.#pool.pick(model, exclude);
  }
}
