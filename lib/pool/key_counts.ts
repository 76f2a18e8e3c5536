/**
 * Counts of keys by state (active, cooling, disabled) for `/health` and `/ready`, kept between calls:
 * recounted only after the pool changed (at most once a second) or when a cooldown ran out, so a health
 * check costs the same with 10 keys or 10,000 (it used to walk every key and model on every call).
 *
 * @module
 */
import type { KeyPool } from "./key_pool.ts";

/** Keys by state. */
export interface KeyStateCounts {
  total: number;
  active: number;
  cooling: number;
  disabled: number;
}

/** Options for {@link KeyCounts}. */
export interface KeyCountsOptions {
  /** Longest a count may lag behind pool changes; default 1 000 ms. */
  maxAgeMs?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

/** Maintained counts of the pool's keys by state. */
export class KeyCounts {
  #counts: KeyStateCounts = { total: 0, active: 0, cooling: 0, disabled: 0 };
  #version = -1;
  #countedAt = -Infinity;
  /** When the earliest cooldown counted ends (a cooling key becomes active then). */
  #nextExpiry = Infinity;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(private readonly pool: KeyPool, o: KeyCountsOptions = {}) {
    this.#maxAgeMs = o.maxAgeMs ?? 1_000;
    this.#now = o.now ?? Date.now;
  }

  /** The counts (recounted first when they may be stale). */
  get current(): KeyStateCounts {
    const now = this.#now();
    const changed = this.pool.version !== this.#version && now - this.#countedAt >= this.#maxAgeMs;
    if (changed || now >= this.#nextExpiry || this.#version < 0) this.#recount(now);
    return this.#counts;
  }

  #recount(now: number): void {
    this.#version = this.pool.version;
    const { nextExpiry, ...counts } = this.pool.stateCounts(now);
    this.#counts = counts;
    this.#countedAt = now;
    this.#nextExpiry = nextExpiry;
  }
}
