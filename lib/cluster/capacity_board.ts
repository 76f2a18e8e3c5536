/**
 * The pool's whole capacity when several gateways serve from one KV (workers of `WORKERS=2`, processes
 * on one file, instances on KV Connect). Each member paces a quota scope against its share of the
 * limit (`shareOf` in `members.ts`) and counts only what it sent itself, so its own capacity report
 * (`lib/pool/capacity.ts`) is what *it* can still send: about half the pool's with two busy members.
 * Every member therefore publishes the figures that are its own, on the members' heartbeat (not on the
 * request path), and the admin API adds up those of the members whose shares add up to the whole:
 *
 * - requests left and limits per window (`minute`, `day`: `remaining`, `limit`) are summed;
 * - keys, scopes, `noAccess`, `servable` and the scopes with an unknown limit come from the shared key
 *   state, alike on every member: taken from the answering member's own report, never summed;
 * - `usable` is the largest count any member reports (a key whose share one member has spent can still
 *   serve on another, so the pool has at least the best member's usable keys; counts, not key sets, are
 *   published, so this is a lower bound), and `cooling` the rest of the keys with access;
 * - `nextFreeAt` is null when a key is usable, else the earliest any member reports.
 *
 * Only *active* members are summed (a request served in the last `ACTIVE_MS`, as `members.ts` counts
 * them for shares): an idle member's share is the one it would get if it served again, so adding it
 * would count part of a limit twice. When no member is active, every member paces against the whole
 * limit and the answering member's own report stands alone. With one member the answer is that
 * member's report, unchanged. A member's figures lag by up to one heartbeat (`HEARTBEAT_MS`, 5 s).
 *
 * KV layout (owned here): `["capacity", memberId]` -> {@link CapacityEntry}, rewritten every heartbeat
 * when the figures changed and at least every `EXPIRE_MS / 2` (so at most one write per member per
 * heartbeat), ignored after its `expiresAt` (KV's `expireIn` deletes lazily) and deleted
 * when its member stops.
 *
 * @module
 */
import type { CapacityReport, CapacityWindow, ModelCapacity } from "../pool/capacity.ts";
import { EXPIRE_MS, type Members } from "./members.ts";

/** At most this many models per published entry (a KV value holds 64 KiB); models with limits first. */
export const MAX_PUBLISHED_MODELS = 200;

/** One model's figures that are a member's own: what it can still send, and its view of the keys. */
export interface MemberModelCapacity {
  model: string;
  /** Keys this member could send with now. */
  usable: number;
  /** Keys cooling down on this member (its share spent, a rate limit, a backoff). */
  cooling: number;
  minute: Pick<CapacityWindow, "remaining" | "limit">;
  day: Pick<CapacityWindow, "remaining" | "limit">;
  /** When this member's next key frees, when none is usable on it (epoch ms). */
  nextFreeAt: number | null;
}

/** One member's published figures, as stored at `["capacity", memberId]`. */
export interface CapacityEntry {
  /** Epoch ms after which the entry is ignored (its member stopped heartbeating). */
  expiresAt: number;
  /** Epoch ms the figures are for. */
  time: number;
  /**
   * Models with a known limit or a key cooling down on this member; any other model has every key
   * with access usable and nothing to add.
   */
  models: MemberModelCapacity[];
}

/** The `GET /admin/api/capacity` answer: the capacity report summed over the gateway members. */
export interface PoolCapacityReport extends CapacityReport {
  /**
   * `counted`: members whose figures the report adds up (at least 1: the answering one alone when
   * none is active); `active`: members serving now (their shares make up the whole; one whose figures
   * are not on the board yet, or could not be read, is active but not counted); `alive`: members sharing
   * the KV, active or idle.
   */
  members: { counted: number; active: number; alive: number };
}

/** What the board needs of `Members` (`members.ts`). */
export interface BoardMembers {
  readonly id: string;
  activeIds(): string[];
  alive(): number;
  onHeartbeat(work: () => Promise<void>): void;
}

/**
 * Whether this member's own figures (its share of each limit, minus its own use) belong in a sum over
 * every member, as Prometheus' sum over the gateways' snapshots makes (`lib/metrics/prometheus.ts`):
 * yes while it serves (the active members' shares add up to each limit); when no member serves, each
 * paces against the whole limit, so only one stands for the pool: the alive member with the smallest id.
 * An idle member among serving ones is left out: its share is the one it would get if it served.
 */
export function countsInPoolSum(members: Pick<Members, "id" | "activeIds" | "aliveIds">): boolean {
  const active = members.activeIds();
  if (active.length) return active.includes(members.id);
  return members.aliveIds().reduce((min, id) => (id < min ? id : min)) === members.id;
}

