/**
 * Key choice ({@link KeyChooser}): which key serves a request. A round robin per model over the keys
 * free for it, in the kind groups a request allows ({@link KindOrder}), with a preferred key (a
 * client's home key) taken first when free, keys Google has not judged yet left to one gateway, the
 * round robin's skip list (`cooling_skip.ts`) and a memo of "no key" answers, so that a flood of
 * requests for an exhausted model costs O(1) each. Also the answer when no key can serve
 * ({@link NoKey}) and the same facts without choosing (`nextFreeAt`, `noKeyReason`).
 *
 * Keys are of two kinds (Gemini API, Vertex AI express). A pick names the kinds that may serve, in
 * groups tried in order; without one only Gemini API keys serve, so a caller that does not know about
 * kinds never sends a request to a Vertex key.
 *
 * @module
 */
import type { UpstreamAnswer } from "./classify.ts";
import { KEY_KINDS, type KeyKind } from "./key_record.ts";
import { type MemberShare, saltOf } from "../cluster/members.ts";
import { CoolingSkip } from "./cooling_skip.ts";
import type { Entry, PoolState } from "./pool_state.ts";

/** A key chosen for a request. */
export interface KeyChoice {
  id: string;
  key: string;
  /** Which service the key is for (decides the upstream URL and wire format). */
  kind: KeyKind;
}

/**
 * The key kinds that may serve a request, in groups tried in order: a key of the first group that can
 * serve wins; the next group is tried only when none of the first can. `[["gemini", "vertex"]]` is one
 * round robin over both kinds; `[["vertex"], ["gemini"]]` prefers Vertex keys.
 */
export type KindOrder = ReadonlyArray<ReadonlyArray<KeyKind>>;

/** Only Gemini API keys: the order of every pick that names none. */
export const GEMINI_ONLY: KindOrder = [["gemini"]];

/** Options of {@link KeyChooser.pick}. */
export interface PickOptions {
  /**
   * A key to take when it is enabled, of an allowed kind, not excluded and free for the model (a
   * client's home key); otherwise the round robin goes on as usual.
   */
  prefer?: string;
  /** Kinds that may serve, in order of preference (default {@link GEMINI_ONLY}). */
  kinds?: KindOrder;
}

/**
 * Why no key can serve: `quota` (some key waits for a quota window or pacing), `backoff` (keys back
 * off after upstream failures only), `no_access` (no enabled key's project may use the model),
 * `disabled` (no enabled key left untried), `empty` (no keys at all).
 */
export type NoKeyWhy = "quota" | "backoff" | "no_access" | "disabled" | "empty";

/** No key can serve the model now. */
export interface NoKey {
  /** Epoch ms when the earliest key frees up (Infinity when none will without an admin). */
  freeAt: number;
  /** A sentence for the client, e.g. "all 12 keys are cooling down for gemini-2.5-pro". */
  reason: string;
  /** Why, when the pool decided (callers that build their own NoKey may leave it out). */
  why?: NoKeyWhy;
  /** For `no_access`: Google's last answer that said so, when this process saw one. */
  answer?: UpstreamAnswer;
}

/** What a walk over the keys found when none could serve (the rest of the answer is built from it). */
interface NoKeyFacts {
  /** Enabled keys of the allowed kinds (not excluded). */
  usable: number;
  /** When the first of them frees (Infinity: none will without an admin). */
  earliest: number;
  /** The model's quota state version the walk saw. */
  modelEpoch: number;
  /** Whether only error backoffs (and keys without access) keep them out; found when first needed. */
  backoffOnly?: boolean;
}

/** What {@link KeyChooser.pick}'s walks found when no key could serve. */
interface WalkFound {
  facts?: NoKeyFacts;
  /** Some key's wait was counted from now (a call in flight): the answer holds for this instant only. */
  timeRelative?: boolean;
}

/** A "no key" answer remembered until the pool changes, a key may free, or the gateways change. */
interface NoKeyMemo extends NoKeyFacts {
  kinds: KindOrder;
  epoch: number;
  share: MemberShare;
  peers: MemberShare;
  /** The quota window's length when remembered (a settings change forgets it). */
  windowMs: number;
  heldBack?: boolean;
}

/** A call with a key not judged yet that never reported (the client left) frees the key after this. */
const PROBE_MS = 30_000;
/** After this long in the pool, a key not judged yet is tried by any gateway (its owner may be idle). */
const UNCHECKED_GRACE_MS = 10_000;

/** Options for {@link KeyChooser}. */
export interface KeyChooserOptions {
  /** The pool's state it chooses from (and counts each choice in). */
  state: PoolState;
}

