/**
 * The key pool's in-memory state and key choice. Everything here is synchronous: the request path
 * never awaits KV. Durable copies are written by `PoolStore`, which listens to {@link KeyPool.onDirty}.
 *
 * Quota state is kept per (quota scope, model) pair. A key's quota scope is its project when it has a
 * project label (keys of one project share a quota), else the key itself. Transient-failure backoff is
 * always per (key, model).
 *
 * Keys are of two kinds (Gemini API, Vertex AI express). A pick names the kinds that may serve, in
 * groups tried in order ({@link KindOrder}); without one only Gemini API keys serve, so a caller that
 * does not know about kinds never sends a request to a Vertex key.
 *
 * @module
 */
import type { UpstreamAnswer, Verdict } from "./classify.ts";
import { KEY_KINDS, type KeyKind, type KeyRecord, kindOf, type ModelLimits } from "./key_record.ts";
import { nextPacificMidnight, pacificDay } from "./quota_clock.ts";
import { type MemberShare, saltOf, shareOf } from "../cluster/members.ts";
import { CoolingSkip } from "./cooling_skip.ts";

/** Why a (scope, model) pair is out of rotation. */
export type CoolKind = "minute" | "day" | "no_access" | "backoff";

/** State of one (scope, model) pair. The durable part is {@link PairSnapshot}. */
export interface PairState {
  coolUntil: number;
  coolKind?: CoolKind;
  reason?: string;
  /** Limits learned from Google's 429 bodies. */
  learned: ModelLimits;
  /** End of the current per-minute window (known once a 429 told us when it resets). */
  windowEnd: number;
  windowCount: number;
  day: string;
  dayCount: number;
  /** Consecutive transient failures (backoff pairs only). */
  failures: number;
  /** Rotates which gateway gets the remainder when a limit is split between gateways. */
  salt: number;
}

/** The durable part of a pair's state. */
export type PairSnapshot = Pick<PairState, "coolUntil" | "coolKind" | "reason" | "learned" | "windowEnd">;

interface Entry {
  record: KeyRecord;
  kind: KeyKind;
  /** Quota scope: `p:<project>` (`vp:<project>` for a Vertex key) or `k:<id>`. */
  scope: string;
  /** Backoff scope: always `k:<id>`. */
  own: string;
  /** Hash of the id, for choosing which gateway tries an unchecked key. */
  salt?: number;
  /** When the key came into this pool (epoch ms). */
  seenAt: number;
  /** Its index in the pool's order (kept by upsert and remove). */
  pos: number;
}

