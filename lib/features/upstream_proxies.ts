/**
 * The upstream proxy pool as configured in settings: rebuilt when the proxy list changes, each key
 * sticking to its proxy, a proxy that fails skipped for a while and reported.
 *
 * @module
 */
import { ProxyPool, type ProxyStatus } from "./proxy_pool.ts";

/** Settings this needs. */
export interface ProxySettings {
  proxies: string[];
  proxyDownMs: number;
}

/** What the pool is built from: a change rebuilds it. */
const identity = (s: ProxySettings) => JSON.stringify([s.proxies, s.proxyDownMs]);

/** Proxies from settings, kept in step with them. */
export class UpstreamProxies {
  #pool: ProxyPool;
  #urls: string;
  #retired = new Map<ReturnType<typeof setTimeout>, ProxyPool>();

  constructor(private readonly settings: () => ProxySettings) {
    const s = settings();
    this.#urls = identity(s);
    this.#pool = this.#make(s);
  }

  #make(s: ProxySettings): ProxyPool {
    return new ProxyPool({
      urls: s.proxies,
      downMs: s.proxyDownMs,
      onFailure: (e) =>
        console.warn(
          `upstream proxy ${e.proxy} failed (${e.error ?? "error"}); skipped until ${
            new Date(e.downUntil).toISOString()
          }`,
        ),
    });
  }

  /** Rebuilds the pool when the configured list (or proxyDownMs) changed. */
  refresh(): void {
    const s = this.settings();
    const urls = identity(s);
    if (urls === this.#urls) return;
    const old = this.#pool;
    this.#urls = urls;
    this.#pool = this.#make(s);
    // Let requests in flight finish on the old clients; close() ends the wait early.
    const timer = setTimeout(() => {
      this.#retired.delete(timer);
      old.close();
    }, 60_000);
    Deno.unrefTimer(timer);
    this.#retired.set(timer, old);
  }

  /** The HTTP client for a key's proxy, or undefined (direct) when none are configured. */
  clientFor(keyId: string): Deno.HttpClient | undefined {
    return this.#pool.clientFor(keyId);
  }

  /** A call through the key's proxy could not connect: skip that proxy for a while. */
  reportFailure(keyId: string, error: unknown): void {
    const url = this.#pool.proxyFor(keyId);
    if (url) this.#pool.reportFailure(url, error);
  }

  /** Every proxy's state (credentials redacted), for the admin panel. */
  status(): ProxyStatus[] {
    return this.#pool.status();
  }

  /** Closes every client, also those of pools replaced by a settings change. */
  close(): void {
    for (const [timer, old] of this.#retired) {
      clearTimeout(timer);
      old.close();
    }
    this.#retired.clear();
    this.#pool.close();
  }
}
