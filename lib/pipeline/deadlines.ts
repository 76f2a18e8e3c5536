/**
 * Request timeouts from one shared timer. A timer per upstream call (set, then cleared on the answer)
 * costs several µs in Deno; a timeout of seconds needs no millisecond precision, so one interval that
 * ticks while calls are in flight checks every deadline instead.
 *
 * @module
 */

interface Deadline {
  at: number;
  onExpire: () => void;
}

/** A reusable deadline (see {@link Deadlines.timer}). */
export interface DeadlineTimer {
  /** Fires `onExpire` `ms` after `now` (`performance.now()`) unless disarmed first (re-arming moves it). */
  arm(ms: number, now?: number): void;
  /** Stops it (nothing happens when it is not armed). */
  disarm(): void;
}

/** Calls `onExpire` of each registered deadline once its time has passed (within one tick). */
export class Deadlines {
  #items = new Set<Deadline>();
  #timer?: number;

  /** @param tickMs how often deadlines are checked: the timeouts' precision. */
  constructor(private readonly tickMs = 25) {}

  /**
   * Registers a deadline `ms` from now (`now`: the caller's `performance.now()` reading of this step,
   * so that one step reads the clock once); returns the function that cancels it.
   */
  add(ms: number, onExpire: () => void, now: number = performance.now()): () => void {
    const item: Deadline = { at: now + ms, onExpire };
    this.#arm(item);
    return () => void this.#items.delete(item);
  }

  /**
   * One deadline armed and disarmed again and again (a body's idle timeout, around each read): the same
   * entry each time, not an entry and a closure per wait.
   */
  timer(onExpire: () => void): DeadlineTimer {
    const item: Deadline = { at: 0, onExpire };
    return {
      arm: (ms, now = performance.now()) => {
        item.at = now + ms;
        this.#arm(item);
      },
      disarm: () => void this.#items.delete(item),
    };
  }

  #arm(item: Deadline): void {
    this.#items.add(item);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.tickMs) as unknown as number;
      Deno.unrefTimer(this.#timer);
    }
  }

  #tick(): void {
    const now = performance.now();
    for (const item of this.#items) {
      if (item.at > now) continue;
      this.#items.delete(item);
      item.onExpire();
    }
    if (this.#items.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
