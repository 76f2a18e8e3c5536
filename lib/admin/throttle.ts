/**
 * Failed-login throttling per client address that slows guessing down without locking the real
 * admin out. Each client gets `free` attempts; after that each attempt waits its turn, and the turns
 * are spaced further apart with every failure (1 s, 2 s, 4 s, ... up to `maxDelayMs`). Attempts in
 * flight count as failures until they finish, so a burst of parallel guesses queues up like a series.
 * A correct token after any number of failures is still accepted once its turn comes (at most
 * `maxWaitMs` away); only a client whose queue is longer than that gets 429 with `Retry-After`.
 * A success, or `forgetMs` without failures, clears a client's record.
 *
 * Clients are told apart by address (`lib/http/client_address.ts`; behind a reverse proxy, set
 * `TRUSTED_PROXIES` so each client keeps its own address); an IPv6 client counts per /64
 * (`clientScope` in `lib/net/ip.ts`), as one host can use any address of its /64.
 *
 * @module
 */
import { clientScope } from "../net/ip.ts";
import { abortableSleep } from "../util/sleep.ts";

/** Options for {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Attempts a client may make at once before being slowed down; default 5. */
  free?: number;
  /** Spacing after the first failure beyond `free`, doubled with each further one; default 1 000 ms. */
  baseDelayMs?: number;
  /** Largest spacing between two attempts; default 10 000 ms. */
  maxDelayMs?: number;
  /** Longest an attempt waits for its turn before it is refused with 429; default 30 000 ms. */
  maxWaitMs?: number;
  /** A client's failures are forgotten this long after its last one; default 15 minutes. */
  forgetMs?: number;
  /** Most clients tracked at once (oldest dropped first); default 10 000. */
  maxClients?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Waits `ms` (or until `signal` aborts; false then); default a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<boolean>;
}

/** One admitted attempt: report how it went. */
export interface Attempt {
  /** The credential was right (the client's record is cleared) or wrong (one more failure). */
  done(ok: boolean): void;
  /** No credential was checked after all (for example the body was refused): nothing is recorded. */
  cancel(): void;
}

/** Result of {@link LoginThrottle.admit}. */
export type Admission =
  | { allowed: true; attempt: Attempt; waitedMs: number }
  | { allowed: false; retryAfterSeconds: number };

interface Client {
  failures: number;
  inFlight: number;
  /** Earliest start of the next attempt (epoch ms). */
  nextAt: number;
  lastFailureAt: number;
}

/** Per-client slow-down of failed credential checks (admin login form and admin bearer tokens). */
export class LoginThrottle {
  #clients = new Map<string, Client>();
  #free: number;
  #baseDelayMs: number;
  #maxDelayMs: number;
  #maxWaitMs: number;
  #forgetMs: number;
  #maxClients: number;
  #now: () => number;
  #sleep: (ms: number, signal?: AbortSignal) => Promise<boolean>;

  /** Creates a throttle. */
  constructor(opts: LoginThrottleOptions = {}) {
    this.#free = opts.free ?? 5;
    this.#baseDelayMs = opts.baseDelayMs ?? 1_000;
    this.#maxDelayMs = opts.maxDelayMs ?? 10_000;
    this.#maxWaitMs = opts.maxWaitMs ?? 30_000;
    this.#forgetMs = opts.forgetMs ?? 15 * 60_000;
    this.#maxClients = opts.maxClients ?? 10_000;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? abortableSleep;
  }

  /** The spacing after an attempt that makes `attempts` failed-or-pending ones. */
  spacingMs(attempts: number): number {
    if (attempts < this.#free) return 0;
    return Math.min(this.#baseDelayMs * 2 ** (attempts - this.#free), this.#maxDelayMs);
  }

  /**
   * Waits for the turn of the client at `address` to check a credential. Call `attempt.done(ok)` after checking it.
   * Refused (without waiting) when the turn is more than `maxWaitMs` away or `signal` aborts first.
   */
  async admit(address: string, signal?: AbortSignal): Promise<Admission> {
    const client = clientScope(address);
    const now = this.#now();
    const c = this.#client(client, now);
    const startAt = Math.max(now, c.nextAt);
    const waitMs = startAt - now;
    if (waitMs > this.#maxWaitMs) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((waitMs - this.#maxWaitMs) / 1000)) };
    }
    c.inFlight++;
    c.nextAt = startAt + this.spacingMs(c.failures + c.inFlight);
    let finished = false;
    const finish = () => {
      if (finished) return false;
      finished = true;
      c.inFlight--;
      return true;
    };
    const attempt: Attempt = {
      done: (ok) => {
        if (!finish()) return;
        if (ok) return void this.#clients.delete(client);
        c.failures++;
        c.lastFailureAt = this.#now();
      },
      cancel: () => void finish(),
    };
    if (waitMs > 0 && !await this.#sleep(waitMs, signal)) {
      attempt.cancel();
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    return { allowed: true, attempt, waitedMs: waitMs };
  }

  /** Failures recorded for the client of `address` (0 when unknown or forgotten). */
  failures(address: string): number {
    return this.#clients.get(clientScope(address))?.failures ?? 0;
  }

  #client(key: string, now: number): Client {
    let c = this.#clients.get(key);
    if (c && c.inFlight === 0 && c.failures && now - c.lastFailureAt > this.#forgetMs) c = undefined;
    if (!c) {
      c = { failures: 0, inFlight: 0, nextAt: 0, lastFailureAt: 0 };
      this.#clients.delete(key);
      this.#clients.set(key, c);
      if (this.#clients.size > this.#maxClients) {
        const oldest = this.#clients.keys().next().value;
        if (oldest !== undefined) this.#clients.delete(oldest);
      }
    }
    return c;
  }
}