/** The pool's enabled keys, indexed (rebuilt when a record changes). */
interface EnabledIndex {
  /** The pool's `recordsVersion` it was built at. */
  version: number;
  enabled: number;
  /** Enabled keys by quota scope, in pool order. */
  scopes: Map<string, Entry[]>;
  /** Enabled keys with configured limits, by model id (`*`: every model). */
  limited: Map<string, Entry[]>;
  /** Models any key (enabled or not) has configured limits for (not `*`). */
  limitModels: Set<string>;
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

/** What {@link KeyPool.pick}'s walks found when no key could serve. */
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

/** Options of {@link KeyPool.pick}. */
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

/** Options for {@link KeyPool}. */
export interface KeyPoolOptions {
  /** Length of a per-minute quota window (60 000 for Google; shorter only in simulations). */
  windowMs?: () => number;
  /** Cap for transient-failure backoff. */
  backoffMaxMs?: () => number;
  /**
   * This gateway's place among the gateways serving from the same KV (workers, processes,
   * instances): known limits are split into shares so that together they send no more than the
   * limit (see `lib/cluster/members.ts`). Default: alone.
   */
  share?: () => MemberShare;
  /**
   * This gateway's place among every gateway alive on the KV (idle ones too): decides which of them
   * tries a key Google has not judged yet. Default: alone.
   */
  peers?: () => MemberShare;
  /** Clock, for tests. */
  now?: () => number;
}

const ALONE: MemberShare = { count: 1, rank: 0 };
/** A call with a key not judged yet that never reported (the client left) frees the key after this. */
const PROBE_MS = 30_000;
/** After this long in the pool, a key not judged yet is tried by any gateway (its owner may be idle). */
const UNCHECKED_GRACE_MS = 10_000;
/** How far past a window's end Google's whole-second `retryDelay` (rounded up, plus the answer's trip) can point. */
const RETRY_ROUNDING_MS = 1_500;

/**
 * Something durable changed: `key` (a record; `disabled` when this change disabled an enabled key),
 * `pair` (scope + model), or `checked` (Google judged the key for the first time: see
 * {@link KeyPool.isChecked}).
 */
export type Dirty =
  | { type: "key"; id: string; disabled?: boolean }
  | { type: "pair"; scope: string; model: string }
  | { type: "checked"; id: string };

/** The pool of keys, with per-model cooldowns, pacing and round-robin choice. */
export class KeyPool {
  #entries: Entry[] = [];
  #byId = new Map<string, Entry>();
  /** Keys per kind (read on every request by the kind routing). */
  #kindCounts: Record<KeyKind, number> = { gemini: 0, vertex: 0 };
  #pairs = new Map<string, Map<string, PairState>>(); // model -> scope -> state
  #cursor = new Map<string, number>();
  #checked = new Set<string>();
  /** Unchecked keys with a call in flight, and since when (one call at a time until Google judged them). */
  #probing = new Map<string, number>();
  /** Google's latest "no access" answer per model (in memory only), for clients that find no key with access. */
  #noAccessAnswers = new Map<string, UpstreamAnswer>();
  #listeners = new Set<(d: Dirty) => void>();
  readonly #now: () => number;
  readonly #windowMs: () => number;
  readonly #backoffMax: () => number;
  readonly #share: () => MemberShare;
  readonly #peers: () => MemberShare;

  constructor(options: KeyPoolOptions = {}) {
    this.#share = options.share ?? (() => ALONE);
    this.#peers = options.peers ?? this.#share;
    this.#now = options.now ?? Date.now;
    this.#windowMs = options.windowMs ?? (() => 60_000);
    this.#backoffMax = options.backoffMaxMs ?? (() => 60_000);
  }

  #version = 0;
  #recordsVersion = 0;

  /** Grows whenever durable state changes (a key added, removed or changed; a cooldown set or cleared). */
  get version(): number {
    return this.#version;
  }

  /** Grows whenever a key record is added, replaced or removed (not on cooldowns). */
  get recordsVersion(): number {
    return this.#recordsVersion;
  }

  #secretsVersion = 0;

  /**
   * Grows whenever the set of key secrets changes (a key added, removed, or its secret replaced), not when
   * a record's other fields change (enabled, label, limits, last error): what a redactor rebuilds on.
   */
  get secretsVersion(): number {
    return this.#secretsVersion;
  }

  /** Number of keys (enabled or not). */
  get size(): number {
    return this.#entries.length;
  }

