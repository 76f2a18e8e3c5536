/**
 * The address a request came from, for per-client throttles: the connecting peer, or — when the peer
 * is one of the `TRUSTED_PROXIES` — the address that proxy saw, read from `X-Forwarded-For`
 * right to left (the last hop that is not a trusted proxy). Forwarded headers from anyone else are
 * ignored, so a client cannot pick its own address. The header format is
 * https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/X-Forwarded-For.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { type Cidr, formatIp, inCidr, parseCidr, parseIp } from "../net/ip.ts";
import { memoize } from "../util/memo.ts";
import { urlPath } from "./url_parts.ts";
import type { EdgeGuard } from "../pipeline/edge.ts";

/** The peer address when Deno's connection info is unknown (`app.request` without an env). */
export const UNKNOWN_ADDRESS = "unknown";

/** A list of trusted reverse proxies (addresses and CIDR ranges). */
export class TrustedProxies {
  readonly #ranges: Cidr[];
  /** {@link has} per address (bounded): asked on every request, from a few distinct addresses. */
  readonly #has = memoize((address) => {
    const ip = parseIp(address);
    return !!ip && this.#ranges.some((r) => inCidr(ip, r));
  });

  /**
   * @param list addresses or ranges such as `127.0.0.1`, `10.0.0.0/8`, `::1`.
   * @throws {TypeError} naming the first entry that is neither.
   */
  constructor(list: readonly string[]) {
    this.#ranges = list.map((entry) => {
      const range = parseCidr(entry);
      if (!range) throw new TypeError(`"${entry}" is not an IP address or CIDR range such as 10.0.0.0/8`);
      return range;
    });
  }

  /** True when `address` belongs to a trusted proxy. */
  has(address: string): boolean {
    return this.#has(address);
  }

  /** True when no proxy is trusted (forwarded headers are never read). */
  get empty(): boolean {
    return this.#ranges.length === 0;
  }
}

/** True when `entry` is an address or CIDR range {@link TrustedProxies} accepts (for settings validation). */
export function isAddressOrRange(entry: string): boolean {
  return parseCidr(entry) !== undefined;
}

/** The connecting peer's address from Deno's connection info (`c.env.remoteAddr`), normalised. */
export function peerAddress(c: Context): string {
  const env: unknown = c.env;
  if (env && typeof env === "object" && "remoteAddr" in env) {
    const addr: unknown = env.remoteAddr;
    if (addr && typeof addr === "object" && "hostname" in addr && typeof addr.hostname === "string") {
      return normalise(addr.hostname) ?? addr.hostname;
    }
  }
  return UNKNOWN_ADDRESS;
}

/**
 * `::ffff:192.0.2.1` -> `192.0.2.1`, `[2001:DB8::1]:443` -> `2001:db8::1`; undefined when not an address.
 * Remembered per text (bounded): every request's peer address goes through it.
 */
const normalise: (entry: string) => string | undefined = memoize(normaliseAddress);

function normaliseAddress(entry: string): string | undefined {
  let s = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":")); // IPv4 with a port
  const ip = parseIp(s);
  return ip ? formatIp(ip) : undefined;
}

/**
 * The client's address: the peer, unless the peer is a trusted proxy; then the right-most
 * `X-Forwarded-For` entry that is not a trusted proxy (or the left-most when all are). An entry that
 * is not an address ends the walk at the hop that reported it.
 */
export function clientAddress(c: Context, trusted: TrustedProxies): string {
  let address = peerAddress(c);
  if (trusted.empty || !trusted.has(address)) return address;
  const hops = (c.req.raw.headers.get("x-forwarded-for") ?? "").split(",").filter((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalise(hops[i]);
    if (!hop) break;
    address = hop;
    if (!trusted.has(hop)) break;
  }
  return address;
}

const cache = new WeakMap<readonly string[], TrustedProxies>();

/** {@link TrustedProxies} for a settings list, parsed once per list. */
export function trustedProxies(list: readonly string[]): TrustedProxies {
  let t = cache.get(list);
  if (!t) cache.set(list, t = new TrustedProxies(list));
  return t;
}

/** What the gateway logs about the request a client made (set by {@link clientInfo} as `c.get("client")`). */
export interface ClientInfo {
  /** The client's HTTP method. */
  method: string;
  /** The path the client called, e.g. `/v1/chat/completions` (without the query). */
  path: string;
  /** The client's address ({@link clientAddress}). */
  address: string;
  /** Epoch ms when the request arrived. */
  time: number;
}

/** Hono context variables set by {@link clientInfo}. */
export type ClientVariables = { client: ClientInfo };

/** Options of {@link clientInfoGuard} and {@link clientInfo}. */
export interface ClientInfoOptions {
  /** Reverse proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`), read per request. */
  trustedProxies: () => readonly string[];
}

/** Records the client's method, path, address and arrival time as `c.get("client")`. */
function noteClient(c: Context, options: ClientInfoOptions): void {
  const req = c.req.raw;
  (c as unknown as Context<{ Variables: ClientVariables }>).set("client", {
    method: req.method,
    path: urlPath(req.url),
    address: clientAddress(c, trustedProxies(options.trustedProxies())),
    time: Date.now(),
  });
}

/**
 * Edge guard: records the client's method, path, address and arrival time as `c.get("client")`, before
 * anything can refuse the request (so refusals are logged with them).
 */
export function clientInfoGuard(options: ClientInfoOptions): EdgeGuard {
  return {
    enter(c) {
      noteClient(c, options);
      return undefined;
    },
  };
}

/** Middleware factory: {@link clientInfoGuard} for routes that are no edge (the Live API's sessions). */
export function clientInfo<V extends ClientVariables = ClientVariables>(
  options: ClientInfoOptions,
): MiddlewareHandler<{ Variables: V }> {
  return function clientInfoHandler(c, next) {
    noteClient(c, options);
    return next();
  };
}