/** Chooses keys from a pool's state: round robin per model among keys free for it. */
export class KeyChooser {
  readonly #state: PoolState;
  #cursor = new Map<string, number>();
  /** Per model: the last pick without exclusions that found no key, while still true. */
  #pickMemo = new Map<string, NoKeyMemo>();
  /** Per model: the last walk of {@link nextFreeAt} / {@link noKeyReason} that found no key free, while still true. */
  #freeMemo = new Map<string, NoKeyMemo>();
  /** Per model: keys known to be out of the round robin until some time. */
  #skips = new Map<string, CoolingSkip>();

  constructor(options: KeyChooserOptions) {
    this.#state = options.state;
  }

  /**
   * Chooses a key for `model`, round robin among keys free for it, skipping `exclude` (keys this
   * request already tried), trying the kind groups of `options.kinds` in order. Counts the request
   * against the key's known limits.
   */
  pick(model: string, exclude?: ReadonlySet<string>, options: PickOptions = {}): KeyChoice | NoKey {
    const state = this.#state;
    const now = state.now();
    const kinds = options.kinds ?? GEMINI_ONLY;
    const preferred = options.prefer === undefined ? undefined : state.byId.get(options.prefer);
    if (
      preferred?.record.enabled && !exclude?.has(preferred.record.id) &&
      kinds.some((g) => g.includes(preferred.kind)) && state.freeAt(preferred, model, now) <= now
    ) {
      return this.#chosen(preferred, model, now);
    }
    // A request that excludes no key, while the pool is as it was when the last such pick found none
    // for the model and no key can have freed since, gets that answer again without a walk over every
    // key (a flood of requests for an exhausted model costs O(1) each, not O(keys)).
    const memoable = !exclude?.size;
    const memo = memoable ? this.#recall(this.#pickMemo, model, kinds, now) : undefined;
    if (memo) {
      const again: NoKey & { heldBack?: boolean } = this.#noKey(model, { kinds, now, facts: memo });
      again.heldBack = memo.heldBack;
      return again;
    }
    // Keys Google has not judged yet that another gateway tries are left to it while this gateway has
    // judged keys (even cooling ones); with none, it tries them too.
    const found: WalkFound = {};
    const strict = this.#pickFrom({ model, exclude, kinds, now, strict: true, found });
    const out = "freeAt" in strict && strict.heldBack
      ? this.#pickFrom({ model, exclude, kinds, now, strict: false, found })
      : strict;
    if ("freeAt" in out && memoable && found.facts && !found.timeRelative) {
      this.#pickMemo.set(model, this.#memo(kinds, { ...found.facts, heldBack: out.heldBack }));
    }
    return out;
  }

