/**
 * Small request builders shared by tests: a native `generateContent` call through a test gateway, and
 * a finished-request record for the log and metrics stores.
 *
 * @module
 */
import type { RequestRecord } from "../../lib/pipeline/request_record.ts";
import type { Harness } from "./harness.ts";

/** Options for {@link nativeGenerate}. */
export interface NativeGenerateOptions {
  /** Client token, sent as `x-goog-api-key`. */
  token: string;
  /** Default `gemini-2.5-flash`. */
  model?: string;
  /** The user text; default `hello`. */
  text?: string;
}

/** POSTs a one-turn native `generateContent` request to `h`; answers the raw response. */
export function nativeGenerate(h: Harness, o: NativeGenerateOptions): Promise<Response> {
  return fetch(`${h.url}/v1beta/models/${o.model ?? "gemini-2.5-flash"}:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": o.token, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: o.text ?? "hello" }] }] }),
  });
}

/** A successful native request record at `time` (model `m`, 100 ms), with `over` applied. */
export function requestRecord(time: number, over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    time,
    route: "gemini",
    method: "POST",
    path: "/v1beta/models/m:generateContent",
    model: "m",
    status: 200,
    latencyMs: 100,
    attempts: 1,
    stream: false,
    ...over,
  };
}
