/**
 * Ephemeral tokens (`POST /v1alpha/auth_tokens`): short-lived credentials a server creates with its API
 * key and hands to a browser, which opens a Live session with them (`BidiGenerateContentConstrained`).
 * The gateway creates them through its pipeline with a pool key and pins each to that key (only that
 * key's project accepts it). This file reads what the gateway needs from the request and the answer.
 *
 * Request body (as @google/genai `ai.authTokens.create` sends it): `{uses?, expireTime?,
 * newSessionExpireTime?, bidiGenerateContentSetup?: {model, ...}, fieldMask?}`; answer: `{name:
 * "auth_tokens/…", expireTime?, newSessionExpireTime?, uses?}`. A token expires 30 minutes after creation
 * unless `expireTime` says otherwise (at most 20 hours).
 *
 * Source: https://ai.google.dev/gemini-api/docs/ephemeral-tokens, @google/genai `Tokens.create`.
 *
 * @module
 */
import { bareModel } from "../gemini/model_id.ts";

/** Google's default token lifetime (ms). */
const DEFAULT_TTL_MS = 30 * 60_000;
/** Google's longest token lifetime (ms). */
const MAX_TTL_MS = 20 * 3600_000;
/** Pins outlive the token by this much, so clocks that disagree a little do not drop a valid token. */
const MARGIN_MS = 60_000;

const decoder = new TextDecoder();

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The bare model a token request locks the sessions to, if it names one. */
export function authTokenModel(body: Uint8Array | null): string | undefined {
  const req = body?.length ? parse(decoder.decode(body)) : undefined;
  const setup = req?.bidiGenerateContentSetup as { model?: unknown; setup?: { model?: unknown } } | undefined;
  const model = setup?.model ?? setup?.setup?.model;
  return typeof model === "string" && model ? bareModel(model) : undefined;
}

/** A created token: its name and how long to keep its pin (ms), or undefined when the answer names none. */
export function createdToken(text: string, now = Date.now()): { name: string; ttlMs: number } | undefined {
  const token = parse(text);
  const name = token?.name;
  if (typeof name !== "string" || !name) return undefined;
  const expires = typeof token?.expireTime === "string" ? Date.parse(token.expireTime) : NaN;
  const ttl = Number.isFinite(expires) ? expires - now : DEFAULT_TTL_MS;
  return { name, ttlMs: Math.min(Math.max(ttl, 0), MAX_TTL_MS) + MARGIN_MS };
}
