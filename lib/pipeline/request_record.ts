/**
 * What the pipeline reports about every finished request, for logs, usage and the dashboard. The
 * edges report the requests they refuse or reject before the pipeline in the same shape.
 *
 * @module
 */
import { type Outcome, outcomeOfStatus, type RefusalReason } from "../http/refusal.ts";

export type { Outcome, RefusalReason };

/** One finished request (after its stream ended, for streams). */
export interface RequestRecord {
  /** Epoch ms when the request arrived. */
  time: number;
  /** The edge (dialect) that took the request: `gemini`, `openai`, ... */
  route: string;
  /** Upstream HTTP method. */
  method: string;
  /** Upstream path without the query (the client's path when the request never went upstream). */
  path: string;
  /** The client's own request: its method and path (`POST /v1/chat/completions`). */
  clientMethod?: string;
  clientPath?: string;
  /** The model the client asked for, as it named it (an alias, a suffixed name). */
  clientModel?: string;
  /** The real model the gateway used. */
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
  /** Every upstream attempt, in order, with why it ended (absent when none was made). */
  tries?: AttemptRecord[];
  /** Live API sessions only (`route: "live"`): how the session went. */
  live?: LiveSessionStats;
  /** The client's address (`lib/http/client_address.ts`). */
  source?: string;
  /** How the request ended; derived from `status` (and `refusal`) when absent. */
  outcome?: Outcome;
  /** Why the gateway itself refused the request (outcome `refused`). */
  refusal?: RefusalReason;
  /** How many requests this record stands for (refusals aggregated under a flood); 1 when absent. */
  count?: number;
}

/** The outcome of a record: its own, or the one its status implies. */
export function outcomeOf(rec: Pick<RequestRecord, "outcome" | "status" | "refusal">): Outcome {
  return rec.outcome ?? outcomeOfStatus(rec.status, rec.refusal);
}

/** One upstream attempt of a request. */
export interface AttemptRecord {
  /** Id of the key used. */
  keyId: string;
  /** Upstream HTTP status; 502 when the connection failed, 504 when it timed out. */
  status: number;
  /** Why the attempt ended: `served`, Google's message, or what failed. */
  reason: string;
  /** Time the attempt took, in ms. */
  ms: number;
}

/**
 * One Live API session's record. Its `latencyMs` is the time until the session was set up (what the
 * client waited for); `status` is 101 for a session Google set up, else the refusal's HTTP status.
 */
export interface LiveSessionStats {
  /** From the upgrade to the close (ms). */
  durationMs: number;
  /** Model turns completed (`serverContent.turnComplete`). */
  turns: number;
  /** The close code the client got (or sent). */
  closeCode: number;
  /** The close reason (keys redacted), when there was one. */
  closeReason?: string;
  /** Who closed: the client, Google, or the gateway (refusal, frame too big, shutdown). */
  closedBy: "client" | "upstream" | "gateway";
  /** Google announced the end of the session (`goAway`). */
  goAway?: boolean;
  /** The session resumed an earlier one with a resumption handle. */
  resumed?: boolean;
}

/** Receives finished requests. Must not block: implementations queue their work. */
export type RecordSink = (record: RequestRecord) => void;

/** The usage fields whose last value counts (`"name": 123`, as the regex `"name"\s*:\s*(\d+)` reads them). */
const COUNT_NAMES = {
  prompt: '"promptTokenCount"',
  candidates: '"candidatesTokenCount"',
  thoughts: '"thoughtsTokenCount"',
};
const SPACE = /\s/;

/** True for a character `\s` matches (JSON's whitespace first, without a regex). */
function isSpace(code: number): boolean {
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  return code > 127 && SPACE.test(String.fromCharCode(code));
}

/**
 * The number after the last `name` followed by `:` and digits (whitespace allowed around the colon),
 * found from the end: usage sits in the last event, so this reads a few characters, not the tail.
 */
function lastCount(tail: string, name: string): number | undefined {
  for (let at = tail.length; at >= 0;) {
    const i = tail.lastIndexOf(name, at);
    if (i < 0) return undefined;
    let j = i + name.length;
    while (isSpace(tail.charCodeAt(j))) j++;
    if (tail.charCodeAt(j) === 58) { // ':'
      j++;
      while (isSpace(tail.charCodeAt(j))) j++;
      const start = j;
      for (let c = tail.charCodeAt(j); c >= 48 && c <= 57; c = tail.charCodeAt(++j));
      if (j > start) return Number(tail.slice(start, j));
    }
    at = i - 1;
  }
  return undefined;
}

/** Token counts read from the tail of a Gemini response (usage is cumulative; the last one wins). */
export function usageFromTail(tail: string): { inputTokens?: number; outputTokens?: number } {
  const prompt = lastCount(tail, COUNT_NAMES.prompt);
  const cand = lastCount(tail, COUNT_NAMES.candidates);
  if (prompt === undefined && cand === undefined) return {};
  return { inputTokens: prompt, outputTokens: (cand ?? 0) + (lastCount(tail, COUNT_NAMES.thoughts) ?? 0) };
}

const TAIL_BYTES = 2048;
/** One decoder for whole texts (no `stream` option, so it keeps no state between calls). */
const UTF8 = new TextDecoder();

/**
 * The last bytes of an answer (usage sits in the last event), kept in one fixed 2 KiB buffer per
 * answer: chunks are copied in, never retained.
 */
export class UsageTail {
  readonly #buf = new Uint8Array(TAIL_BYTES);
  /** Next write position. */
  #pos = 0;
  #full = false;

  /** Copies the end of `chunk` into the tail. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n < TAIL_BYTES - this.#pos) {
      // The common case (a small chunk that fits before the end): one copy, no views.
      this.#buf.set(chunk, this.#pos);
      this.#pos += n;
      return;
    }
    if (n >= TAIL_BYTES) {
      this.#buf.set(chunk.subarray(n - TAIL_BYTES));
      this.#pos = 0;
      this.#full = true;
      return;
    }
    const first = Math.min(n, TAIL_BYTES - this.#pos);
    this.#buf.set(chunk.subarray(0, first), this.#pos);
    if (first < n) {
      this.#buf.set(chunk.subarray(first), 0);
      this.#full = true;
    }
    this.#pos = (this.#pos + n) % TAIL_BYTES;
    if (this.#pos === 0 && n > 0) this.#full = true;
  }

  /** The tail's bytes, oldest first. */
  bytes(): Uint8Array {
    if (!this.#full) return this.#buf.slice(0, this.#pos);
    const out = new Uint8Array(TAIL_BYTES);
    out.set(this.#buf.subarray(this.#pos));
    out.set(this.#buf.subarray(0, this.#pos), TAIL_BYTES - this.#pos);
    return out;
  }

  /** The tail as text (a character cut at its start is replaced, which usage parsing ignores). */
  text(): string {
    return UTF8.decode(this.bytes());
  }

  /** True when the bytes so far end an SSE event (a blank line), so another event may follow cleanly. */
  atEventBoundary(): boolean {
    return /(?:\r\n\r\n|\n\n|\r\r)$/.test(this.text().slice(-4));
  }
}