/** Options for {@link CapacityBoard}. */
export interface CapacityBoardOptions {
  kv: Deno.Kv;
  members: BoardMembers;
  /** This member's own capacity report, computed now (`capacityReport` in `lib/pool/capacity.ts`). */
  report: () => CapacityReport;
  /** Clock, for tests. */
  now?: () => number;
}

const PREFIX = "capacity";

/** A model's own figures, as a member publishes them. */
function ownFigures(c: MemberModelCapacity): MemberModelCapacity {
  const { model, usable, cooling, minute, day, nextFreeAt } = c;
  return {
    model,
    usable,
    cooling,
    minute: { remaining: minute.remaining, limit: minute.limit },
    day: { remaining: day.remaining, limit: day.limit },
    nextFreeAt,
  };
}

/**
 * `local` (the answering member's report, for the facts every member shares and the models to report)
 * with the members' own figures in `parts` added up, as the module doc says. `parts` must not be empty;
 * a model a part does not list has nothing left to send there and every key with access usable.
 */
export function sumCapacity(
  local: CapacityReport,
  parts: ReadonlyArray<{ models: ReadonlyArray<MemberModelCapacity> }>,
): CapacityReport {
  const lookups = parts.map((p) => new Map(p.models.map((m) => [m.model, m])));
  const models = local.models.map((base): ModelCapacity => {
    const figures = lookups.map((l) => l.get(base.model));
    const open = base.keys - base.noAccess;
    const usable = Math.max(...figures.map((f) => f ? Math.min(f.usable, open) : open));
    const sum = (
      pick: (f: MemberModelCapacity) => Pick<CapacityWindow, "remaining" | "limit">,
      unknown: number,
    ) => {
      const w: CapacityWindow = { remaining: 0, limit: 0, unknown };
      for (const f of figures) {
        if (!f) continue;
        w.remaining += pick(f).remaining;
        w.limit += pick(f).limit;
      }
      return w;
    };
    const frees = figures.flatMap((f) => f?.nextFreeAt ?? []);
    return {
      ...base,
      usable,
      cooling: open - usable,
      minute: sum((f) => f.minute, base.minute.unknown),
      day: sum((f) => f.day, base.day.unknown),
      nextFreeAt: usable > 0 || !frees.length ? null : Math.min(...frees),
    };
  });
  return { ...local, models };
}

/** Publishes this member's capacity figures and sums every active member's. */
export class CapacityBoard {
  #published = "";
  #publishedAt = -Infinity;
  #stopped = false;
  readonly #now: () => number;

  constructor(private readonly o: CapacityBoardOptions) {
    this.#now = o.now ?? Date.now;
  }

  /** Publishes on every heartbeat of the members (call after `Members.start`). */
  start(): void {
    this.o.members.onHeartbeat(() => this.publish());
  }

  /**
   * Writes this member's figures to KV, unless they are unchanged and the last write is recent.
   * Throws when KV does.
   */
  async publish(): Promise<void> {
    if (this.#stopped) return;
    const now = this.#now();
    const report = this.o.report();
    const models = report.models
      .filter((m) => m.minute.limit || m.day.limit || m.cooling)
      .slice(0, MAX_PUBLISHED_MODELS)
      .map(ownFigures);
    const text = JSON.stringify(models);
    if (text === this.#published && now - this.#publishedAt < EXPIRE_MS / 2) return;
    const entry: CapacityEntry = { expiresAt: now + EXPIRE_MS, time: report.time, models };
    await this.o.kv.set([PREFIX, this.o.members.id], entry, { expireIn: EXPIRE_MS * 3 });
    [this.#published, this.#publishedAt] = [text, now];
  }

  /**
   * The pool's capacity: this member's report with the figures of every active member added up (read
   * from KV now; when KV fails, this member's report alone).
   */
  async read(): Promise<PoolCapacityReport> {
    const local = this.o.report();
    const self = this.o.members.id;
    const active = new Set(this.o.members.activeIds());
    const now = this.#now();
    let parts: Array<{ models: ReadonlyArray<MemberModelCapacity> }> = active.has(self) ? [local] : [];
    try {
      for await (const e of this.o.kv.list<CapacityEntry>({ prefix: [PREFIX] })) {
        const id = String(e.key[1]);
        if (id !== self && active.has(id) && e.value.expiresAt > now) parts.push(e.value);
      }
    } catch {
      parts = [];
    }
    const members = {
      counted: Math.max(1, parts.length),
      active: Math.max(1, active.size),
      alive: this.o.members.alive(),
    };
    const alone = parts.length === 0 || (parts.length === 1 && parts[0] === local);
    return { ...(alone ? local : sumCapacity(local, parts)), members };
  }

  /** Stops publishing and deletes this member's entry. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.o.kv.delete([PREFIX, this.o.members.id]).catch(() => {});
  }
}
