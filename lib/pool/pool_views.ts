/**
 * Views of the key pool for the admin panel and the capacity report ({@link PoolViews}): a key's
 * state (active, cooling, disabled) and its cooldowns, its quota state per model ({@link PairView}),
 * counts of keys by state, and the views one model's capacity report needs. Read-only: nothing here
 * changes which key a request gets (reading a pair does roll its window forward, as a pick would).
 *
 * @module
 */
import type { ModelLimits } from "./key_record.ts";
import { pacificDay } from "./quota_clock.ts";
import { type EnabledIndex, indexEnabled } from "./enabled_index.ts";
import type { CoolKind, Entry, PoolState } from "./pool_state.ts";

/** One key's quota state for one model, for views (the panel, the capacity report). */
export interface PairView {
  model: string;
  /** The quota scope the key shares (`p:<project>` or `k:<id>`). */
  scope: string;
  /** Limits the admin entered for this key and model (or `*`). */
  configured: ModelLimits;
  /** Limits learned from Google's 429s for the scope. */
  learned: ModelLimits;
  /**
   * The limits this gateway paces the scope against: the configured or learned ones, or, when several
   * gateways serve from the same KV, this gateway's share of them (0 when it leaves the scope to the
   * others; see `lib/cluster/members.ts`).
   */
  paced: ModelLimits;
  /** Requests this gateway sent in the scope's current per-minute window (counted only when a limit is known). */
  usedThisMinute: number;
  /** Requests this gateway sent in the scope this Pacific day (counted only when a limit is known). */
  usedToday: number;
  /** When the pair is next usable (<= now: usable now; Infinity: not without an admin or a re-check). */
  freeAt: number;
  /** Why it is out of rotation, when it is. */
  coolKind?: CoolKind;
}

/** Options for {@link PoolViews}. */
export interface PoolViewsOptions {
  /** The pool's state it reads. */
  state: PoolState;
}

/** Reads a pool's state for views. */
export class PoolViews {
  readonly #state: PoolState;
  /** Enabled keys by quota scope (in pool order) and keys by the models they have limits for; see {@link #indexed}. */
  #index?: EnabledIndex;

  constructor(options: PoolViewsOptions) {
    this.#state = options.state;
  }

  /** The index of enabled keys, rebuilt when a record changed since the last call (O(keys) then, O(1) else). */
  #indexed(): EnabledIndex {
    const { entries, recordsVersion } = this.#state;
    if (this.#index?.version === recordsVersion) return this.#index;
    return this.#index = indexEnabled({ entries, version: recordsVersion });
  }

  /** Number of enabled keys. */
  get enabledCount(): number {
    return this.#indexed().enabled;
  }

  /** Models a key has quota state or configured limits for (its scope's and its own). */
  modelsOf(id: string): string[] {
    const e = this.#state.byId.get(id);
    if (!e) return [];
    const out = new Set<string>();
    for (const [model, byScope] of this.#state.pairs) {
      if (byScope.has(e.scope) || byScope.has(e.own)) out.add(model);
    }
    for (const model of Object.keys(e.record.limits ?? {})) if (model !== "*") out.add(model);
    return [...out].sort();
  }

  /** A key's quota state for `model` (limits, this window's and today's counts, when it frees). */
  pairView(id: string, model: string): PairView | undefined {
    const e = this.#state.byId.get(id);
    return e ? this.#view(e, model, this.#state.now()) : undefined;
  }

