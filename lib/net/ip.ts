/**
 * IP addresses as the gateway needs them: parsing IPv4 and IPv6 text (with IPv4-mapped forms), CIDR
 * ranges, and whether an address is public — the one test the image downloader applies before it
 * connects anywhere (no loopback, private, link-local, shared, documentation, multicast or other
 * special-purpose address, in either family or in an IPv6 form that embeds an IPv4 address).
 *
 * Sources: IANA IPv4 and IPv6 Special-Purpose Address Registries
 * (https://www.iana.org/assignments/iana-ipv4-special-registry/,
 * https://www.iana.org/assignments/iana-ipv6-special-registry/), RFC 4291 (IPv6 text and mapped
 * addresses), RFC 6052 (NAT64 prefix), RFC 3056 (6to4).
 *
 * @module
 */

import { memoize } from "../util/memo.ts";

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = Uint8Array;

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(text: string): IpBytes | undefined {
  const m = V4.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map((p) => (p.length > 1 && p.startsWith("0") ? NaN : Number(p)));
  return parts.every((p) => p >= 0 && p <= 255) ? Uint8Array.from(parts) : undefined;
}

function parseV6(text: string): IpBytes | undefined {
  let s = text;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  const last = s.slice(lastColon + 1);
  if (last.includes(".")) {
    // A dotted IPv4 tail (`::ffff:192.0.2.1`) stands for the last two groups.
    const v4 = parseV4(last);
    if (!v4) return undefined;
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith("::")) s = s.slice(0, -1);
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const words = (part: string) => part === "" ? [] : part.split(":");
  const head = words(halves[0]);
  const rest = halves.length === 2 ? words(halves[1]) : [];
  const hex = /^[0-9a-f]{1,4}$/i;
  if (![...head, ...rest].every((w) => hex.test(w))) return undefined;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const groups = [
    ...head.map((w) => parseInt(w, 16)),
    ...new Array(8 - given).fill(0),
    ...rest.map((w) => parseInt(w, 16)),
    ...tail,
  ];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => (out[2 * i] = g >> 8, out[2 * i + 1] = g & 0xff));
  return out;
}

/**
 * Parses an IPv4 (`192.0.2.1`) or IPv6 (`2001:db8::1`, `::ffff:192.0.2.1`, `[::1]`, `fe80::1%eth0`)
 * address. IPv4-mapped IPv6 addresses come back as their 4 IPv4 bytes, so each address has one form.
 *
 * @returns the bytes, or undefined when `text` is not an address.
 */
export function parseIp(text: string): IpBytes | undefined {
  const s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!s.includes(":")) return parseV4(s);
  const v6 = parseV6(s);
  return v6 && isMapped(v6) ? v6.slice(12) : v6;
}

function isMapped(b: IpBytes): boolean {
  return b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/** The text form of parsed bytes: dotted IPv4, or IPv6 with the longest zero run as `::`. */
export function formatIp(b: IpBytes): string {
  if (b.length === 4) return b.join(".");
  const groups = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(":");
  return `${hex.slice(0, best.at).join(":")}::${hex.slice(best.at + best.len).join(":")}`;
}

/** A range of addresses: `bytes` with the first `prefix` bits fixed. */
export interface Cidr {
  bytes: IpBytes;
  prefix: number;
}

/**
 * Parses `10.0.0.0/8`, `2001:db8::/32` or a single address (a /32 or /128).
 *
 * @returns the range, or undefined when `text` is neither.
 */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, bits, extra] = text.trim().split("/");
  if (extra !== undefined) return undefined;
  const bytes = parseIp(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (bits === undefined) return { bytes, prefix: max };
  // A mapped range (::ffff:10.0.0.0/104) becomes its IPv4 range (10.0.0.0/8).
  const mappedShift = addr.includes(":") && bytes.length === 4 ? 96 : 0;
  const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) - mappedShift : NaN;
  return prefix >= 0 && prefix <= max ? { bytes, prefix } : undefined;
}

