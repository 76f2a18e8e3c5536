/**
 * The key pool ({@link KeyPool}): the facade the gateway uses for its keys. It owns the key records
 * (add, replace, remove, enable, patch) and the change notices persistence listens to
 * ({@link KeyPool.onDirty}; `PoolStore` writes the durable copies), and hands the rest to its parts,
 * which share one `PoolState` (`pool_state.ts`: keys, per (scope, model) pair state, pacing):
 * - key choice, `key_choice.ts` (`pick`, `nextFreeAt`, `noKeyReason`);
 * - state transitions, `state_transitions.ts` (`report`, `reset`, `restorePair`);
 * - views for the admin and the capacity report, `pool_views.ts` (`pairView`, `modelViews`,
 *   `stateCounts`, ...).
 *
 * Everything here is synchronous: the request path never awaits KV. Quota state is kept per (quota
 * scope, model) pair; a key's quota scope is its project when it has a project label, else the key.
 *
 * @module
 */
import type { Verdict } from "./classify.ts";
import { type KeyKind, type KeyRecord, kindOf } from "./key_record.ts";
import {
  type CoolKind,
  type Dirty,
  type Entry,
  type KeyPoolOptions,
  type PairSnapshot,
  type PairState,
  PoolState,
} from "./pool_state.ts";
import {
  GEMINI_ONLY,
  type KeyChoice,
  KeyChooser,
  type KindOrder,
  type NoKey,
  type PickOptions,
} from "./key_choice.ts";
import { StateTransitions } from "./state_transitions.ts";
import { type PairView, PoolViews } from "./pool_views.ts";

export type { CoolKind, Dirty, KeyPoolOptions, PairSnapshot, PairState } from "./pool_state.ts";
export { GEMINI_ONLY } from "./key_choice.ts";
export type { KeyChoice, KindOrder, NoKey, NoKeyWhy, PickOptions } from "./key_choice.ts";
export type { PairView } from "./pool_views.ts";

/** The pool of keys, with per-model cooldowns, pacing and round-robin choice. */
export class KeyPool {
  readonly #state: PoolState;
  readonly #chooser: KeyChooser;
  readonly #transitions: StateTransitions;
  readonly #views: PoolViews;

