/**
 * The round robin's skip list for one model (`KeyPool.pick`): which keys are known to be cooling, so a
 * pick over 10,000 keys does not visit them one by one.
 *
 * @module
 */
import type { MemberShare } from "../cluster/members.ts";

/**
 * One model's keys known to be out of the round robin until some time: a bit per key in pool order
 * (set: worth a look) and a min-heap of (time, index) to bring keys back when their time comes.
 * Valid while the pool's records and the gateways' shares are as they were when it was made.
 */
export class CoolingSkip {
  readonly size: number;
  /** The pool's and the model's counts of changes that may free keys early, when it was made. */
  readonly freeing: number;
  readonly modelFreeing: number;
  readonly share: MemberShare;
  readonly peers: MemberShare;
  readonly windowMs: number;
  #bits: Uint32Array;
  #times: number[] = [];
  #indexes: number[] = [];

  constructor(o: Pick<CoolingSkip, "size" | "freeing" | "modelFreeing" | "share" | "peers" | "windowMs">) {
    [this.size, this.freeing, this.modelFreeing] = [o.size, o.freeing, o.modelFreeing];
    [this.share, this.peers, this.windowMs] = [o.share, o.peers, o.windowMs];
    this.#bits = new Uint32Array(Math.ceil(o.size / 32)).fill(0xffffffff);
    if (o.size % 32) this.#bits[this.#bits.length - 1] = (1 << (o.size % 32)) - 1;
  }

  /** The first key at or after `from` worth a look, or -1. */
  next(from: number): number {
    let word = from >>> 5;
    if (word >= this.#bits.length) return -1;
    let bits = this.#bits[word] & (0xffffffff << (from & 31));
    while (bits === 0) {
      if (++word >= this.#bits.length) return -1;
      bits = this.#bits[word];
    }
    return (word << 5) + 31 - Math.clz32(bits & -bits);
  }

  /** Leaves key `index` out until `until` (epoch ms). */
  leaveOut(index: number, until: number): void {
    this.#bits[index >>> 5] &= ~(1 << (index & 31));
    if (until === Infinity) return; // back only when the pool changes (a new skip list)
    const [times, indexes] = [this.#times, this.#indexes];
    let i = times.length;
    times.push(until);
    indexes.push(index);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= until) break;
      [times[i], indexes[i]] = [times[parent], indexes[parent]];
      i = parent;
    }
    [times[i], indexes[i]] = [until, index];
  }

  /** Brings back every key whose time has come. */
  bringBack(now: number): void {
    const [times, indexes] = [this.#times, this.#indexes];
    while (times.length && times[0] <= now) {
      const index = indexes[0];
      this.#bits[index >>> 5] |= 1 << (index & 31);
      const [lastTime, lastIndex] = [times.pop()!, indexes.pop()!];
      if (!times.length) break;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= times.length) break;
        const c = l + 1 < times.length && times[l + 1] < times[l] ? l + 1 : l;
        if (times[c] >= lastTime) break;
        [times[i], indexes[i]] = [times[c], indexes[c]];
        i = c;
      }
      [times[i], indexes[i]] = [lastTime, lastIndex];
    }
  }
}