  #memo(kinds: KindOrder, facts: NoKeyFacts & { heldBack?: boolean }): NoKeyMemo {
    const state = this.#state;
    return {
      ...facts,
      kinds,
      epoch: state.epoch,
      share: state.share(),
      peers: state.peers(),
      windowMs: state.windowMs(),
    };
  }

  /** A remembered "no key" for `model` that still holds: same kinds, nothing changed, no key freed yet. */
  #recall(
    memos: Map<string, NoKeyMemo>,
    model: string,
    kinds: KindOrder,
    now: number,
  ): NoKeyMemo | undefined {
    const m = memos.get(model);
    if (!m) return undefined;
    const state = this.#state;
    if (
      m.kinds === kinds && m.epoch === state.epoch && m.modelEpoch === (state.modelEpochs.get(model) ?? 0) &&
      now < m.earliest && m.share === state.share() && m.peers === state.peers() &&
      m.windowMs === state.windowMs()
    ) return m;
    memos.delete(model);
    return undefined;
  }

  #pickFrom(
    o: {
      model: string;
      exclude?: ReadonlySet<string>;
      kinds: KindOrder;
      now: number;
      strict: boolean;
      found: WalkFound;
    },
  ): KeyChoice | (NoKey & { heldBack?: boolean }) {
    const quick = this.#pickQuick(o);
    if (quick) return quick;
    // None free: the full walk below counts what the answer tells (and finds none either).
    const { model, exclude, kinds, now, strict } = o;
    const state = this.#state;
    const n = state.entries.length;
    const start = this.#cursor.get(model) ?? 0;
    let earliest = Infinity;
    let usable = 0;
    let judged = 0;
    let heldBack = false;
    let timeRelative = false;
    for (const group of kinds) {
      for (let i = 0; i < n; i++) {
        const idx = (start + i) % n;
        const e = state.entries[idx];
        if (!group.includes(e.kind) || !e.record.enabled || exclude?.has(e.record.id)) continue;
        usable++;
        let free: number;
        if (e.checked) {
          judged++;
          free = state.freeAt(e, model, now);
        } else {
          const wait = this.#uncheckedWait(e, now);
          if (wait === "theirs" && strict) heldBack = true;
          if (wait === "in_flight") timeRelative = true;
          if (wait === "in_flight") free = now + 100; // its verdict is on the way
          else if (wait === "theirs" && strict) free = e.seenAt + UNCHECKED_GRACE_MS;
          else free = state.freeAt(e, model, now);
        }
        if (free > now) {
          if (free < earliest) earliest = free;
          continue;
        }
        return this.#take(e, model, now);
      }
    }
    const facts: NoKeyFacts = { usable, earliest, modelEpoch: state.modelEpochs.get(model) ?? 0 };
    Object.assign(o.found, { facts, timeRelative });
    return { ...this.#noKey(model, { kinds, now, exclude, facts }), heldBack: heldBack && judged === 0 };
  }

  /**
   * The round robin's choice, visiting only keys not known to be out for the model: a key found out
   * until some time (a cooldown, a spent pacing window, a backoff) is left out of the model's
   * {@link CoolingSkip} until then, so a pool where most keys are out costs O(keys / 32 + log keys)
   * per pick, not O(keys / free keys). Picks the same key the full walk would; undefined when none is
   * free.
   */
  #pickQuick(
    o: { model: string; exclude?: ReadonlySet<string>; kinds: KindOrder; now: number; strict: boolean },
  ) {
    const { model, exclude, kinds, now, strict } = o;
    const state = this.#state;
    const n = state.entries.length;
    if (n === 0) return undefined;
    const skip = this.#skipFor(model, now);
    const start = (this.#cursor.get(model) ?? 0) % n;
    for (const group of kinds) {
      // One lap in pool order from the cursor: [start, n) then [0, start).
      for (let half = 0; half < 2; half++) {
        const [from, to] = half === 0 ? [start, n] : [0, start];
        for (let idx = skip.next(from); idx !== -1 && idx < to; idx = skip.next(idx + 1)) {
          const e = state.entries[idx];
          if (!group.includes(e.kind) || !e.record.enabled || exclude?.has(e.record.id)) continue;
          let free: number;
          let known = true; // `free` holds until something changes in the pool (not just for this pass)
          if (e.checked) free = state.freeAt(e, model, now);
          else {
            const wait = this.#uncheckedWait(e, now);
            known = wait === "free";
            if (wait === "in_flight") free = now + 100;
            else if (wait === "theirs" && strict) free = e.seenAt + UNCHECKED_GRACE_MS;
            else free = state.freeAt(e, model, now);
          }
          if (free > now) {
            if (known) skip.leaveOut(idx, free);
            continue;
          }
          return this.#take(e, model, now);
        }
      }
    }
    return undefined;
  }

  /** The model's skip list, new when the pool changed since, with keys whose time came back in. */
  #skipFor(model: string, now: number): CoolingSkip {
    const state = this.#state;
    let skip = this.#skips.get(model);
    const share = state.share();
    const peers = state.peers();
    const windowMs = state.windowMs();
    const freeing = state.freeing;
    const modelFreeing = state.modelFreeing.get(model) ?? 0;
    if (
      !skip || skip.freeing !== freeing || skip.modelFreeing !== modelFreeing || skip.share !== share ||
      skip.peers !== peers || skip.windowMs !== windowMs || skip.size !== state.entries.length
    ) {
      skip = new CoolingSkip({ size: state.entries.length, freeing, modelFreeing, share, peers, windowMs });
      this.#skips.set(model, skip);
    }
    skip.bringBack(now);
    return skip;
  }

  /**
   * Whether this gateway may try a key Google has not judged yet. Alone: as any key (`free`). With
   * other gateways alive on the KV, one of them (chosen by the key's id) tries it, one call at a time
   * (`in_flight` while that call runs here), until Google's verdict, which every gateway then learns
   * through KV; for the others the key is `theirs` until it has been in the pool for
   * {@link UNCHECKED_GRACE_MS} (its gateway may be idle), or while this gateway has no judged key.
   */
  #uncheckedWait(e: Entry, now: number): "free" | "in_flight" | "theirs" {
    const peers = this.#state.peers();
    if (peers.count <= 1) return "free";
    const since = this.#state.probing.get(e.record.id);
    if (since !== undefined && now - since < PROBE_MS) return "in_flight";
    e.salt ??= saltOf(e.record.id);
    const mine = e.salt % peers.count === peers.rank;
    return mine || e.seenAt + UNCHECKED_GRACE_MS <= now ? "free" : "theirs";
  }

  /** Takes the round robin's key: the model's cursor moves past it; a key not judged yet has a call in flight. */
  #take(e: Entry, model: string, now: number): KeyChoice {
    this.#cursor.set(model, e.pos + 1);
    const state = this.#state;
    if (!e.checked) {
      state.probing.set(e.record.id, now);
      state.epoch++;
    }
    return this.#chosen(e, model, now);
  }

  #chosen(e: Entry, model: string, now: number): KeyChoice {
    this.#state.count(e, model, now);
    return { id: e.record.id, key: e.record.key, kind: e.kind };
  }

  /** Earliest time (epoch ms) any enabled key of `kinds` can serve `model`, without choosing one. */
  nextFreeAt(model: string, kinds: KindOrder = GEMINI_ONLY): number {
    const now = this.#state.now();
    const facts = this.#freeFacts(model, kinds, now);
    return facts ? facts.earliest : now;
  }

  /** Why no key of `kinds` can serve `model` now (the sentence `pick` gives), without choosing one. */
  noKeyReason(model: string, kinds: KindOrder = GEMINI_ONLY): string {
    const now = this.#state.now();
    const facts = this.#freeFacts(model, kinds, now) ?? this.#walk(model, kinds, now, false);
    return this.#noKey(model, { kinds, now, facts }).reason;
  }

  /**
   * The enabled keys of `kinds` and when the first frees for `model`, when none is free now (remembered
   * while that holds: see {@link pick}); undefined when one is.
   */
  #freeFacts(model: string, kinds: KindOrder, now: number): NoKeyFacts | undefined {
    const memo = this.#recall(this.#freeMemo, model, kinds, now);
    if (memo) return memo;
    const facts = this.#walk(model, kinds, now, true);
    if (facts.earliest <= now) return undefined;
    this.#freeMemo.set(model, this.#memo(kinds, facts));
    return facts;
  }

  /** Enabled keys of `kinds` and when the first is free for `model` (`now` once one is, when `stopAtFree`). */
  #walk(model: string, kinds: KindOrder, now: number, stopAtFree: boolean): NoKeyFacts {
    const state = this.#state;
    const facts: NoKeyFacts = {
      usable: 0,
      earliest: Infinity,
      modelEpoch: state.modelEpochs.get(model) ?? 0,
    };
    for (const e of state.entries) {
      if (!e.record.enabled || !kinds.some((g) => g.includes(e.kind))) continue;
      facts.usable++;
      const free = state.freeAt(e, model, now);
      if (free > now) facts.earliest = Math.min(facts.earliest, free);
      else if (stopAtFree) return { ...facts, earliest: now };
    }
    return facts;
  }

  /** Why no key can serve (only computed when none can, so the pick loop stays lean). */
  #noKey(
    model: string,
    o: { kinds: KindOrder; now: number; exclude?: ReadonlySet<string>; facts: NoKeyFacts },
  ): NoKey {
    const state = this.#state;
    const { now, facts } = o;
    const { usable, earliest } = facts;
    const allowed = new Set(o.kinds.flat());
    let total = 0;
    for (const kind of allowed) total += state.kindCounts[kind];
    if (total === 0) {
      const names = [...allowed].map((k) => KEY_KINDS[k].label).join(" or ");
      return {
        freeAt: Infinity,
        why: "empty",
        reason: state.entries.length === 0
          ? "no API keys are configured; add keys in the admin panel or GEMINI_API_KEYS"
          : `none of the ${state.entries.length} keys is a ${names} key`,
      };
    }
    if (usable === 0) {
      return {
        freeAt: Infinity,
        why: "disabled",
        reason: `all ${total} keys are disabled or already tried for this request`,
      };
    }
    if (earliest === Infinity) {
      return {
        freeAt: Infinity,
        why: "no_access",
        reason: `none of the ${usable} enabled keys has access to ${model}`,
        answer: state.noAccessAnswers.get(model),
      };
    }
    const secs = Math.ceil((earliest - now) / 1000);
    const backoffOnly = facts.backoffOnly ??= state.entries.every((e) => {
      if (!allowed.has(e.kind) || !e.record.enabled || o.exclude?.has(e.record.id)) return true;
      const own = state.pairs.get(model)?.get(e.own);
      return (own?.coolKind === "backoff" && own.coolUntil > now) || state.freeAt(e, model, now) === Infinity;
    });
    if (backoffOnly) {
      return {
        freeAt: earliest,
        why: "backoff",
        reason:
          `all ${usable} keys are backing off after upstream failures for ${model}; the next is tried in ${secs} s`,
      };
    }
    return {
      freeAt: earliest,
      why: "quota",
      reason: `all ${usable} keys are cooling down for ${model}; the next is free in ${secs} s`,
    };
  }
}