  constructor(options: KeyPoolOptions = {}) {
    const state = this.#state = new PoolState(options);
    this.#chooser = new KeyChooser({ state });
    this.#transitions = new StateTransitions({
      state,
      disable: (id, reason) => this.setEnabled(id, false, reason),
    });
    this.#views = new PoolViews({ state });
  }

  /**
   * Grows whenever durable state changes (a key added, removed or changed; a cooldown set or cleared),
   * not when Google judges a key for the first time.
   */
  get version(): number {
    return this.#state.version;
  }

  /** Grows whenever a key record is added, replaced or removed (not on cooldowns). */
  get recordsVersion(): number {
    return this.#state.recordsVersion;
  }

  /**
   * Grows whenever the set of key secrets changes (a key added, removed, or its secret replaced), not when
   * a record's other fields change (enabled, label, limits, last error): what a redactor rebuilds on.
   */
  get secretsVersion(): number {
    return this.#state.secretsVersion;
  }

  /** Number of keys (enabled or not). */
  get size(): number {
    return this.#state.entries.length;
  }

  /** Calls `listener` whenever durable state changes (for persistence and live views). */
  onDirty(listener: (d: Dirty) => void): () => void {
    const listeners = this.#state.listeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** Adds or replaces a key record (from KV, the environment or the admin). */
  upsert(record: KeyRecord): void {
    const state = this.#state;
    const kind = kindOf(record);
    // A project's Gemini API and Vertex AI quotas are separate: Vertex keys get their own project scope.
    const scope = record.project ? `${kind === "vertex" ? "vp" : "p"}:${record.project}` : `k:${record.id}`;
    const old = state.byId.get(record.id);
    const entry: Entry = {
      record,
      kind,
      scope,
      own: `k:${record.id}`,
      seenAt: old?.seenAt ?? state.now(),
      pos: 0,
      checked: state.checked.has(record.id),
    };
    state.version++;
    state.recordsVersion++;
    state.epoch++;
    state.freeing++;
    if (old?.record.key !== record.key) state.secretsVersion++;
    entry.pos = old ? old.pos : state.entries.length;
    state.entries[entry.pos] = entry;
    if (old) state.kindCounts[old.kind]--;
    state.kindCounts[kind]++;
    state.byId.set(record.id, entry);
  }

  /** Removes a key. */
  remove(id: string): boolean {
    const state = this.#state;
    const e = state.byId.get(id);
    if (!e) return false;
    state.version++;
    state.recordsVersion++;
    state.epoch++;
    state.freeing++;
    state.secretsVersion++;
    state.byId.delete(id);
    state.entries.splice(e.pos, 1);
    for (let i = e.pos; i < state.entries.length; i++) state.entries[i].pos = i;
    state.kindCounts[e.kind]--;
    return true;
  }

  /** A key record by id. */
  get(id: string): KeyRecord | undefined {
    return this.#state.byId.get(id)?.record;
  }

  /** All key records, in pool order. */
  records(): KeyRecord[] {
    return this.#state.entries.map((e) => e.record);
  }

  /** How many keys (enabled or not) are of `kind`. */
  countOf(kind: KeyKind): number {
    return this.#state.kindCounts[kind];
  }

  /** The quota scope of a key. */
  scopeOf(id: string): string | undefined {
    return this.#state.byId.get(id)?.scope;
  }

  /** Pair states for a scope (or for every scope of `model` when scope is omitted). */
  pairs(): Array<{ model: string; scope: string; state: PairState }> {
    const out = [];
    for (const [model, m] of this.#state.pairs) {
      for (const [scope, state] of m) out.push({ model, scope, state });
    }
    return out;
  }

  /** The state of one (scope, model) pair, when it has one. */
  pairState(model: string, scope: string): PairState | undefined {
    return this.#state.pairs.get(model)?.get(scope);
  }

  /** Restores a pair's durable state (from KV). */
  restorePair(model: string, scope: string, snap: PairSnapshot): void {
    this.#transitions.restorePair(model, scope, snap);
  }

  /**
   * Chooses a key for `model`, round robin among keys free for it, skipping `exclude` (keys this
   * request already tried), trying the kind groups of `options.kinds` in order. Counts the request
   * against the key's known limits. See `KeyChooser.pick` (`key_choice.ts`).
   */
  pick(model: string, exclude?: ReadonlySet<string>, options?: PickOptions): KeyChoice | NoKey {
    return this.#chooser.pick(model, exclude, options);
  }

  /**
   * True once Google answered for the key in a way that shows it works (a success, a quota error, no
   * access to a model). Until then, when several gateways serve, only one of them tries the key, so an
   * invalid key costs one call in all, not one per gateway (a key found invalid is disabled instead).
   */
  isChecked(id: string): boolean {
    return this.#state.checked.has(id);
  }

  /** Notes that a key was judged (from KV: another gateway's verdict). */
  markChecked(id: string): void {
    const state = this.#state;
    if (!state.checked.has(id)) state.epoch++;
    state.markChecked(id);
  }

  /** Models a key has quota state or configured limits for (its scope's and its own). */
  modelsOf(id: string): string[] {
    return this.#views.modelsOf(id);
  }

  /** A key's quota state for `model` (limits, this window's and today's counts, when it frees). */
  pairView(id: string, model: string): PairView | undefined {
    return this.#views.pairView(id, model);
  }

  /** Number of enabled keys. */
  get enabledCount(): number {
    return this.#views.enabledCount;
  }

  /** Models with quota state in the pool, or with limits an admin entered for some key (not `*`). */
  statedModels(): Set<string> {
    return this.#views.statedModels();
  }

  /** The views a capacity report needs for `model`, O(keys viewed); see `PoolViews.modelViews`. */
  modelViews(model: string): { enabled: number; scopes: number; special: PairView[][] } {
    return this.#views.modelViews(model);
  }

  /** Earliest time (epoch ms) any enabled key of `kinds` can serve `model`, without choosing one. */
  nextFreeAt(model: string, kinds: KindOrder = GEMINI_ONLY): number {
    return this.#chooser.nextFreeAt(model, kinds);
  }

  /** Why no key of `kinds` can serve `model` now (the sentence `pick` gives), without choosing one. */
  noKeyReason(model: string, kinds: KindOrder = GEMINI_ONLY): string {
    return this.#chooser.noKeyReason(model, kinds);
  }

  /** Applies what an upstream outcome means to the key that got it. */
  report(id: string, model: string, verdict: Verdict): void {
    this.#transitions.report(id, model, verdict);
  }

  /** Enables or disables a key (with the reason shown to the admin). */
  setEnabled(id: string, enabled: boolean, reason?: string): void {
    const e = this.#state.byId.get(id);
    if (!e) return;
    const r = e.record;
    if (enabled) this.upsert({ ...r, enabled, disabledReason: undefined, disabledAt: undefined });
    else this.upsert({ ...r, enabled, disabledReason: reason ?? "disabled", disabledAt: this.#state.now() });
    this.#state.dirty({ type: "key", id, disabled: r.enabled && !enabled ? true : undefined });
  }

  /** Updates a key's record fields (label, project, limits, lastError). */
  patch(id: string, patch: Partial<Omit<KeyRecord, "id" | "key">>): void {
    const e = this.#state.byId.get(id);
    if (!e) return;
    this.upsert({ ...e.record, ...patch });
    this.#state.dirty({ type: "key", id });
  }

  /**
   * Clears cooldowns, backoffs and learned counters for a key (every model, or one).
   *
   * @returns a function that puts back what was cleared (when the change could not be stored).
   */
  reset(id: string, model?: string): () => void {
    return this.#transitions.reset(id, model);
  }

  /** A key's state for views: disabled, cooling (some model cooling down) or active. */
  stateOf(id: string): "active" | "cooling" | "disabled" {
    return this.#views.stateOf(id);
  }

  /** Keys by state in O(keys + pairs), with the next cooldown end after `after`; see `PoolViews.stateCounts`. */
  stateCounts(
    after: number,
  ): { total: number; active: number; cooling: number; disabled: number; nextExpiry: number } {
    return this.#views.stateCounts(after);
  }

  /** Cooldowns that currently apply to a key, for views. */
  cooldownsOf(id: string): Array<{ model: string; until: number; kind: CoolKind; reason: string }> {
    return this.#views.cooldownsOf(id);
  }
}
