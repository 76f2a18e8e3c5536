/**
 * Who else serves from the same KV database: every gateway (a worker of `deno task start` or of
 * `deno serve --parallel`, another process on the same file, another instance on KV Connect)
 * registers itself here, so limits that must hold in total (a key's learned requests per minute, a
 * client token's requests per minute) can be split into per-member shares that each member enforces
 * alone, in memory, without asking KV on the request path.
 *
 * Only *active* members share: one that served a request in the last {@link ACTIVE_MS}. An idle
 * worker leaves the whole limit to the busy ones; when it gets traffic again it announces itself at
 * once (a change notice: immediate for workers of one process and on KV Connect, within
 * `SYNC_INTERVAL_MS` for processes sharing a file) and every member's share shrinks.
 *
 * KV layout (owned here): `["members", id]` -> {@link MemberEntry}, refreshed every
 * {@link HEARTBEAT_MS} and dropped after {@link EXPIRE_MS} without a heartbeat (a crashed worker).
 * Other per-member figures ride on the heartbeat ({@link Members.onHeartbeat}): each member's capacity
 * for the admin panel (`capacity_board.ts`).
 *
 * @module
 */
import type { ChangeFeed } from "../kv/change_feed.ts";
import { oneAtATime } from "../util/one_at_a_time.ts";

/** How long after its last request a member still counts as active. */
export const ACTIVE_MS = 30_000;
/** How often a member refreshes its entry and re-reads the others. */
export const HEARTBEAT_MS = 5_000;
/** A member whose entry is older than this is gone. */
export const EXPIRE_MS = 20_000;

/** One member as stored. */
export interface MemberEntry {
  /** Epoch ms of its last heartbeat; the entry is ignored after `seenAt + EXPIRE_MS`. */
  seenAt: number;
  /** Epoch ms of the last request it served (0: none yet). */
  activeAt: number;
}

/** A member's place among the active members: `rank` in 0..count-1. */
export interface MemberShare {
  count: number;
  rank: number;
}

/** Options for {@link Members}. */
export interface MembersOptions {
  kv: Deno.Kv;
  feed: ChangeFeed;
  /** Clock, for tests. */
  now?: () => number;
  /** Heartbeat interval in ms (default {@link HEARTBEAT_MS}). */
  heartbeatMs?: number;
}

/**
 * The split of `limit` for the member at `rank` of `count`: `floor(limit / count)`, plus one for
 * `limit % count` of the members. `salt` (a hash of what is limited) rotates which members get the
 * extra one, so with many small limits every member gets its part. The shares of all members add up
 * to `limit` exactly.
 */
export function shareOf(limit: number, share: MemberShare, salt: number): number {
  const { count, rank } = share;
  if (count <= 1) return limit;
  const base = Math.floor(limit / count);
  const slot = (rank + salt) % count;
  return base + (slot < limit % count ? 1 : 0);
}

/** A small, stable string hash (FNV-1a, 32 bits) for {@link shareOf}'s salt. */
export function saltOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** This gateway's registration and its view of the other members. */
export class Members {
  /** This member's id (random per start). */
  readonly id: string = crypto.randomUUID();
  #others = new Map<string, MemberEntry>();
  #activeAt = 0;
  #announced = 0;
  #share: MemberShare = { count: 1, rank: 0 };
  #peers: MemberShare = { count: 1, rank: 0 };
  #timer?: number;
  #stopped = false;
  #beats: Array<() => Promise<void>> = [];
  #shareListeners: Array<() => void> = [];
  readonly #now: () => number;

  constructor(private readonly o: MembersOptions) {
    this.#now = o.now ?? Date.now;
    o.feed.on("member", () => this.refresh());
  }

