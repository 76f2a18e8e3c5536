/**
 * Checks a key against Google with calls that use no generation quota, each of the key's own kind:
 *
 * - Gemini API key: a model get (is the key valid?) and, for a model the key had no access to,
 *   `countTokens` on that model;
 * - Vertex AI express key: `countTokens` (express mode has no model get; counting tokens is free and
 *   spends no generation quota), on the model in question or on {@link CHECK_MODEL}.
 *
 * Sources: https://ai.google.dev/api/tokens, https://cloud.google.com/vertex-ai/generative-ai/docs/start/express-mode/vertex-ai-express-mode-api-reference
 *
 * @module
 */
import { parseGoogleError } from "../gemini/rpc_status.ts";
import { vertexModelUrl } from "../vertex/upstream.ts";
import { classify, type Verdict } from "./classify.ts";
import type { KeyKind } from "./key_record.ts";
import { maskKey, redactKeys } from "../secrets/redact.ts";

/** Options for {@link verifyKey}. */
export interface VerifyOptions {
  /** The base URL of the key's service (the Gemini API's, or Vertex AI's for a Vertex key). */
  baseUrl: string;
  key: string;
  /** The key's kind (default: a Gemini API key). */
  kind?: KeyKind;
  /** Model to check access to; a model get on a common model when omitted. */
  model?: string;
  timeoutMs?: number;
  client?: Deno.HttpClient;
}

/** The model used for plain validity checks. */
export const CHECK_MODEL = "gemini-2.5-flash";

/** Calls Google with `key` and classifies the answer (`ok`, `disable`, `transient`, ...). */
export async function verifyKey(o: VerifyOptions): Promise<Verdict> {
  const base = o.baseUrl.replace(/\/$/, "");
  const vertex = o.kind === "vertex";
  const count = vertex || o.model !== undefined;
  const url = vertex
    ? vertexModelUrl({ baseUrl: base, version: "v1", model: o.model ?? CHECK_MODEL, method: "countTokens" })
    : o.model
    ? `${base}/v1beta/models/${encodeURIComponent(o.model)}:countTokens`
    : `${base}/v1beta/models/${CHECK_MODEL}`;
  try {
    const res = await fetch(url, {
      method: count ? "POST" : "GET",
      headers: { "x-goog-api-key": o.key, "content-type": "application/json" },
      body: count ? JSON.stringify({ contents: [{ role: "user", parts: [{ text: "ping" }] }] }) : undefined,
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
      client: o.client,
    });
    // Google quotes the key in some reasons ("Consumer 'api_key:…' has been suspended").
    const text = redactKeys(await res.text()).replaceAll(o.key, maskKey(o.key));
    return classify({
      status: res.status,
      body: parseGoogleError(text),
      now: Date.now(),
      defaultCooldownMs: 60_000,
    });
  } catch (e) {
    const why = redactKeys(String(e instanceof Error ? e.message : e)).replaceAll(o.key, maskKey(o.key));
    return { kind: "transient", reason: `verification failed: ${why}` };
  }
}

/** Runs `task` over `items` with at most `limit` at once. */
export async function withConcurrency<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