  /** Calls `listener` whenever durable state changes (for persistence and live views). */
  onDirty(listener: (d: Dirty) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #dirty(d: Dirty): void {
    this.#version++;
    this.#epoch++;
    for (const l of this.#listeners) l(d);
  }

  /** Adds or replaces a key record (from KV, the environment or the admin). */
  upsert(record: KeyRecord): void {
    const kind = kindOf(record);
    // A project's Gemini API and Vertex AI quotas are separate: Vertex keys get their own project scope.
    const scope = record.project ? `${kind === "vertex" ? "vp" : "p"}:${record.project}` : `k:${record.id}`;
    const old = this.#byId.get(record.id);
    const entry: Entry = {
      record,
      kind,
      scope,
      own: `k:${record.id}`,
      seenAt: old?.seenAt ?? this.#now(),
      pos: 0,
    };
    this.#version++;
    this.#recordsVersion++;
    this.#epoch++;
    this.#freeing++;
    if (old?.record.key !== record.key) this.#secretsVersion++;
    entry.pos = old ? old.pos : this.#entries.length;
    this.#entries[entry.pos] = entry;
    if (old) this.#kindCounts[old.kind]--;
    this.#kindCounts[kind]++;
    this.#byId.set(record.id, entry);
  }

  /** Removes a key. */
  remove(id: string): boolean {
    const e = this.#byId.get(id);
    if (!e) return false;
    this.#version++;
    this.#recordsVersion++;
    this.#epoch++;
    this.#freeing++;
    this.#secretsVersion++;
    this.#byId.delete(id);
    this.#entries.splice(e.pos, 1);
    for (let i = e.pos; i < this.#entries.length; i++) this.#entries[i].pos = i;
    this.#kindCounts[e.kind]--;
    return true;
  }

  /** A key record by id. */
  get(id: string): KeyRecord | undefined {
    return this.#byId.get(id)?.record;
  }

  /** All key records, in pool order. */
  records(): KeyRecord[] {
    return this.#entries.map((e) => e.record);
  }

  /** How many keys (enabled or not) are of `kind`. */
  countOf(kind: KeyKind): number {
    return this.#kindCounts[kind];
  }

  /** The quota scope of a key. */
  scopeOf(id: string): string | undefined {
    return this.#byId.get(id)?.scope;
  }

  /** Pair states for a scope (or for every scope of `model` when scope is omitted). */
  pairs(): Array<{ model: string; scope: string; state: PairState }> {
    const out = [];
    for (const [model, m] of this.#pairs) for (const [scope, state] of m) out.push({ model, scope, state });
    return out;
  }

  /** The state of one (scope, model) pair, when it has one. */
  pairState(model: string, scope: string): PairState | undefined {
    return this.#pairs.get(model)?.get(scope);
  }

  #pair(model: string, scope: string): PairState {
    let m = this.#pairs.get(model);
    if (!m) this.#pairs.set(model, m = new Map());
    let s = m.get(scope);
    if (!s) {
      s = {
        coolUntil: 0,
        learned: {},
        windowEnd: 0,
        windowCount: 0,
        day: "",
        dayCount: 0,
        failures: 0,
        salt: saltOf(`${model}|${scope}`),
      };
      m.set(scope, s);
    }
    return s;
  }

  /** Restores a pair's durable state (from KV). */
  restorePair(model: string, scope: string, snap: PairSnapshot): void {
    this.#version++;
    this.#epoch++;
    this.#freeing++;
    const s = this.#pair(model, scope);
    // This gateway's count belongs to its own window: end that window first when it is over, and
    // never move the window back (a snapshot's older window would reset the count and send too many).
    if (s.windowEnd) this.#roll(s, this.#now());
    const windowEnd = Math.max(s.windowEnd, snap.windowEnd ?? 0);
    Object.assign(s, snap, { windowEnd });
  }

  /**
   * The limits this gateway paces the pair against: the configured or learned limits, split into
   * this gateway's share when several gateways serve from the same KV.
   */
  #limits(e: Entry, model: string, s: PairState | undefined): ModelLimits {
    const l = e.record.limits;
    const configured = l?.[model] ?? l?.["*"];
    const rpm = configured?.rpm ?? s?.learned.rpm;
    const rpd = configured?.rpd ?? s?.learned.rpd;
    const share = this.#share();
    if (share.count <= 1 || (!rpm && !rpd)) return { rpm, rpd };
    const salt = s?.salt ?? saltOf(`${model}|${e.scope}`);
    // A share of 0 is kept as 0 (this gateway leaves the pair to the others), never as "no limit".
    return {
      rpm: rpm ? shareOf(rpm, share, salt) || -1 : undefined,
      rpd: rpd ? shareOf(rpd, share, salt) || -1 : undefined,
    };
  }

  /** When the pair is next usable (<= now: usable now). Rolls windows forward as time passes. */
  #freeAt(e: Entry, model: string, now: number): number {
    const m = this.#pairs.get(model);
    const own = m?.get(e.own);
    if (own && own.coolUntil > now) return own.coolUntil;
    const s = e.scope === e.own ? own : m?.get(e.scope);
    if (s && s.coolUntil > now) return s.coolUntil;
    const limits = this.#limits(e, model, s);
    if (!s || (!limits.rpm && !limits.rpd)) return 0;
    if (limits.rpm) {
      this.#roll(s, now);
      if (s.windowCount >= limits.rpm) return s.windowEnd;
    }
    if (limits.rpd) {
      const day = pacificDay(now);
      if (s.day !== day) [s.day, s.dayCount] = [day, 0];
      if (s.dayCount >= limits.rpd) return nextPacificMidnight(now);
    }
    return 0;
  }

