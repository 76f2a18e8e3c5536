/**
 * The key pool's shared in-memory state ({@link PoolState}): the keys in pool order, the state of each
 * (quota scope, model) pair, which keys Google has judged, the change counters that tell cached
 * answers when they are stale, and the pacing arithmetic over them (when a pair frees, counting a
 * request against its limits). Key choice (`key_choice.ts`), state transitions
 * (`state_transitions.ts`) and views (`pool_views.ts`) read and change this one object; `KeyPool`
 * (`key_pool.ts`) is the facade the rest of the gateway uses.
 *
 * Quota state is kept per (quota scope, model) pair. A key's quota scope is its project when it has a
 * project label (keys of one project share a quota), else the key itself. Transient-failure backoff is
 * always per (key, model).
 *
 * @module
 */
import type { UpstreamAnswer } from "./classify.ts";
import type { KeyKind, KeyRecord, ModelLimits } from "./key_record.ts";
import { nextPacificMidnight, pacificDay } from "./quota_clock.ts";
import { type MemberShare, saltOf, shareOf } from "../cluster/members.ts";

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

/** One key in the pool. */
export interface Entry {
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
  /** Google has judged it (`PoolState.checked` has its id): read by every pick, without a set lookup. */
  checked: boolean;
}

/**
 * Something durable changed: `key` (a record; `disabled` when this change disabled an enabled key),
 * `pair` (scope + model), or `checked` (Google judged the key for the first time: see
 * `KeyPool.isChecked`).
 */
export type Dirty =
  | { type: "key"; id: string; disabled?: boolean }
  | { type: "pair"; scope: string; model: string }
  | { type: "checked"; id: string };

/** Options for `KeyPool` (and its {@link PoolState}). */
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
/** How far past a window's end Google's whole-second `retryDelay` (rounded up, plus the answer's trip) can point. */
const RETRY_ROUNDING_MS = 1_500;

/** The pool's keys and pair states, shared by its parts; synchronous (the request path never awaits KV). */
export class PoolState {
  readonly entries: Entry[] = [];
  readonly byId = new Map<string, Entry>();
  /** Keys per kind (read on every request by the kind routing). */
  readonly kindCounts: Record<KeyKind, number> = { gemini: 0, vertex: 0 };
  readonly pairs = new Map<string, Map<string, PairState>>(); // model -> scope -> state
  /** Ids of keys Google judged (see `KeyPool.isChecked`); each entry's `checked` mirrors it. */
  readonly checked = new Set<string>();
  /** Unchecked keys with a call in flight, and since when (one call at a time until Google judged them). */
  readonly probing = new Map<string, number>();
  /** Google's latest "no access" answer per model (in memory only), for clients that find no key with access. */
  readonly noAccessAnswers = new Map<string, UpstreamAnswer>();
  readonly listeners = new Set<(d: Dirty) => void>();
  readonly now: () => number;
  readonly windowMs: () => number;
  readonly backoffMax: () => number;
  readonly share: () => MemberShare;
  readonly peers: () => MemberShare;

  /**
   * Grows whenever durable state changes (a key added, removed or changed; a cooldown set or cleared),
   * not on first verdicts (see {@link dirty}).
   */
  version = 0;
  /** Grows whenever a key record is added, replaced or removed (not on cooldowns). */
  recordsVersion = 0;
  /** Grows whenever the set of key secrets changes (see `KeyPool.secretsVersion`). */
  secretsVersion = 0;
  /** Grows when anything a key choice reads changes for every model (records, verdicts, calls in flight). */
  epoch = 0;
  /** Per model: grows when the model's quota state changes (cooldowns, counts, backoffs). */
  readonly modelEpochs = new Map<string, number>();
  /** Grows when a key may have become free earlier than it was known to be (a reset, a record, a restore). */
  freeing = 0;
  /** Per model: grows when a report may have made one of its keys free earlier than known. */
  readonly modelFreeing = new Map<string, number>();

  constructor(options: KeyPoolOptions = {}) {
    this.share = options.share ?? (() => ALONE);
    this.peers = options.peers ?? this.share;
    this.now = options.now ?? Date.now;
    this.windowMs = options.windowMs ?? (() => 60_000);
    this.backoffMax = options.backoffMaxMs ?? (() => 60_000);
  }

