/**
 * Failed-login throttling per client IP: after `max` failures within `windowMs`, further attempts
 * are refused (429 with Retry-After) until the oldest failure leaves the window.
 *
 * @module
 */
import type { Context } from "hono";

/** Options for {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Failures allowed per window; default 5. */
  max?: number;
  /** Window length; default 60 000 ms. */
  windowMs?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Most client IPs tracked at once (oldest dropped first); default 10 000. */
  maxClients?: number;
}

/** Result of {@link LoginThrottle.check}. */
export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Sliding-window counter of failed logins per client. */
export class LoginThrottle {
  #failures = new Map<string, number[]>();
  #max: number;
  #windowMs: number;
  #now: () => number;
  #maxClients: number;

  /** Creates a throttle. */
  constructor(opts: LoginThrottleOptions = {}) {
    this.#max = opts.max ?? 5;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
    this.#maxClients = opts.maxClients ?? 10_000;
  }

  /** Whether `client` may try now. */
  check(client: string): ThrottleVerdict {
    const recent = this.#recent(client);
    if (recent.length < this.#max) return { allowed: true };
    const waitMs = recent[0] + this.#windowMs - this.#now();
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Records a failed attempt. */
  fail(client: string): void {
    const recent = this.#recent(client);
    recent.push(this.#now());
    this.#failures.delete(client);
    this.#failures.set(client, recent);
    if (this.#failures.size > this.#maxClients) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
  }

  /** Forgets a client's failures (after a successful login). */
  reset(client: string): void {
    this.#failures.delete(client);
  }

  #recent(client: string): number[] {
    const cutoff = this.#now() - this.#windowMs;
    const list = (this.#failures.get(client) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.#failures.delete(client);
    return list;
  }
}

/** The client's IP from the Deno connection info (`c.env.remoteAddr`), or `unknown`. */
export function remoteIp(c: Context): string {
  const env: unknown = c.env;
  if (env && typeof env === "object" && "remoteAddr" in env) {
    const addr: unknown = env.remoteAddr;
    if (addr && typeof addr === "object" && "hostname" in addr && typeof addr.hostname === "string") {
      return addr.hostname;
    }
  }
  return "unknown";
}
