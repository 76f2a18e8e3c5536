/**
 * Throttles guessing of client tokens per client address. After `limit` failed authentications within
 * a minute, the address is answered 429 with `Retry-After` until its oldest failure leaves the window,
 * without the token being checked, so a guess learns nothing. Tokens that already authenticated from
 * that address before keep working, so a client that shares its address with the guesser (behind the
 * same NAT) is not locked out. An IPv6 client counts per /64 ({@link clientScope}): one host can use
 * any address in its /64, so counting each address alone would never throttle it. Everything is in memory and bounded (`maxAddresses`, oldest dropped).
 *
 * @module
 */
import { clientScope } from "../net/ip.ts";

/** Options for {@link AuthFailureThrottle}. */
export interface AuthFailureThrottleOptions {
  /** Failed authentications allowed per address and window; 0 turns the throttle off. */
  limit: () => number;
  /** Window length; default 60 000 ms. */
  windowMs?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Most addresses tracked at once (least recently seen dropped first); default 10 000. */
  maxAddresses?: number;
  /** Tokens remembered as good per address; default 8. */
  goodPerAddress?: number;
}

interface AddressState {
  /** Times of recent failures, oldest first (at most `limit` kept). */
  failures: number[];
  /** SHA-256 hashes of tokens that authenticated from this address. */
  good: string[];
}

/** Failed client authentications per address. */
export class AuthFailureThrottle {
  #states = new Map<string, AddressState>();
  readonly #o:
    & Required<Omit<AuthFailureThrottleOptions, "limit">>
    & Pick<AuthFailureThrottleOptions, "limit">;

  constructor(options: AuthFailureThrottleOptions) {
    this.#o = {
      windowMs: 60_000,
      now: Date.now,
      maxAddresses: 10_000,
      goodPerAddress: 8,
      ...options,
    };
  }

  /**
   * Seconds `address` must wait before presenting the token whose hash is `tokenHash`, or undefined
   * when it may try now (not throttled, or the token authenticated from this address before).
   */
  check(address: string, tokenHash: string): number | undefined {
    const limit = this.#o.limit();
    const s = this.#states.get(clientScope(address));
    if (!s || limit <= 0 || s.good.includes(tokenHash)) return undefined;
    const recent = this.#recent(s);
    if (recent.length < limit) return undefined;
    const waitMs = recent[recent.length - limit] + this.#o.windowMs - this.#o.now();
    return Math.max(1, Math.ceil(waitMs / 1000));
  }

  /** Records a failed authentication from `address`. */
  fail(address: string): void {
    const limit = this.#o.limit();
    if (limit <= 0) return;
    const s = this.#touch(clientScope(address));
    s.failures = this.#recent(s);
    s.failures.push(this.#o.now());
    if (s.failures.length > limit) s.failures.splice(0, s.failures.length - limit);
  }

  /** Records a successful authentication: that token keeps working from this address. */
  succeed(address: string, tokenHash: string): void {
    if (this.#o.limit() <= 0) return;
    const client = clientScope(address);
    const s = this.#states.get(client);
    if (s?.good.includes(tokenHash)) return; // the common case: nothing to write
    const state = s ?? this.#touch(client);
    state.good.push(tokenHash);
    if (state.good.length > this.#o.goodPerAddress) state.good.shift();
  }

  /** Addresses tracked now (for tests and status views). */
  get size(): number {
    return this.#states.size;
  }

  #recent(s: AddressState): number[] {
    const cutoff = this.#o.now() - this.#o.windowMs;
    return s.failures.filter((t) => t > cutoff);
  }

  #touch(address: string): AddressState {
    let s = this.#states.get(address);
    if (s) this.#states.delete(address);
    else s = { failures: [], good: [] };
    this.#states.set(address, s);
    if (this.#states.size > this.#o.maxAddresses) {
      const oldest = this.#states.keys().next().value;
      if (oldest !== undefined) this.#states.delete(oldest);
    }
    return s;
  }
}
