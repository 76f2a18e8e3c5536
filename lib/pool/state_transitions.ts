/**
 * State transitions of the key pool's pairs ({@link StateTransitions}): what an upstream verdict
 * (`classify.ts`) does to the key that got it (a cooldown until Google's window ends, a learned
 * limit, no access to a model, a backoff after transient failures, the key disabled), an admin's
 * reset, and a pair's durable state restored from KV. Each change tells the pool's listeners
 * (`Dirty`) and the key choice's caches (the change counters of `PoolState`).
 *
 * @module
 */
import type { Verdict } from "./classify.ts";
import { pacificDay } from "./quota_clock.ts";
import type { PairSnapshot, PairState, PoolState } from "./pool_state.ts";

/** Options for {@link StateTransitions}. */
export interface StateTransitionsOptions {
  /** The pool's state it changes. */
  state: PoolState;
  /** Disables a key with the reason shown to the admin (for a `disable` verdict). */
  disable: (id: string, reason: string) => void;
}

/** Applies verdicts, resets and restores to a pool's state. */
export class StateTransitions {
  readonly #state: PoolState;
  readonly #disable: (id: string, reason: string) => void;

  constructor(options: StateTransitionsOptions) {
    this.#state = options.state;
    this.#disable = options.disable;
  }

  /** Restores a pair's durable state (from KV). */
  restorePair(model: string, scope: string, snap: PairSnapshot): void {
    const state = this.#state;
    state.version++;
    state.epoch++;
    state.freeing++;
    const s = state.pair(model, scope);
    // This gateway's count belongs to its own window: end that window first when it is over, and
    // never move the window back (a snapshot's older window would reset the count and send too many).
    if (s.windowEnd) state.roll(s, state.now());
    const windowEnd = Math.max(s.windowEnd, snap.windowEnd ?? 0);
    Object.assign(s, snap, { windowEnd });
  }

  /** Notes when a pair's new state may free its keys earlier than the old one did (see `CoolingSkip`). */
  #freedEarlier(model: string, was: PairState, s: PairState): void {
    const limit = (n?: number) => n ?? Infinity;
    if (
      s.coolUntil < was.coolUntil || s.windowEnd < was.windowEnd || s.windowCount < was.windowCount ||
      s.dayCount < was.dayCount || s.day !== was.day || limit(s.learned.rpm) > limit(was.learned.rpm) ||
      limit(s.learned.rpd) > limit(was.learned.rpd)
    ) this.#state.freedFor(model);
  }

  /** Applies what an upstream outcome means to the key that got it. */
  report(id: string, model: string, verdict: Verdict): void {
    const state = this.#state;
    const e = state.byId.get(id);
    if (!e) return;
    const now = state.now();
    if (state.probing.delete(id)) state.epoch++;
    // A key to disable is not marked: its disabled record tells the others (a "checked" notice
    // arriving first would let them use it before they learn it is disabled).
    if (
      (verdict.kind === "ok" || verdict.kind === "cooldown" || verdict.kind === "no_access") &&
      !e.checked
    ) {
      state.markChecked(id);
      state.dirty({ type: "checked", id });
    }
    switch (verdict.kind) {
      case "ok": {
        const own = state.pairs.get(model)?.get(e.own);
        if (own?.failures) {
          state.touch(model);
          state.freedFor(model);
          own.failures = 0;
          if (own.coolKind === "backoff") own.coolUntil = 0;
        }
        return;
      }
      case "client_error":
      case "overloaded": // Google's capacity, not the key's: the key stays in rotation
        return;
      case "cooldown": {
        const s = state.pair(model, e.scope);
        const was = { ...s, learned: { ...s.learned } };
        const until = verdict.window === "minute" ? state.windowEndNear(verdict.until, now) : verdict.until;
        s.coolUntil = Math.max(s.coolUntil, until);
        s.coolKind = verdict.window;
        s.reason = verdict.reason;
        if (verdict.window === "minute") {
          s.windowEnd = until; // Google told us when this window ends
          if (verdict.limit) [s.learned.rpm, s.windowCount] = [verdict.limit, verdict.limit];
        } else if (verdict.limit) {
          s.learned.rpd = verdict.limit;
          [s.day, s.dayCount] = [pacificDay(now), verdict.limit];
        }
        this.#freedEarlier(model, was, s);
        state.dirty({ type: "pair", scope: e.scope, model });
        return;
      }
      case "no_access": {
        const s = state.pair(model, e.scope);
        Object.assign(s, {
          coolUntil: Infinity,
          coolKind: "no_access",
          reason: verdict.reason,
        });
        if (verdict.answer) state.noAccessAnswers.set(model, verdict.answer);
        state.dirty({ type: "pair", scope: e.scope, model });
        return;
      }
      case "disable":
        this.#disable(id, verdict.reason);
        return;
      case "transient": {
        const s = state.pair(model, e.own);
        s.failures++;
        if (s.failures >= 2) {
          const wait = Math.min(1000 * 2 ** (s.failures - 2), state.backoffMax());
          // A key's own pair is also its quota scope's when it has no project: the backoff may end
          // before the quota cooldown it replaces.
          if (now + wait < s.coolUntil) state.freedFor(model);
          Object.assign(s, { coolUntil: now + wait, coolKind: "backoff", reason: verdict.reason });
          state.dirty({ type: "pair", scope: e.own, model });
        }
        return;
      }
    }
  }

  /**
   * Clears cooldowns, backoffs and learned counters for a key (every model, or one).
   *
   * @returns a function that puts back what was cleared (when the change could not be stored).
   */
  reset(id: string, model?: string): () => void {
    const state = this.#state;
    const e = state.byId.get(id);
    const before: Array<[PairState, PairState]> = [];
    if (!e) return () => {};
    for (const [m, byScope] of state.pairs) {
      if (model && m !== model) continue;
      for (const scope of new Set([e.scope, e.own])) {
        const s = byScope.get(scope);
        if (!s) continue;
        before.push([s, { ...s }]);
        Object.assign(s, {
          coolUntil: 0,
          coolKind: undefined,
          reason: undefined,
          failures: 0,
          windowCount: 0,
        });
        state.dirty({ type: "pair", scope, model: m });
      }
    }
    state.freeing++;
    return () => {
      state.epoch++;
      state.freeing++;
      for (const [s, was] of before) Object.assign(s, was);
    };
  }
}