  /**
   * The end of the per-minute window Google's `retryDelay` points at. Google gives the delay in whole
   * seconds, rounded up (`"3s"` when 2.2 s are left), so `until` is up to a second past the window's
   * end; a window start (windows start at :00) less than {@link RETRY_ROUNDING_MS} before `until` and
   * still ahead is that end. Pacing from `until` itself would shift every later window of the pair
   * (and, through KV, of every gateway) by that part of a second.
   */
  #windowEndNear(until: number, now: number): number {
    const w = this.#windowMs();
    const start = Math.floor(until / w) * w;
    return start > now && until - start < RETRY_ROUNDING_MS ? start : until;
  }

  #roll(s: PairState, now: number): void {
    const w = this.#windowMs();
    if (s.windowEnd === 0) s.windowEnd = (Math.floor(now / w) + 1) * w; // Google's windows start at :00
    if (now >= s.windowEnd) {
      s.windowEnd += Math.ceil((now - s.windowEnd + 1) / w) * w;
      s.windowCount = 0;
    }
  }

  /**
   * Chooses a key for `model`, round robin among keys free for it, skipping `exclude` (keys this
   * request already tried), trying the kind groups of `options.kinds` in order. Counts the request
   * against the key's known limits.
   */
  pick(model: string, exclude?: ReadonlySet<string>, options: PickOptions = {}): KeyChoice | NoKey {
    const now = this.#now();
    const kinds = options.kinds ?? GEMINI_ONLY;
    const preferred = options.prefer === undefined ? undefined : this.#byId.get(options.prefer);
    if (
      preferred?.record.enabled && !exclude?.has(preferred.record.id) &&
      kinds.some((g) => g.includes(preferred.kind)) && this.#freeAt(preferred, model, now) <= now
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

  /** Per model: the last pick without exclusions that found no key, while still true. */
  #pickMemo = new Map<string, NoKeyMemo>();
  /** Per model: the last walk of {@link nextFreeAt} / {@link noKeyReason} that found no key free, while still true. */
  #freeMemo = new Map<string, NoKeyMemo>();
  /** Grows when anything a key choice reads changes for every model (records, verdicts, calls in flight). */
  #epoch = 0;
  /** Per model: grows when the model's quota state changes (cooldowns, counts, backoffs). */
  #modelEpochs = new Map<string, number>();

  #touch(model?: string): void {
    if (model === undefined) this.#epoch++;
    else this.#modelEpochs.set(model, (this.#modelEpochs.get(model) ?? 0) + 1);
  }

  #memo(kinds: KindOrder, facts: NoKeyFacts & { heldBack?: boolean }): NoKeyMemo {
    return {
      ...facts,
      kinds,
      epoch: this.#epoch,
      share: this.#share(),
      peers: this.#peers(),
      windowMs: this.#windowMs(),
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
    if (
      m.kinds === kinds && m.epoch === this.#epoch && m.modelEpoch === (this.#modelEpochs.get(model) ?? 0) &&
      now < m.earliest && m.share === this.#share() && m.peers === this.#peers() &&
      m.windowMs === this.#windowMs()
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
    const n = this.#entries.length;
    const start = this.#cursor.get(model) ?? 0;
    let earliest = Infinity;
    let usable = 0;
    let judged = 0;
    let heldBack = false;
    let timeRelative = false;
    for (const group of kinds) {
      for (let i = 0; i < n; i++) {
        const idx = (start + i) % n;
        const e = this.#entries[idx];
        if (!group.includes(e.kind) || !e.record.enabled || exclude?.has(e.record.id)) continue;
        usable++;
        let free: number;
        if (this.#checked.has(e.record.id)) {
          judged++;
          free = this.#freeAt(e, model, now);
        } else {
          const wait = this.#uncheckedWait(e, now);
          if (wait === "theirs" && strict) heldBack = true;
          if (wait === "in_flight") timeRelative = true;
          if (wait === "in_flight") free = now + 100; // its verdict is on the way
          else if (wait === "theirs" && strict) free = e.seenAt + UNCHECKED_GRACE_MS;
          else free = this.#freeAt(e, model, now);
        }
        if (free > now) {
          if (free < earliest) earliest = free;
          continue;
        }
        this.#cursor.set(model, idx + 1);
        if (!this.#checked.has(e.record.id)) {
          this.#probing.set(e.record.id, now);
          this.#epoch++;
        }
        return this.#chosen(e, model, now);
      }
    }
    const facts: NoKeyFacts = { usable, earliest, modelEpoch: this.#modelEpochs.get(model) ?? 0 };
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
    const n = this.#entries.length;
    if (n === 0) return undefined;
    const skip = this.#skipFor(model, now);
    const start = (this.#cursor.get(model) ?? 0) % n;
    for (const group of kinds) {
      // One lap in pool order from the cursor: [start, n) then [0, start).
      for (const [from, to] of [[start, n], [0, start]]) {
        for (let idx = skip.next(from); idx !== -1 && idx < to; idx = skip.next(idx + 1)) {
          const e = this.#entries[idx];
          if (!group.includes(e.kind) || !e.record.enabled || exclude?.has(e.record.id)) continue;
          let free: number;
          let known = true; // `free` holds until something changes in the pool (not just for this pass)
          if (this.#checked.has(e.record.id)) free = this.#freeAt(e, model, now);
          else {
            const wait = this.#uncheckedWait(e, now);
            known = wait === "free";
            if (wait === "in_flight") free = now + 100;
            else if (wait === "theirs" && strict) free = e.seenAt + UNCHECKED_GRACE_MS;
            else free = this.#freeAt(e, model, now);
          }
          if (free > now) {
            if (known) skip.leaveOut(idx, free);
            continue;
          }
          this.#cursor.set(model, idx + 1);
          if (!this.#checked.has(e.record.id)) {
            this.#probing.set(e.record.id, now);
            this.#epoch++;
          }
          return this.#chosen(e, model, now);
        }
      }
    }
    return undefined;
  }

  /** Per model: grows when a report may have made one of its keys free earlier than known. */
  #modelFreeing = new Map<string, number>();

  /** Notes when a pair's new state may free its keys earlier than the old one did (see {@link CoolingSkip}). */
  #freedEarlier(model: string, was: PairState, s: PairState): void {
    const limit = (n?: number) => n ?? Infinity;
    if (
      s.coolUntil < was.coolUntil || s.windowEnd < was.windowEnd || s.windowCount < was.windowCount ||
      s.dayCount < was.dayCount || s.day !== was.day || limit(s.learned.rpm) > limit(was.learned.rpm) ||
      limit(s.learned.rpd) > limit(was.learned.rpd)
    ) this.#modelFreeing.set(model, (this.#modelFreeing.get(model) ?? 0) + 1);
  }

  /** Per model: keys known to be out of the round robin until some time. */
  #skips = new Map<string, CoolingSkip>();
  /** Grows when a key may have become free earlier than it was known to be (a reset, a record, a restore). */
  #freeing = 0;

  /** The model's skip list, new when the pool changed since, with keys whose time came back in. */
  #skipFor(model: string, now: number): CoolingSkip {
    let skip = this.#skips.get(model);
    const [share, peers, windowMs] = [this.#share(), this.#peers(), this.#windowMs()];
    const [freeing, modelFreeing] = [this.#freeing, this.#modelFreeing.get(model) ?? 0];
    if (
      !skip || skip.freeing !== freeing || skip.modelFreeing !== modelFreeing || skip.share !== share ||
      skip.peers !== peers || skip.windowMs !== windowMs || skip.size !== this.#entries.length
    ) {
      skip = new CoolingSkip({ size: this.#entries.length, freeing, modelFreeing, share, peers, windowMs });
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
    const peers = this.#peers();
    if (peers.count <= 1) return "free";
    const since = this.#probing.get(e.record.id);
    if (since !== undefined && now - since < PROBE_MS) return "in_flight";
    e.salt ??= saltOf(e.record.id);
    const mine = e.salt % peers.count === peers.rank;
    return mine || e.seenAt + UNCHECKED_GRACE_MS <= now ? "free" : "theirs";
  }

  /**
   * True once Google answered for the key in a way that shows it works (a success, a quota error, no
   * access to a model). Until then, when several gateways serve, only one of them tries the key, so an
   * invalid key costs one call in all, not one per gateway (a key found invalid is disabled instead).
   */
  isChecked(id: string): boolean {
    return this.#checked.has(id);
  }

  /** Notes that a key was judged (from KV: another gateway's verdict). */
  markChecked(id: string): void {
    if (!this.#checked.has(id)) this.#epoch++;
    this.#checked.add(id);
  }

  #chosen(e: Entry, model: string, now: number): KeyChoice {
    this.#count(e, model, now);
    return { id: e.record.id, key: e.record.key, kind: e.kind };
  }

  /** Models a key has quota state or configured limits for (its scope's and its own). */
  modelsOf(id: string): string[] {
    const e = this.#byId.get(id);
    if (!e) return [];
    const out = new Set<string>();
    for (const [model, byScope] of this.#pairs) {
      if (byScope.has(e.scope) || byScope.has(e.own)) out.add(model);
    }
    for (const model of Object.keys(e.record.limits ?? {})) if (model !== "*") out.add(model);
    return [...out].sort();
  }

  /** A key's quota state for `model` (limits, this window's and today's counts, when it frees). */
  pairView(id: string, model: string): PairView | undefined {
    const e = this.#byId.get(id);
    return e ? this.#view(e, model, this.#now()) : undefined;
  }

  #view(e: Entry, model: string, now: number): PairView {
    const freeAt = this.#freeAt(e, model, now); // rolls the window and the day forward first
    const m = this.#pairs.get(model);
    const s = m?.get(e.scope);
    const own = m?.get(e.own);
    const configured = e.record.limits?.[model] ?? e.record.limits?.["*"] ?? {};
    const cooling = [own, s].find((p) => p && p.coolUntil > now && p.coolKind);
    const paced = this.#limits(e, model, s);
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

  /** Enabled keys by quota scope (in pool order) and keys by the models they have limits for; see {@link #indexed}. */
  #index?: EnabledIndex;

  /** The index of enabled keys, rebuilt when a record changed since the last call (O(keys) then, O(1) else). */
  #indexed(): EnabledIndex {
    if (this.#index?.version === this.#recordsVersion) return this.#index;
    const index: EnabledIndex = {
      version: this.#recordsVersion,
      enabled: 0,
      scopes: new Map(),
      limited: new Map(),
      limitModels: new Set(),
    };
    const add = (map: Map<string, Entry[]>, k: string, e: Entry) => {
      const list = map.get(k);
      if (list) list.push(e);
      else map.set(k, [e]);
    };
    for (const e of this.#entries) {
      const models = Object.keys(e.record.limits ?? {});
      for (const model of models) if (model !== "*") index.limitModels.add(model);
      if (!e.record.enabled) continue;
      index.enabled++;
      add(index.scopes, e.scope, e);
      for (const model of models) add(index.limited, model, e);
    }
    return this.#index = index;
  }

  /** Number of enabled keys. */
  get enabledCount(): number {
    return this.#indexed().enabled;
  }

  /** Models with quota state in the pool, or with limits an admin entered for some key (not `*`). */
  statedModels(): Set<string> {
    const out = new Set(this.#indexed().limitModels);
    for (const [model, byScope] of this.#pairs) if (byScope.size && model !== "*") out.add(model);
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
    const now = this.#now();
    const scopes = new Set<string>();
    for (const scope of this.#pairs.get(model)?.keys() ?? []) {
      if (index.scopes.has(scope)) scopes.add(scope);
      else if (scope.startsWith("k:")) { // a backoff of a key whose quota scope is its project
        const e = this.#byId.get(scope.slice(2));
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

  /** Earliest time (epoch ms) any enabled key of `kinds` can serve `model`, without choosing one. */
  nextFreeAt(model: string, kinds: KindOrder = GEMINI_ONLY): number {
    const now = this.#now();
    const facts = this.#freeFacts(model, kinds, now);
    return facts ? facts.earliest : now;
  }

  /** Why no key of `kinds` can serve `model` now (the sentence `pick` gives), without choosing one. */
  noKeyReason(model: string, kinds: KindOrder = GEMINI_ONLY): string {
    const now = this.#now();
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
    const facts: NoKeyFacts = {
      usable: 0,
      earliest: Infinity,
      modelEpoch: this.#modelEpochs.get(model) ?? 0,
    };
    for (const e of this.#entries) {
      if (!e.record.enabled || !kinds.some((g) => g.includes(e.kind))) continue;
      facts.usable++;
      const free = this.#freeAt(e, model, now);
      if (free > now) facts.earliest = Math.min(facts.earliest, free);
      else if (stopAtFree) return { ...facts, earliest: now };
    }
    return facts;
  }

  #count(e: Entry, model: string, now: number): void {
    const s = this.#pairs.get(model)?.get(e.scope);
    const limits = this.#limits(e, model, s);
    if (!limits.rpm && !limits.rpd) return; // nothing to pace against: skip the bookkeeping
    const p = s ?? this.#pair(model, e.scope);
    this.#roll(p, now);
    p.windowCount++;
    this.#touch(model);
    const day = pacificDay(now);
    if (p.day !== day) [p.day, p.dayCount] = [day, 0];
    p.dayCount++;
  }

  /** Why no key can serve (only computed when none can, so the pick loop stays lean). */
  #noKey(
    model: string,
    o: { kinds: KindOrder; now: number; exclude?: ReadonlySet<string>; facts: NoKeyFacts },
  ): NoKey {
    const { now, facts } = o;
    const { usable, earliest } = facts;
    const allowed = new Set(o.kinds.flat());
    let total = 0;
    for (const kind of allowed) total += this.#kindCounts[kind];
    if (total === 0) {
      const names = [...allowed].map((k) => KEY_KINDS[k].label).join(" or ");
      return {
        freeAt: Infinity,
        why: "empty",
        reason: this.#entries.length === 0
          ? "no API keys are configured; add keys in the admin panel or GEMINI_API_KEYS"
          : `none of the ${this.#entries.length} keys is a ${names} key`,
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
        answer: this.#noAccessAnswers.get(model),
      };
    }
    const secs = Math.ceil((earliest - now) / 1000);
    const backoffOnly = facts.backoffOnly ??= this.#entries.every((e) => {
      if (!allowed.has(e.kind) || !e.record.enabled || o.exclude?.has(e.record.id)) return true;
      const own = this.#pairs.get(model)?.get(e.own);
      return (own?.coolKind === "backoff" && own.coolUntil > now) || this.#freeAt(e, model, now) === Infinity;
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

  /** Applies what an upstream outcome means to the key that got it. */
  report(id: string, model: string, verdict: Verdict): void {
    const e = this.#byId.get(id);
    if (!e) return;
    const now = this.#now();
    if (this.#probing.delete(id)) this.#epoch++;
    // A key to disable is not marked: its disabled record tells the others (a "checked" notice
    // arriving first would let them use it before they learn it is disabled).
    if (
      (verdict.kind === "ok" || verdict.kind === "cooldown" || verdict.kind === "no_access") &&
      !this.#checked.has(id)
    ) {
      this.#checked.add(id);
      this.#dirty({ type: "checked", id });
    }
    switch (verdict.kind) {
      case "ok": {
        const own = this.#pairs.get(model)?.get(e.own);
        if (own?.failures) {
          this.#touch(model);
          this.#modelFreeing.set(model, (this.#modelFreeing.get(model) ?? 0) + 1);
          own.failures = 0;
          if (own.coolKind === "backoff") own.coolUntil = 0;
        }
        return;
      }
      case "client_error":
      case "overloaded": // Google's capacity, not the key's: the key stays in rotation
        return;
      case "cooldown": {
        const s = this.#pair(model, e.scope);
        const was = { ...s, learned: { ...s.learned } };
        const until = verdict.window === "minute" ? this.#windowEndNear(verdict.until, now) : verdict.until;
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
        this.#dirty({ type: "pair", scope: e.scope, model });
        return;
      }
      case "no_access": {
        const s = this.#pair(model, e.scope);
        Object.assign(s, {
          coolUntil: Infinity,
          coolKind: "no_access",
          reason: verdict.reason,
        });
        if (verdict.answer) this.#noAccessAnswers.set(model, verdict.answer);
        this.#dirty({ type: "pair", scope: e.scope, model });
        return;
      }
      case "disable":
        this.setEnabled(id, false, verdict.reason);
        return;
      case "transient": {
        const s = this.#pair(model, e.own);
        s.failures++;
        if (s.failures >= 2) {
          const wait = Math.min(1000 * 2 ** (s.failures - 2), this.#backoffMax());
          // A key's own pair is also its quota scope's when it has no project: the backoff may end
          // before the quota cooldown it replaces.
          if (now + wait < s.coolUntil) {
            this.#modelFreeing.set(model, (this.#modelFreeing.get(model) ?? 0) + 1);
          }
          Object.assign(s, { coolUntil: now + wait, coolKind: "backoff", reason: verdict.reason });
          this.#dirty({ type: "pair", scope: e.own, model });
        }
        return;
      }
    }
  }

  /** Enables or disables a key (with the reason shown to the admin). */
  setEnabled(id: string, enabled: boolean, reason?: string): void {
    const e = this.#byId.get(id);
    if (!e) return;
    const r = e.record;
    if (enabled) this.upsert({ ...r, enabled, disabledReason: undefined, disabledAt: undefined });
    else this.upsert({ ...r, enabled, disabledReason: reason ?? "disabled", disabledAt: this.#now() });
    this.#dirty({ type: "key", id, disabled: r.enabled && !enabled ? true : undefined });
  }

  /** Updates a key's record fields (label, project, limits, lastError). */
  patch(id: string, patch: Partial<Omit<KeyRecord, "id" | "key">>): void {
    const e = this.#byId.get(id);
    if (!e) return;
    this.upsert({ ...e.record, ...patch });
    this.#dirty({ type: "key", id });
  }

  /**
   * Clears cooldowns, backoffs and learned counters for a key (every model, or one).
   *
   * @returns a function that puts back what was cleared (when the change could not be stored).
   */
  reset(id: string, model?: string): () => void {
    const e = this.#byId.get(id);
    const before: Array<[PairState, PairState]> = [];
    if (!e) return () => {};
    for (const [m, byScope] of this.#pairs) {
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
        this.#dirty({ type: "pair", scope, model: m });
      }
    }
    this.#freeing++;
    return () => {
      this.#epoch++;
      this.#freeing++;
      for (const [s, was] of before) Object.assign(s, was);
    };
  }

  /** A key's state for views: disabled, cooling (some model cooling down) or active. */
  stateOf(id: string): "active" | "cooling" | "disabled" {
    const r = this.#byId.get(id)?.record;
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
    const now = this.#now();
    const ends = new Map<string, number>(); // scope -> ends of its cooldowns after `after`, earliest
    const cooling = new Set<string>();
    for (const byScope of this.#pairs.values()) {
      for (const [scope, s] of byScope) {
        if (!(s.coolUntil > now && s.coolKind)) continue;
        cooling.add(scope);
        if (s.coolUntil > after && !(s.coolUntil >= (ends.get(scope) ?? Infinity))) {
          ends.set(scope, s.coolUntil);
        }
      }
    }
    const out = { total: this.#entries.length, active: 0, cooling: 0, disabled: 0, nextExpiry: Infinity };
    for (const e of this.#entries) {
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
    const e = this.#byId.get(id);
    if (!e) return [];
    const now = this.#now();
    const out = [];
    for (const [model, byScope] of this.#pairs) {
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
