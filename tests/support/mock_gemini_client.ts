/**
 * Tiny fetch helpers for tests that talk to {@link MockGemini} (or to the gateway) in Gemini's wire format.
 *
 * @module
 */

import type { MockGemini } from "./mock_gemini.ts";

/** Options of {@link postJson}. */
export interface PostJsonOptions {
  /** Sent as `x-goog-api-key` when set. */
  key?: string;
  /** Object (JSON-encoded) or raw string body. */
  body: unknown;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** POSTs JSON to `base + path` (base is a URL string or a running mock). */
export function postJson(base: MockGemini | string, path: string, o: PostJsonOptions): Promise<Response> {
  const url = (typeof base === "string" ? base : base.url) + path;
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(o.key ? { "x-goog-api-key": o.key } : {}),
      ...o.headers,
    },
    body: typeof o.body === "string" ? o.body : JSON.stringify(o.body),
    signal: o.signal,
  });
}

/** A GenerateContentRequest body with one user text turn. */
export function userText(text: string): { contents: { role: string; parts: { text: string }[] }[] } {
  return { contents: [{ role: "user", parts: [{ text }] }] };
}

/** Parses a complete Gemini SSE body (`data: {...}\r\n\r\n` events) into the JSON chunks. */
export function parseSse(raw: string): Record<string, unknown>[] {
  return raw.split(/\r\n\r\n|\n\n|\r\r/).filter((e) => e.trim() !== "").map((e) => {
    if (!e.startsWith("data: ")) throw new Error(`SSE event does not start with "data: ": ${e.slice(0, 80)}`);
    return JSON.parse(e.slice(6));
  });
}

/** Waits (at most ~2 s) until `cond()` is true; for asynchronous bookkeeping, not for timing assertions. */
export async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}
