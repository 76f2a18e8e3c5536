/**
 * Tool-call ids that carry Gemini state through OpenAI clients which drop unknown fields.
 *
 * Format: `call_<12 alnum>` (Anthropic's edge: `toolu_<12 alnum>`) optionally followed by `_` and a URL-safe
 * base64 payload (`[A-Za-z0-9_-]`), so the id also fits Anthropic's `^[a-zA-Z0-9_-]+$`.
 * Payload bytes: `[flags][idLen hi][idLen lo][gemini id utf8][signature]` where flags bit0 = Gemini's own
 * function-call id present, bit1 = thought signature present, bit2 = signature kept as UTF-8 text
 * (it was not valid base64). Signatures are stored as raw bytes so ids stay as short as possible.
 * Ids not in this format (other vendors, hand-written history) decode to `{}`: nothing from them is sent upstream.
 *
 * @module
 */
import { base64ToBytes, bytesToBase64, bytesToBase64Url } from "../util/base64.ts";

/** State carried inside a tool-call id. */
export interface ToolCallState {
  /** Gemini's own `functionCall.id` (Gemini 3), echoed back upstream. */
  geminiId?: string;
  /** Gemini's `thoughtSignature` for the call (standard base64). */
  signature?: string;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const PREFIX_RE = /^(?:call|toolu)_[A-Za-z0-9]{12}(?:_([A-Za-z0-9_-]+))?$/;

/** The id prefixes: OpenAI's `call_` (Chat Completions, Responses) and Anthropic's `toolu_`. */
export type ToolIdPrefix = "call" | "toolu";

/** Random alphanumeric string of `n` characters. */
export function randomAlnum(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join("");
}

function signatureBytes(sig: string): { bytes: Uint8Array; text: boolean } {
  try {
    const bytes = base64ToBytes(sig);
    if (bytesToBase64(bytes) === sig) return { bytes, text: false };
  } catch {
    // not base64: keep as text
  }
  return { bytes: new TextEncoder().encode(sig), text: true };
}

/** Builds a tool-call id that embeds `state` (a plain `call_…` id when there is nothing to carry). */
export function encodeToolCallId(state: ToolCallState, prefix: ToolIdPrefix = "call"): string {
  const base = `${prefix}_${randomAlnum(12)}`;
  if (!state.geminiId && !state.signature) return base;
  const id = new TextEncoder().encode(state.geminiId ?? "");
  const sig = state.signature ? signatureBytes(state.signature) : { bytes: new Uint8Array(0), text: false };
  const flags = (state.geminiId ? 1 : 0) | (state.signature ? 2 : 0) | (sig.text ? 4 : 0);
  const len = Math.min(id.length, 0xffff);
  const payload = new Uint8Array(3 + len + sig.bytes.length);
  payload.set([flags, len >> 8, len & 0xff]);
  payload.set(id.subarray(0, len), 3);
  payload.set(sig.bytes, 3 + len);
  return `${base}_${bytesToBase64Url(payload)}`;
}

/** Recovers the state from an id made by {@link encodeToolCallId}; `{}` for any other id. */
export function decodeToolCallId(toolCallId: string): ToolCallState {
  const m = PREFIX_RE.exec(toolCallId);
  if (!m?.[1]) return {};
  try {
    const p = base64ToBytes(m[1]);
    if (p.length < 3) return {};
    const flags = p[0];
    const len = (p[1] << 8) | p[2];
    if (3 + len > p.length) return {};
    const state: ToolCallState = {};
    if (flags & 1) state.geminiId = new TextDecoder().decode(p.subarray(3, 3 + len));
    if (flags & 2) {
      const rest = p.subarray(3 + len);
      state.signature = flags & 4 ? new TextDecoder().decode(rest) : bytesToBase64(rest);
    }
    return state;
  } catch {
    return {};
  }
}
