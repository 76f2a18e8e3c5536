/**
 * Client authentication: a token from `Authorization: Bearer`, `x-goog-api-key`, `x-api-key` (what
 * Anthropic's clients send, Claude Code among them) or `?key=`,
 * looked up by its SHA-256 and compared in constant time. The token never goes upstream.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { rateLimited, unauthenticated } from "./errors.ts";
import { timingSafeEqual } from "../secrets/timing_safe_equal.ts";
import type { AuthFailureThrottle } from "./auth_throttle.ts";
import { type ClientVariables, peerAddress } from "./client_address.ts";
import type { EdgeGuard } from "../pipeline/edge.ts";

/** A client token's identity and limits. */
export interface ClientToken {
  /**
   * A stable identity no other token shares, never the token itself: a stored token's record id, or
   * `env-` and the SHA-256 (hex) of a token from `ALLOWED_TOKENS`. What owns a client's stored state
   * (stored responses).
   */
  id: string;
  /** Name shown in logs and usage, unique among the tokens (never the token itself). */
  name: string;
  /** Models this token may use (all when absent). */
  models?: string[];
  /** Requests per minute allowed (unlimited when absent). */
  rpm?: number;
  /** Tokens (input + output) per Pacific day (unlimited when absent). */
  dailyTokens?: number;
  /** Epoch ms after which the token is refused. */
  expiresAt?: number;
  /** Revoked tokens are refused (401). */
  revoked?: boolean;
  /** This is the previous secret of a rotated token (accepted until `expiresAt`, the grace period's end). */
  rotated?: boolean;
}

/** Finds the client token whose SHA-256 (hex) is `hash`. Synchronous: the hot path never awaits. */
export type TokenResolver = (hash: string) => { token: ClientToken; hash: string } | undefined;

/**
 * Typed context variables of an edge: `client` (set by `clientInfo` before auth), and `clientToken`,
 * `tokenName` and `tokenId` ({@link ClientToken.id}) set by {@link clientAuth}.
 */
export type AuthVariables = ClientVariables & {
  clientToken: ClientToken;
  tokenName: string;
  tokenId: string;
};

/** SHA-256 of a token, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

const BEARER = /^bearer\s+/i;

/** The credential a client sent, from any of the places clients put it. */
export function readClientToken(req: Request): string | undefined {
  const auth = req.headers.get("authorization");
  const bearer = auth ? BEARER.exec(auth) : null;
  if (bearer) return auth!.slice(bearer[0].length).trim();
  const header = req.headers.get("x-goog-api-key") ?? req.headers.get("x-api-key");
  if (header) return header;
  return req.url.includes("key=") ? new URL(req.url).searchParams.get("key") ?? undefined : undefined;
}

/** Options for {@link clientAuth}. */
export interface ClientAuthOptions {
  resolve: TokenResolver;
  /** Extra check after a token is found (limits, model allow-list); throw a `GatewayError` to refuse. */
  admit?: (token: ClientToken, req: Request) => void;
  /**
   * For a request that carries no token: the client token a URL the gateway itself handed out stands
   * for (a resumable upload session URL, whose calls carry no key, as in Google's own examples), or
   * undefined when the URL is no such credential (the request is then refused).
   */
  urlCredential?: (req: Request) => ClientToken | undefined;
  /** Failed authentications per client address; a throttled address is answered 429 without a check. */
  throttle?: AuthFailureThrottle;
  /**
   * The client's address for the throttle (default: the one `clientInfo` noted, else the connecting
   * peer's).
   */
  clientAddress?: (c: Context) => string;
}

/**
 * The client token of a request. A throttled address gets 429 before its token is even looked up, so
 * a guess learns nothing; a wrong token counts as a failure of that address.
 */
