/**
 * Keeps a flood of refused requests from filling the log. Within each minute, the first refused
 * request of a group (client address, reason, status, client token) is logged as it happens; the rest
 * of that group's minute is logged once, when the minute ends, as one entry whose `count` says how many
 * requests it stands for. At most `maxGroups` groups are kept per minute; requests beyond them share
 * one group per reason with the source `*`. So a flood writes at most about `2 × maxGroups` entries a
 * minute, whatever its rate, while the dashboard still counts every request (metrics count each one).
 *
 * @module
 */
import type { RecordSink, RequestRecord } from "../pipeline/request_record.ts";

/** Options for {@link RefusalLog}. */
export interface RefusalLogOptions {
  /** Where entries go (the log store's `record`). */
  sink: RecordSink;
  /** Groups per minute before further addresses are merged; default 100. */
  maxGroups?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** The source of a group that merges addresses beyond `maxGroups`. */
export const MERGED_SOURCES = "*";

const MINUTE = 60_000;

interface Group {
  /** The latest request of the group (its fields go into the aggregate entry). */
  last: RequestRecord;
  /** Requests since the group's last entry. */
  pending: number;
}

/** Aggregates refused requests per client address and minute. */
export class RefusalLog {
  #groups = new Map<string, Group>();
  #minute = -1;
  #timer?: ReturnType<typeof setTimeout>;
  readonly #now: () => number;
  readonly #maxGroups: number;

  constructor(private readonly o: RefusalLogOptions) {
    this.#now = o.now ?? Date.now;
    this.#maxGroups = o.maxGroups ?? 100;
  }

  /** Takes one refused request (never blocks). */
  add(rec: RequestRecord): void {
    const now = this.#now();
    const minute = Math.floor(now / MINUTE) * MINUTE;
    if (minute !== this.#minute) {
      this.#rollover();
      this.#minute = minute;
    }
    const what = `${rec.refusal ?? rec.outcome ?? ""}|${rec.status}|${rec.tokenName ?? ""}`;
    let key = `${rec.source ?? ""}|${what}`;
    let entry = rec;
    if (!this.#groups.has(key) && this.#groups.size >= this.#maxGroups) {
      key = `${MERGED_SOURCES}|${what}`;
      entry = { ...rec, source: MERGED_SOURCES };
    }
    const group = this.#groups.get(key);
    if (!group) {
      this.#groups.set(key, { last: entry, pending: 0 });
      this.o.sink({ ...entry, count: 1 });
      return;
    }
    group.last = entry;
    group.pending++;
    if (this.#timer === undefined) {
      const timer = setTimeout(() => {
        this.#timer = undefined;
        this.#rollover();
      }, minute + MINUTE - now + 10);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Writes every pending aggregate now (at the end of a minute, and on close). */
  flush(): void {
    for (const g of this.#groups.values()) {
      if (!g.pending) continue;
      this.o.sink({ ...g.last, count: g.pending });
      g.pending = 0;
    }
  }

  /** Flushes and stops the timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#rollover();
  }

  #rollover(): void {
    this.flush();
    this.#groups.clear();
    this.#minute = -1;
  }
}
