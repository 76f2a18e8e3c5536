/**
 * Client authentication: a token from `Authorization: Bearer`, `x-goog-api-key`, `x-api-key` (what
 * Anthropic's clients send, Claude Code among them) or `?key=`,
 * looked up by its SHA-256 and compared in constant time. The token never goes upstream.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { rateLimited, unauthenticated } from "./errors.ts";
import { timingSafeEqual } from "../secrets/timing_safe_equal.ts";
import type { AuthFailureThrottle } from "./auth_throttle.ts";
import { type ClientVariables, UNKNOWN_ADDRESS } from "./client_address.ts";

/** A client token's identity and limits. */
export interface ClientToken {
  /** Name shown in logs and usage (never the token itself). */
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
 * Typed context variables of an edge: `client` (set by `clientInfo` before auth), and `clientToken`
 * and `tokenName` set by {@link clientAuth}.
 */
export type AuthVariables = ClientVariables & { clientToken: ClientToken; tokenName: string };

/** SHA-256 of a token, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The credential a client sent, from any of the places clients put it. */
export function readClientToken(req: Request): string | undefined {
  const auth = req.headers.get("authorization");
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, "").trim();
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
}

/**
 * The client token of a request. A throttled address gets 429 before its token is even looked up, so
 * a guess learns nothing; a wrong token counts as a failure of that address.
 */
function findToken(options: ClientAuthOptions, req: Request, address: string): { token: ClientToken } {
  const token = readClientToken(req);
  if (!token) {
    const byUrl = options.urlCredential?.(req);
    if (byUrl) return { token: byUrl };
    throw unauthenticated(
      "Missing client token. Send it as 'Authorization: Bearer <token>', 'x-goog-api-key: <token>', 'x-api-key: <token>' or '?key=<token>'.",
      "missing_token",
    );
  }
  const hash = hashToken(token);
  const { throttle } = options;
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
  return found;
}

/**
 * Middleware: refuses requests without a valid client token (401; 429 for an address throttled after
 * too many failed authentications), sets `clientToken` and `tokenName`. A request without a token
 * passes only when `urlCredential` vouches for its URL. Every refusal carries its reason
 * (`GatewayError.options.refusal`) for the log.
 */
export function clientAuth(options: ClientAuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function clientAuthHandler(c, next) {
    const found = findToken(options, c.req.raw, c.get("client")?.address ?? UNKNOWN_ADDRESS);
    c.set("tokenName", found.token.name);
    if (found.token.revoked) {
      throw unauthenticated(
        `The client token '${found.token.name}' was revoked; ask the admin for a new one.`,
        "revoked_token",
      );
    }
    if (found.token.expiresAt && found.token.expiresAt < Date.now()) {
      throw unauthenticated(
        found.token.rotated
          ? `This secret of the client token '${found.token.name}' was replaced and its grace period is over; use the new one.`
          : `The client token '${found.token.name}' has expired; ask the admin for a new one.`,
        "expired_token",
      );
    }
    // Named before the limits are checked, so a refusal is logged under the token's name.
    c.set("clientToken", found.token);
    options.admit?.(found.token, c.req.raw);
    await next();
  };
}