function findToken(
  options: ClientAuthOptions,
  c: Context<{ Variables: AuthVariables }>,
): { token: ClientToken } {
  const req = c.req.raw;
  const token = readClientToken(req);
  if (!token) {
    const byUrl = options.urlCredential?.(req);
    if (byUrl) return { token: byUrl };
    throw unauthenticated(
      "Missing client token. Send it as 'Authorization: Bearer <token>', 'x-goog-api-key: <token>', 'x-api-key: <token>' or '?key=<token>'.",
      "missing_token",
    );
  }
  const hash = hashes.get(token) ?? hashToken(token);
  const { throttle } = options;
  const address = options.clientAddress?.(c) ?? c.get("client")?.address ?? peerAddress(c);
  const wait = throttle?.check(address, hash);
  if (wait !== undefined) {
    throw rateLimited(
      `Too many failed authentications from ${address}; retry in ${wait} s with a valid client token.`,
      wait,
      "auth_throttled",
    );
  }
  const found = options.resolve(hash);
  if (!found || !timingSafeEqual(found.hash, hash)) {
    throttle?.fail(address);
    throw unauthenticated(
      "The client token is not valid. Check the token configured in ALLOWED_TOKENS or the admin panel.",
    );
  }
  throttle?.succeed(address, hash);
  if (!hashes.has(token)) {
    if (hashes.size >= HASH_CACHE_SIZE) hashes.clear();
    hashes.set(token, hash);
  }
  return found;
}

/**
 * SHA-256s of tokens that were valid when first seen, so a client's next request costs a map lookup
 * instead of a hash (every request is still looked up by its hash, so a revoked or deleted token is
 * refused at once). Tokens that were never valid are not kept: guessing cannot grow it.
 */
const hashes = new Map<string, string>();
const HASH_CACHE_SIZE = 4096;

/**
 * The checks every use of a client token passes: not revoked, not expired (a rotated token's old secret
 * past its grace period), then `admit` (limits). `what` names the token in the refusal (default: the
 * client token by its name). Every refusal carries its reason (`GatewayError.options.refusal`) for the log.
 *
 * @throws {GatewayError} 401 for a revoked or expired token; whatever `admit` throws (429, 403).
 */
export function admitClientToken(
  options: Pick<ClientAuthOptions, "admit">,
  token: ClientToken,
  req: Request,
  what = `The client token '${token.name}'`,
): void {
  if (token.revoked) {
    throw unauthenticated(`${what} was revoked; ask the admin for a new one.`, "revoked_token");
  }
  if (token.expiresAt && token.expiresAt < Date.now()) {
    throw unauthenticated(
      token.rotated
        ? `This secret of ${
          what.replace(/^The /, "the ")
        } was replaced and its grace period is over; use the new one.`
        : `${what} has expired; ask the admin for a new one.`,
      "expired_token",
    );
  }
  options.admit?.(token, req);
}

/**
 * Client auth: refuses requests without a valid client token (401; 429 for an address throttled after
 * too many failed authentications), sets `clientToken`, `tokenName` and `tokenId`. A request without a
 * token passes only when `urlCredential` vouches for its URL. Every refusal carries its reason
 * (`GatewayError.options.refusal`) for the log.
 *
 * @throws {GatewayError} 401, 429 (and what `admit` throws) when it refuses.
 */
export function authenticate(options: ClientAuthOptions, c: Context<{ Variables: AuthVariables }>): void {
  const found = findToken(options, c);
  // Named before the checks, so a refusal is logged under the token's name.
  c.set("tokenName", found.token.name);
  c.set("tokenId", found.token.id);
  c.set("clientToken", found.token);
  admitClientToken(options, found.token, c.req.raw);
}

/** Edge guard: {@link authenticate}. */
export function clientAuthGuard(options: ClientAuthOptions): EdgeGuard {
  return {
    enter: function clientAuthHandler(c) {
      authenticate(options, c);
      return undefined;
    },
  };
}

/** Middleware: {@link authenticate}, then the rest. */
export function clientAuth(options: ClientAuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  return function clientAuthMiddleware(c, next) {
    authenticate(options, c);
    return next();
  };
}