  /** Registers this member (telling the others at once), reads the others and starts the heartbeat. */
  async start(): Promise<void> {
    await this.#write(true);
    await this.refresh();
    // One beat at a time: while the store is slow or failing, ticks are skipped, not queued.
    const tick = oneAtATime(() => this.#write(false).then(() => this.refresh()).then(() => this.#beat()));
    this.#timer = setInterval(tick, this.o.heartbeatMs ?? HEARTBEAT_MS) as unknown as number;
    Deno.unrefTimer(this.#timer);
  }

  /**
   * Marks this member as serving (called on the request path; synchronous). The first request after
   * an idle spell announces it to the others in the background.
   */
  touch(): void {
    const now = this.#now();
    const wasIdle = now - this.#activeAt > ACTIVE_MS;
    this.#activeAt = now;
    if (wasIdle) this.#recompute(now);
    if (wasIdle || now - this.#announced > ACTIVE_MS / 3) {
      this.#announced = now;
      void this.#write(wasIdle).catch(() => {});
    }
  }

  /** This member's place among the active members (itself counted as active). */
  share(): MemberShare {
    return this.#share;
  }

  /** This member's place among every member alive (active or idle), as of the last read. */
  peers(): MemberShare {
    return this.#peers;
  }

  /** Number of members alive (active or idle), this one included. */
  alive(): number {
    return this.aliveIds().length;
  }

  /** Ids of the members alive (active or idle), this one first. */
  aliveIds(): string[] {
    const now = this.#now();
    const ids = [this.id];
    for (const [id, m] of this.#others) if (m.seenAt + EXPIRE_MS > now) ids.push(id);
    return ids;
  }

  /**
   * Ids of the members that served a request in the last {@link ACTIVE_MS} (this one only if it did), as
   * of the last read: the members whose shares of a limit add up to the whole limit.
   */
  activeIds(): string[] {
    const now = this.#now();
    const others = this.#activeOthers(now);
    return this.#activeAt + ACTIVE_MS > now ? [this.id, ...others] : others;
  }

  /**
   * Runs `work` after every heartbeat (in the background, every {@link HEARTBEAT_MS}), for other
   * periodic per-member writes (`lib/cluster/capacity_board.ts`); its failures are ignored.
   */
  onHeartbeat(work: () => Promise<void>): void {
    this.#beats.push(work);
  }

  /**
   * Calls `listener` whenever this member's share changes (a member started or stopped serving), for
   * figures computed from the share that others read (`capacity_board.ts`, the `/metrics` snapshot):
   * republished then, not at the next heartbeat, so the sum over members never counts one limit as a
   * whole on one member and as a part on another for long.
   */
  onShareChange(listener: () => void): void {
    this.#shareListeners.push(listener);
  }

  /** Re-reads the other members from KV. */
  async refresh(): Promise<void> {
    if (this.#stopped) return;
    const others = new Map<string, MemberEntry>();
    try {
      for await (const e of this.o.kv.list<MemberEntry>({ prefix: ["members"] })) {
        const id = String(e.key[1]);
        if (id !== this.id) others.set(id, e.value);
      }
    } catch {
      return; // the database is closing
    }
    this.#others = others;
    this.#recompute(this.#now());
  }

  /** Leaves: deletes this member's entry so the others take over its share at once. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    const op = this.o.kv.atomic().delete(["members", this.id]);
    this.o.feed.record(op, { topic: "member", id: this.id });
    await op.commit().catch(() => {});
  }

  #activeOthers(now: number): string[] {
    const ids: string[] = [];
    for (const [id, m] of this.#others) {
      if (m.seenAt + EXPIRE_MS > now && m.activeAt + ACTIVE_MS > now) ids.push(id);
    }
    return ids;
  }

  async #beat(): Promise<void> {
    for (const work of this.#beats) await work().catch(() => {});
  }

  #recompute(now: number): void {
    const active = [this.id, ...this.#activeOthers(now)].sort();
    const before = this.#share;
    this.#share = { count: active.length, rank: active.indexOf(this.id) };
    if (before.count !== this.#share.count || before.rank !== this.#share.rank) {
      for (const listener of this.#shareListeners) listener();
    }
    const alive = this.aliveIds().sort();
    this.#peers = { count: alive.length, rank: alive.indexOf(this.id) };
  }

  async #write(announce: boolean): Promise<void> {
    if (this.#stopped) return;
    const entry: MemberEntry = { seenAt: this.#now(), activeAt: this.#activeAt };
    const op = this.o.kv.atomic().set(["members", this.id], entry, { expireIn: EXPIRE_MS * 3 });
    if (announce) this.o.feed.record(op, { topic: "member", id: this.id });
    await op.commit();
  }
}
