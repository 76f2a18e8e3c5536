/**
 * `GET` of a URL a client gave us, without server-side request forgery: every hop (the first and each
 * redirect) is resolved first, refused unless every address of the host is allowed (by default:
 * public, see {@link isPublicAddress}), and then connected to exactly the address that was checked —
 * the host name is not looked up again, so a name that changes its answer between the check and the
 * connection (DNS rebinding) cannot lead anywhere else. TLS still verifies the certificate for the
 * host name (SNI and the `Host` header keep the name).
 *
 * `fetch` cannot be pinned to an address for https, so this uses `node:http`/`node:https` with a
 * `lookup` that answers the checked address (https://nodejs.org/api/http.html#httprequestoptions-callback).
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import { lookup } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import { Readable } from "node:stream";
import { formatIp, isPublicAddress, nonPublicReason, parseIp } from "./ip.ts";

/** Resolves a host name to its IPv4 and IPv6 addresses (tests map names in their own resolver). */
export type Resolve = (hostname: string) => Promise<string[]>;

/** The system resolver (`getaddrinfo`: /etc/hosts, then DNS), every address of the name. */
export const systemResolve: Resolve = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** Why a URL was not fetched. Its message is for logs; clients get one neutral message. */
export class FetchRefused extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FetchRefused";
  }
}

/** Options for {@link fetchPublic}. */
export interface PublicFetchOptions {
  /** Host name resolver; default {@link systemResolve}. */
  resolve?: Resolve;
  /** Which addresses may be contacted; default {@link isPublicAddress}. */
  allowAddress?: (address: string) => boolean;
  /** Redirects followed at most; default 3. */
  maxRedirects?: number;
  signal?: AbortSignal;
  /** Request headers (`accept`, `user-agent`, ...). */
  headers?: Record<string, string>;
}

/** The address to connect to for `url`'s host, after checking every address it resolves to. */
async function checkedAddress(url: URL, o: PublicFetchOptions): Promise<string> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const literal = parseIp(host);
  let addresses: string[];
  if (literal) {
    addresses = [formatIp(literal)];
  } else {
    try {
      addresses = (await (o.resolve ?? systemResolve)(host)).map((a) => {
        const ip = parseIp(a);
        return ip ? formatIp(ip) : a;
      });
    } catch (e) {
      throw new FetchRefused(`cannot resolve ${host}`, { cause: e });
    }
  }
  if (!addresses.length) throw new FetchRefused(`${host} has no address`);
  const allow = o.allowAddress ?? isPublicAddress;
  const refused = addresses.find((a) => !allow(a));
  if (refused !== undefined) {
    throw new FetchRefused(`${host} resolves to ${refused} (${nonPublicReason(refused) ?? "not allowed"})`);
  }
  return addresses[0];
}

/** One request to `url`, connecting only to `address`. */
function requestAt(url: URL, address: string, o: PublicFetchOptions): Promise<Response> {
  const family = address.includes(":") ? 6 : 4;
  const client = url.protocol === "https:" ? https : http;
  // Every connection goes to the address that was checked, never to a new lookup's answer.
  const pinned: LookupFunction = (_host, opts, cb) =>
    opts.all ? cb(null, [{ address, family }]) : cb(null, address, family);
  return new Promise((resolve, reject) => {
    const req = client.request({
      protocol: url.protocol,
      host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port || undefined,
      path: url.pathname + url.search,
      method: "GET",
      headers: { "accept-encoding": "identity", ...o.headers },
      agent: false,
      signal: o.signal,
      lookup: pinned,
    }, (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
          headers.append(name, v);
        }
      }
      const status = res.statusCode ?? 502;
      const nullBody = status === 204 || status === 304;
      if (nullBody) res.destroy();
      const body = nullBody ? null : Readable.toWeb(res) as ReadableStream<Uint8Array>;
      resolve(new Response(body, { status, headers }));
    });
    req.on(
      "error",
      (e) => reject(new FetchRefused(`request to ${url.host} failed: ${e.message}`, { cause: e })),
    );
    req.end();
  });
}

/**
 * `GET url` under the rules above. Answers the final response (a non-redirect, or a redirect without
 * `Location`); the caller reads or cancels its body.
 *
 * @throws {FetchRefused} for a scheme other than http(s), a host that does not resolve or resolves to
 *   an address that is not allowed (first hop or any redirect), a network error, or too many redirects.
 */
export async function fetchPublic(url: string, o: PublicFetchOptions = {}): Promise<Response> {
  let current: URL;
  try {
    current = new URL(url);
  } catch (e) {
    throw new FetchRefused("not a URL", { cause: e });
  }
  const maxRedirects = o.maxRedirects ?? 3;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    if (current.protocol !== "http:" && current.protocol !== "https:") {
      throw new FetchRefused(`only http(s) URLs are fetched, not ${current.protocol}`);
    }
    const address = await checkedAddress(current, o);
    const res = await requestAt(current, address, o);
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !location) return res;
    await res.body?.cancel();
    try {
      current = new URL(location, current);
    } catch (e) {
      throw new FetchRefused("a redirect to something that is not a URL", { cause: e });
    }
  }
  throw new FetchRefused(`more than ${maxRedirects} redirects`);
}
