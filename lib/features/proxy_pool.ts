/**
 * Upstream HTTP proxies. Each API key sticks to one proxy chosen by rendezvous hashing of (proxy, key id),
 * so the choice survives restarts and removing a proxy only moves that proxy's keys. A proxy reported as
 * failing is skipped for `downMs` (the key's next-ranked proxy is used). http, https, socks5 and socks5h
 * URLs work with `Deno.createHttpClient({ proxy: { url } })` on Deno 2.9 (socks5 verified with a loopback
 * SOCKS server; credentials in the URL are sent as Proxy-Authorization for http proxies).
 *
 * @module
 */
import { maskSecret } from "../secrets/redact.ts";
import { GatewayError } from "../http/errors.ts";
import { PROXY_SCHEMES } from "./settings.ts";

/** Options of {@link ProxyPool}. */
export interface ProxyPoolOptions {
  /** Proxy URLs, e.g. `http://user:pass@10.0.0.2:3128`, `socks5://10.0.0.3:1080`. */
  urls: readonly string[];
  /** How long a failing proxy is skipped (default 60 s). */
  downMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Client factory, for tests; default `Deno.createHttpClient({ proxy: { url } })`. */
  createClient?: (url: string) => Deno.HttpClient;
  /** Called on every reported failure (for logs / the admin panel). */
  onFailure?: (event: { proxy: string; error?: string; downUntil: number }) => void;
}

/** The state of one proxy as shown to admins (credentials redacted). */
export interface ProxyStatus {
  proxy: string;
  up: boolean;
  downUntil?: number;
  failures: number;
  lastError?: string;
}

/** `scheme://host:port` with any credentials replaced by `***`. */
export function redactProxyUrl(url: string): string {
  return URL.canParse(url) ? maskSecret(url) : "(invalid proxy URL)";
}

/** Throws a 400 `GatewayError` unless `url` is a proxy URL with a supported scheme. */
export function validateProxyUrl(url: string): void {
  let protocol = "";
  try {
    protocol = new URL(url).protocol;
  } catch {
    // handled below
  }
  if (!(PROXY_SCHEMES as readonly string[]).includes(protocol)) {
    throw new GatewayError(
      400,
      `Proxy ${redactProxyUrl(url)} is not usable: give a URL with scheme http, https, socks5 or socks5h, ` +
        "e.g. socks5://user:pass@host:1080.",
      { param: "proxies" },
    );
  }
}

/** 32-bit FNV-1a with a murmur3 finalizer: stable across processes and platforms. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An error's message with its causes (Deno's fetch says only "fetch failed"; the cause says why). */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 4; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}

interface Entry {
  url: string;
  id: string;
  client?: Deno.HttpClient;
  downUntil: number;
  failures: number;
  lastError?: string;
}

/** A set of upstream proxies with sticky per-key choice and failover. */
export class ProxyPool {
  #entries: Entry[];
  #opts: ProxyPoolOptions;

  constructor(opts: ProxyPoolOptions) {
    opts.urls.forEach(validateProxyUrl);
    this.#opts = opts;
    const seen = new Set<string>();
    this.#entries = opts.urls.map((url) => ({ url, id: redactProxyUrl(url), downUntil: 0, failures: 0 }))
      .filter((e) => !seen.has(e.url) && seen.add(e.url));
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }

  /** Proxies in preference order for a key (rendezvous hashing on the proxy's scheme://host:port). */
  ranking(keyId: string): string[] {
    return this.#ranked(keyId).map((e) => e.url);
  }

  #ranked(keyId: string): Entry[] {
    const score = (e: Entry) => stableHash(`${e.id}\n${keyId}`);
    return [...this.#entries].sort((a, b) => score(b) - score(a) || a.url.localeCompare(b.url));
  }

  /** The proxy URL a key should use now: its first proxy that is up (the first one if all are down). */
  proxyFor(keyId: string): string | undefined {
    const ranked = this.#ranked(keyId);
    const now = this.#now();
    return (ranked.find((e) => e.downUntil <= now) ?? ranked[0])?.url;
  }

  /** An HTTP client through the key's proxy, or `undefined` when no proxies are configured (go direct). */
  clientFor(keyId: string): Deno.HttpClient | undefined {
    if (this.#entries.length === 0) return undefined; // the common case: no proxies, go direct
    const url = this.proxyFor(keyId);
    const entry = this.#entries.find((e) => e.url === url);
    if (!entry) return undefined;
    entry.client ??= this.#opts.createClient?.(entry.url) ??
      Deno.createHttpClient({ proxy: { url: entry.url } });
    return entry.client;
  }

  /** Marks a proxy as down for `downMs` (connection refused, proxy auth failed, timeout, ...). */
  reportFailure(url: string, error?: unknown): void {
    const entry = this.#entries.find((e) => e.url === url);
    if (!entry) return;
    entry.failures++;
    entry.downUntil = this.#now() + (this.#opts.downMs ?? 60_000);
    entry.lastError = error === undefined ? undefined : errorText(error);
    this.#opts.onFailure?.({ proxy: entry.id, error: entry.lastError, downUntil: entry.downUntil });
  }

  /** Marks a proxy as working again. */
  reportSuccess(url: string): void {
    const entry = this.#entries.find((e) => e.url === url);
    if (entry) entry.downUntil = 0;
  }

  /** Every proxy with its state; URLs are redacted. */
  status(): ProxyStatus[] {
    const now = this.#now();
    return this.#entries.map((e) => ({
      proxy: e.id,
      up: e.downUntil <= now,
      ...(e.downUntil > now ? { downUntil: e.downUntil } : {}),
      failures: e.failures,
      ...(e.lastError ? { lastError: e.lastError } : {}),
    }));
  }

  /** Closes every HTTP client created so far. */
  close(): void {
    for (const e of this.#entries) {
      e.client?.close();
      e.client = undefined;
    }
  }
}