  /** Marks a key as judged by Google (its entry too, when it is in the pool). */
  markChecked(id: string): void {
    this.checked.add(id);
    const e = this.byId.get(id);
    if (e) e.checked = true;
  }

  /**
   * Counts a durable change and tells the listeners. A first verdict (`checked`) does not move
   * {@link version} (nothing counted by state reads it; with round robin over 10,000 keys there is one
   * per request for a while, and each would make the next read of the state counts walk every key).
   */
  dirty(d: Dirty): void {
    if (d.type !== "checked") this.version++;
    this.epoch++;
    for (const l of this.listeners) l(d);
  }

  /** Notes that `model`'s quota state changed (a count, a backoff ended). */
  touch(model: string): void {
    this.modelEpochs.set(model, (this.modelEpochs.get(model) ?? 0) + 1);
  }

  /** Notes that one of `model`'s keys may be free earlier than known. */
  freedFor(model: string): void {
    this.modelFreeing.set(model, (this.modelFreeing.get(model) ?? 0) + 1);
  }

  /** The state of a (scope, model) pair, made when it has none. */
  pair(model: string, scope: string): PairState {
    let m = this.pairs.get(model);
    if (!m) this.pairs.set(model, m = new Map());
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

  /**
   * The limits this gateway paces the pair against: the configured or learned limits, split into
   * this gateway's share when several gateways serve from the same KV.
   */
  limits(e: Entry, model: string, s: PairState | undefined): ModelLimits {
    const l = e.record.limits;
    const configured = l?.[model] ?? l?.["*"];
    const rpm = configured?.rpm ?? s?.learned.rpm;
    const rpd = configured?.rpd ?? s?.learned.rpd;
    const share = this.share();
    if (share.count <= 1 || (!rpm && !rpd)) return { rpm, rpd };
    const salt = s?.salt ?? saltOf(`${model}|${e.scope}`);
    // A share of 0 is kept as 0 (this gateway leaves the pair to the others), never as "no limit".
    return {
      rpm: rpm ? shareOf(rpm, share, salt) || -1 : undefined,
      rpd: rpd ? shareOf(rpd, share, salt) || -1 : undefined,
    };
  }

  /** When the pair is next usable (<= now: usable now). Rolls windows forward as time passes. */
  freeAt(e: Entry, model: string, now: number): number {
    const m = this.pairs.get(model);
    const own = m?.get(e.own);
    if (own && own.coolUntil > now) return own.coolUntil;
    const s = e.scope === e.own ? own : m?.get(e.scope);
    if (s && s.coolUntil > now) return s.coolUntil;
    const limits = this.limits(e, model, s);
    if (!s || (!limits.rpm && !limits.rpd)) return 0;
    if (limits.rpm) {
      this.roll(s, now);
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
  windowEndNear(until: number, now: number): number {
    const w = this.windowMs();
    const start = Math.floor(until / w) * w;
    return start > now && until - start < RETRY_ROUNDING_MS ? start : until;
  }

  /** Moves the pair's per-minute window forward to the one `now` is in. */
  roll(s: PairState, now: number): void {
    const w = this.windowMs();
    if (s.windowEnd === 0) s.windowEnd = (Math.floor(now / w) + 1) * w; // Google's windows start at :00
    if (now >= s.windowEnd) {
      s.windowEnd += Math.ceil((now - s.windowEnd + 1) / w) * w;
      s.windowCount = 0;
    }
  }

  /** Counts a request sent with the key against its scope's known limits for `model`. */
  count(e: Entry, model: string, now: number): void {
    const s = this.pairs.get(model)?.get(e.scope);
    const limits = this.limits(e, model, s);
    if (!limits.rpm && !limits.rpd) return; // nothing to pace against: skip the bookkeeping
    const p = s ?? this.pair(model, e.scope);
    this.roll(p, now);
    p.windowCount++;
    this.touch(model);
    const day = pacificDay(now);
    if (p.day !== day) [p.day, p.dayCount] = [day, 0];
    p.dayCount++;
  }
}