/** True when `ip` lies in `range` (addresses of the other family never do). */
export function inCidr(ip: IpBytes, range: Cidr): boolean {
  if (ip.length !== range.bytes.length) return false;
  const full = range.prefix >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== range.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (!rest) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full] & mask) === (range.bytes[full] & mask);
}

/** Special-purpose ranges that are never fetched, with what each is (IANA registries). */
const NOT_PUBLIC: ReadonlyArray<readonly [range: string, what: string]> = [
  ["0.0.0.0/8", "this network"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "shared address space (carrier-grade NAT)"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local (cloud metadata services)"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "IETF protocol assignments"],
  ["192.0.2.0/24", "documentation (TEST-NET-1)"],
  ["192.31.196.0/24", "AS112-v4"],
  ["192.52.193.0/24", "AMT"],
  ["192.88.99.0/24", "6to4 relay anycast"],
  ["192.168.0.0/16", "private"],
  ["192.175.48.0/24", "direct delegation AS112"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation (TEST-NET-2)"],
  ["203.0.113.0/24", "documentation (TEST-NET-3)"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved and broadcast"],
  // IPv6: only global unicast (2000::/3) is public, minus these; ::1, ::, fc00::/7 (unique local),
  // fe80::/10 (link-local), ff00::/8 (multicast), 64:ff9b:1::/48 and 100::/64 lie outside 2000::/3.
  ["2001::/23", "IETF protocol assignments (Teredo, ORCHID, ...)"],
  ["2001:db8::/32", "documentation"],
  ["3fff::/20", "documentation"],
];

const NOT_PUBLIC_RANGES = NOT_PUBLIC.map(([range, what]) => ({ range: parseCidr(range)!, what }));
const GLOBAL_UNICAST = parseCidr("2000::/3")!;
/** IPv6 forms that carry an IPv4 address, judged by that address: NAT64 (RFC 6052) and 6to4 (RFC 3056). */
const EMBEDS_V4: ReadonlyArray<{ range: Cidr; at: number }> = [
  { range: parseCidr("64:ff9b::/96")!, at: 12 },
  { range: parseCidr("2002::/16")!, at: 2 },
];

/**
 * Why `ip` is not a public address (`"loopback"`, `"private"`, ...), or undefined when it is public.
 * Text that is not an address is reported as such.
 */
export function nonPublicReason(ip: string | IpBytes): string | undefined {
  const b = typeof ip === "string" ? parseIp(ip) : ip;
  if (!b) return "not an IP address";
  const embedded = EMBEDS_V4.find((e) => inCidr(b, e.range));
  if (embedded) return nonPublicReason(b.slice(embedded.at, embedded.at + 4));
  if (b.length === 16 && !inCidr(b, GLOBAL_UNICAST)) return "not global unicast IPv6";
  return NOT_PUBLIC_RANGES.find((r) => inCidr(b, r.range))?.what;
}

/** True when `ip` is a public (globally routable unicast) address. */
export function isPublicAddress(ip: string | IpBytes): boolean {
  return nonPublicReason(ip) === undefined;
}

/** Bits of an IPv6 address that name one client for per-client limits: a /64 is one subscriber's or host's. */
const CLIENT_V6_PREFIX = 64;

/**
 * The client an address stands for in per-client throttles: an IPv4 address itself, an IPv6 address's
 * /64 (`2001:db8:1:2::/64`; one host or subscriber gets a whole /64, RFC 6177, and can use any address
 * in it), anything else unchanged. Remembered per address (bounded): throttles ask for it on every
 * request, from a few distinct addresses.
 */
export const clientScope: (address: string) => string = memoize(scopeOf);

function scopeOf(address: string): string {
  const ip = parseIp(address);
  if (!ip) return address;
  if (ip.length === 4) return formatIp(ip);
  const net = new Uint8Array(16);
  net.set(ip.subarray(0, CLIENT_V6_PREFIX / 8));
  return `${formatIp(net)}/${CLIENT_V6_PREFIX}`;
}