  #view(e: Entry, model: string, now: number): PairView {
    const state = this.#state;
    const freeAt = state.freeAt(e, model, now); // rolls the window and the day forward first
    const m = state.pairs.get(model);
    const s = m?.get(e.scope);
    const own = m?.get(e.own);
    const configured = e.record.limits?.[model] ?? e.record.limits?.["*"] ?? {};
    const cooling = [own, s].find((p) => p && p.coolUntil > now && p.coolKind);
    const paced = state.limits(e, model, s);
    return {
      model,
      scope: e.scope,
      configured: { ...configured },
      learned: { ...s?.learned },
      paced: {
        ...(paced.rpm !== undefined ? { rpm: Math.max(0, paced.rpm) } : {}),
        ...(paced.rpd !== undefined ? { rpd: Math.max(0, paced.rpd) } : {}),
      },
      usedThisMinute: s && s.windowEnd > now ? s.windowCount : 0,
      usedToday: s && s.day === pacificDay(now) ? s.dayCount : 0,
      freeAt,
      coolKind: cooling?.coolKind,
    };
  }

  /** Models with quota state in the pool, or with limits an admin entered for some key (not `*`). */
  statedModels(): Set<string> {
    const out = new Set(this.#indexed().limitModels);
    for (const [model, byScope] of this.#state.pairs) if (byScope.size && model !== "*") out.add(model);
    return out;
  }

  /**
   * The views a capacity report needs for `model`, without walking keys that have nothing for it: the
   * views of every enabled key (in pool order) of each quota scope where some key has state for the
   * model (a cooldown, a count, a backoff) or configured limits for it; the other enabled keys are
   * usable, without a known limit, and make up `enabled - (keys viewed)` keys in `scopes - special.length`
   * scopes. O(keys viewed), not O(keys).
   */
  modelViews(model: string): { enabled: number; scopes: number; special: PairView[][] } {
    const index = this.#indexed();
    const state = this.#state;
    const now = state.now();
    const scopes = new Set<string>();
    for (const scope of state.pairs.get(model)?.keys() ?? []) {
      if (index.scopes.has(scope)) scopes.add(scope);
      else if (scope.startsWith("k:")) { // a backoff of a key whose quota scope is its project
        const e = state.byId.get(scope.slice(2));
        if (e?.record.enabled) scopes.add(e.scope);
      }
    }
    for (const e of index.limited.get(model) ?? []) scopes.add(e.scope);
    for (const e of index.limited.get("*") ?? []) scopes.add(e.scope);
    const special = [...scopes].map((scope) =>
      index.scopes.get(scope)!.map((e) => this.#view(e, model, now))
    );
    return { enabled: index.enabled, scopes: index.scopes.size, special };
  }

  /** A key's state for views: disabled, cooling (some model cooling down) or active. */
  stateOf(id: string): "active" | "cooling" | "disabled" {
    const r = this.#state.byId.get(id)?.record;
    if (!r?.enabled) return "disabled";
    return this.cooldownsOf(id).length ? "cooling" : "active";
  }

  /**
   * Keys by state, as {@link stateOf} tells them one by one, in O(keys + pairs): `cooling` keys have
   * some model cooling down; `nextExpiry` is when the earliest of their cooldowns that ends after `after`
   * ends (Infinity: none).
   */
  stateCounts(
    after: number,
  ): { total: number; active: number; cooling: number; disabled: number; nextExpiry: number } {
    const state = this.#state;
    const now = state.now();
    const ends = new Map<string, number>(); // scope -> ends of its cooldowns after `after`, earliest
    const cooling = new Set<string>();
    for (const byScope of state.pairs.values()) {
      for (const [scope, s] of byScope) {
        if (!(s.coolUntil > now && s.coolKind)) continue;
        cooling.add(scope);
        if (s.coolUntil > after && !(s.coolUntil >= (ends.get(scope) ?? Infinity))) {
          ends.set(scope, s.coolUntil);
        }
      }
    }
    const out = { total: state.entries.length, active: 0, cooling: 0, disabled: 0, nextExpiry: Infinity };
    for (const e of state.entries) {
      if (!e.record.enabled) out.disabled++;
      else if (!cooling.has(e.scope) && !cooling.has(e.own)) out.active++;
      else {
        out.cooling++;
        out.nextExpiry = Math.min(out.nextExpiry, ends.get(e.scope) ?? Infinity, ends.get(e.own) ?? Infinity);
      }
    }
    return out;
  }

  /** Cooldowns that currently apply to a key, for views. */
  cooldownsOf(id: string): Array<{ model: string; until: number; kind: CoolKind; reason: string }> {
    const state = this.#state;
    const e = state.byId.get(id);
    if (!e) return [];
    const now = state.now();
    const out = [];
    for (const [model, byScope] of state.pairs) {
      for (const scope of new Set([e.scope, e.own])) {
        const s = byScope.get(scope);
        if (s && s.coolUntil > now && s.coolKind) {
          out.push({ model, until: s.coolUntil, kind: s.coolKind, reason: s.reason ?? "" });
        }
      }
    }
    return out;
  }
}
