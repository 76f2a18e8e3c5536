/**
 * Client authentication: a token from `Authorization: Bearer`, `x-goog-api-key`, `x-api-key` (what
 * Anthropic's clients send, Claude Code among them) or `?key=`,
 * looked up by its SHA-256 and compared in constant time. The token never goes upstream.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { unauthenticated } from "./errors.ts";
import { timingSafeEqual } from "../secrets/timing_safe_equal.ts";

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
}

/** Finds the client token whose SHA-256 (hex) is `hash`. Synchronous: the hot path never awaits. */
export type TokenResolver = (hash: string) => { token: ClientToken; hash: string } | undefined;

/** Typed context variables set by {@link clientAuth}: the token, its name and its id ({@link ClientToken.id}). */
export type AuthVariables = { clientToken: ClientToken; tokenName: string; tokenId: string };

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
}

function findToken(options: ClientAuthOptions, req: Request): { token: ClientToken } {
  const token = readClientToken(req);
  if (!token) {
    const byUrl = options.urlCredential?.(req);
    if (byUrl) return { token: byUrl };
    throw unauthenticated(
      "Missing client token. Send it as 'Authorization: Bearer <token>', 'x-goog-api-key: <token>', 'x-api-key: <token>' or '?key=<token>'.",
    );
  }
  const hash = hashes.get(token) ?? hashToken(token);
  const found = options.resolve(hash);
  if (!found || !timingSafeEqual(found.hash, hash)) {
    throw unauthenticated(
      "The client token is not valid. Check the token configured in ALLOWED_TOKENS or the admin panel.",
    );
  }
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
 * Middleware: refuses requests without a valid client token (401), sets `clientToken`, `tokenName` and
 * `tokenId`.
 * A request without a token passes only when `urlCredential` vouches for its URL.
 */
export function clientAuth(options: ClientAuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function clientAuthHandler(c, next) {
    const found = findToken(options, c.req.raw);
    if (found.token.revoked) {
      throw unauthenticated(
        `The client token '${found.token.name}' was revoked; ask the admin for a new one.`,
      );
    }
    if (found.token.expiresAt && found.token.expiresAt < Date.now()) {
      throw unauthenticated(
        `The client token '${found.token.name}' has expired; ask the admin for a new one.`,
      );
    }
    options.admit?.(found.token, c.req.raw);
    c.set("clientToken", found.token);
    c.set("tokenName", found.token.name);
    c.set("tokenId", found.token.id);
    await next();
  };
}
