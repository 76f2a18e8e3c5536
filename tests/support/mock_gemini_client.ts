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

/** Options of {@link uploadFile}. */
export interface UploadFileOptions {
  /** Sent as `x-goog-api-key` on the start request. */
  key: string;
  /** File content. */
  content: string | Uint8Array<ArrayBuffer>;
  /** Defaults to `text/plain`. */
  mimeType?: string;
  displayName?: string;
}

/** Uploads a file with Google's resumable protocol (start, then one `upload, finalize`); returns the File resource. */
export async function uploadFile(
  base: MockGemini | string,
  o: UploadFileOptions,
): Promise<Record<string, string>> {
  const root = typeof base === "string" ? base : base.url;
  const start = await fetch(root + "/upload/v1beta/files", {
    method: "POST",
    headers: {
      "x-goog-api-key": o.key,
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-command": "start",
      "x-goog-upload-header-content-type": o.mimeType ?? "text/plain",
      "content-type": "application/json",
    },
    body: JSON.stringify({ file: { displayName: o.displayName } }),
  });
  await start.body?.cancel();
  const uploadUrl = start.headers.get("x-goog-upload-url");
  if (!start.ok || !uploadUrl) {
    throw new Error(`upload start failed with HTTP ${start.status} (no x-goog-upload-url)`);
  }
  const fin = await fetch(uploadUrl, {
    method: "POST",
    headers: { "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
    body: o.content,
  });
  const json = await fin.json();
  if (fin.headers.get("x-goog-upload-status") !== "final") {
    throw new Error(`upload did not finalize: HTTP ${fin.status} ${JSON.stringify(json)}`);
  }
  return json.file;
}
