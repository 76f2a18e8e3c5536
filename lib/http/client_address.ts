/**
 * The address of the client behind a request: the connection's peer, or, when that peer is a
 * trusted reverse proxy (`TRUSTED_PROXIES`), the nearest address in `X-Forwarded-For` that is not
 * itself a trusted proxy. Throttles and logs key on it. A forwarded header from an untrusted peer is
 * ignored (anyone can send one).
 *
 * Source: X-Forwarded-For, https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/X-Forwarded-For
 * ("use the rightmost address not added by a trusted proxy").
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";

/** Shown when the connection's address is not known (e.g. an app called in-process). */
export const UNKNOWN_ADDRESS = "unknown";

/** The peer address from Deno's serve handler info (`Deno.ServeHandlerInfo`, Hono's `c.env`). */
function peerAddress(info: unknown): string | undefined {
  if (!info || typeof info !== "object" || !("remoteAddr" in info)) return undefined;
  const addr: unknown = info.remoteAddr;
  if (addr && typeof addr === "object" && "hostname" in addr && typeof addr.hostname === "string") {
    return addr.hostname;
  }
  return undefined;
}

/** `::ffff:1.2.3.4` -> `1.2.3.4`; brackets and zone ids dropped; lower case. */
export function normalizeAddress(address: string): string {
  let a = address.trim().toLowerCase().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) a = mapped[1];
  return a;
}

function ipv4Bits(a: string): bigint | undefined {
  const parts = a.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function ipv6Bits(a: string): bigint | undefined {
  if (!a.includes(":")) return undefined;
  const halves = a.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => s ? s.split(":") : [];
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  let n = 0n;
  for (const g of [...head, ...Array(missing).fill("0"), ...tail]) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

/** An address as bits and its family width, or undefined when it is not an IP address. */
function bitsOf(address: string): { bits: bigint; width: number } | undefined {
  const a = normalizeAddress(address);
  const v4 = ipv4Bits(a);
  if (v4 !== undefined) return { bits: v4, width: 32 };
  const v6 = ipv6Bits(a);
  return v6 === undefined ? undefined : { bits: v6, width: 128 };
}

/** True when `entry` is an IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
export function isAddressOrRange(entry: string): boolean {
  const [addr, len, extra] = entry.trim().split("/");
  const b = bitsOf(addr);
  if (!b || extra !== undefined) return false;
  return len === undefined || (/^\d{1,3}$/.test(len) && Number(len) <= b.width);
}

/** True when `address` is `entry` or inside the CIDR range `entry`. */
export function inRange(address: string, entry: string): boolean {
  const a = bitsOf(address);
  const [base, len] = entry.trim().split("/");
  const r = bitsOf(base);
  if (!a || !r || a.width !== r.width) return false;
  const prefix = len === undefined ? r.width : Number(len);
  const shift = BigInt(r.width - prefix);
  return (a.bits >> shift) === (r.bits >> shift);
}

/**
 * The client's address for `req` arriving on a connection described by `info`.
 *
 * @param trustedProxies addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed.
 * @returns a normalized IP address, or {@link UNKNOWN_ADDRESS}.
 */
export function clientAddress(req: Request, info: unknown, trustedProxies: readonly string[]): string {
  const peer = peerAddress(info);
  if (!peer) return UNKNOWN_ADDRESS;
  const address = normalizeAddress(peer);
  if (!trustedProxies.length) return address;
  const trusted = (a: string) => trustedProxies.some((t) => inRange(a, t));
  if (!trusted(address)) return address;
  const forwarded = (req.headers.get("x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter(
    Boolean,
  );
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(forwarded[i]);
    if (!bitsOf(hop)) return address; // garbage in the header: do not believe the rest of it
    if (!trusted(hop)) return hop;
  }
  return forwarded.length ? normalizeAddress(forwarded[0]) : address;
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

/**
 * Middleware factory: records the client's method, path, address and arrival time as `c.get("client")`,
 * before anything can refuse the request (so refusals are logged with them).
 */
export function clientInfo(
  options: { trustedProxies: () => readonly string[] },
): MiddlewareHandler<{ Variables: ClientVariables }> {
  return async function clientInfoHandler(c, next) {
    const req = c.req.raw;
    c.set("client", {
      method: req.method,
      path: new URL(req.url).pathname,
      address: clientAddress(req, c.env, options.trustedProxies()),
      time: Date.now(),
    });
    await next();
  };
}
