/**
 * Checks a key against Google with calls that use no generation quota: a model get (is the key
 * valid?) and, for a model the key had no access to, `countTokens` on that model.
 *
 * @module
 */
import { parseGoogleError } from "../gemini/rpc_status.ts";
import { classify, type Verdict } from "./classify.ts";
import { maskKey, redactKeys } from "../secrets/redact.ts";

/** Options for {@link verifyKey}. */
export interface VerifyOptions {
  baseUrl: string;
  key: string;
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
  const url = o.model
    ? `${base}/v1beta/models/${encodeURIComponent(o.model)}:countTokens`
    : `${base}/v1beta/models/${CHECK_MODEL}`;
  try {
    const res = await fetch(url, {
      method: o.model ? "POST" : "GET",
      headers: { "x-goog-api-key": o.key, "content-type": "application/json" },
      body: o.model ? JSON.stringify({ contents: [{ role: "user", parts: [{ text: "ping" }] }] }) : undefined,
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
