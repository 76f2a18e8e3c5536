/**
 * What the pipeline reports about every finished request, for logs, usage and the dashboard.
 *
 * @module
 */

/** One finished request (after its stream ended, for streams). */
export interface RequestRecord {
  /** Epoch ms when the request arrived. */
  time: number;
  route: string;
  method: string;
  /** Upstream path without the query. */
  path: string;
  model?: string;
  /** Id of the key that served it, or of the last key tried. */
  keyId?: string;
  tokenName?: string;
  status: number;
  latencyMs: number;
  attempts: number;
  stream: boolean;
  inputTokens?: number;
  outputTokens?: number;
  /** Google's error body or the gateway's message, with keys redacted. */
  error?: string;
}

/** Receives finished requests. Must not block: implementations queue their work. */
export type RecordSink = (record: RequestRecord) => void;

/** Token counts read from the tail of a Gemini response (usage is cumulative; the last one wins). */
export function usageFromTail(tail: string): { inputTokens?: number; outputTokens?: number } {
  const last = (name: string) => {
    const all = [...tail.matchAll(new RegExp(`"${name}"\\s*:\\s*(\\d+)`, "g"))];
    return all.length ? Number(all[all.length - 1][1]) : undefined;
  };
  const prompt = last("promptTokenCount");
  const cand = last("candidatesTokenCount");
  const thoughts = last("thoughtsTokenCount");
  if (prompt === undefined && cand === undefined) return {};
  return { inputTokens: prompt, outputTokens: (cand ?? 0) + (thoughts ?? 0) };
}
