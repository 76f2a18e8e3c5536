/**
 * The Live API's messages, as far as the gateway reads them. Each WebSocket message is one JSON object
 * with one top-level field (client: `setup`, `clientContent`, `realtimeInput`, `toolResponse`; server:
 * `setupComplete`, `serverContent`, `toolCall`, `toolCallCancellation`, `goAway`,
 * `sessionResumptionUpdate`, `usageMetadata`, the last often next to `serverContent`). Google sends its
 * messages as binary frames holding UTF-8 JSON; clients send text frames (SDKs) or binary ones. The
 * gateway relays frames untouched and reads only what it needs: the setup's model and resumption handle,
 * and from server messages `setupComplete`, `goAway`, new resumption handles, turn ends and token usage.
 * Audio and video frames are large; they are screened by their first and last bytes (where the top-level
 * fields are) and parsed only when one of those fields is there.
 *
 * Sources: https://ai.google.dev/api/live (BidiGenerateContentClientMessage / ServerMessage),
 * @google/genai `LiveClientMessage`, `LiveServerMessage`, `UsageMetadata`.
 *
 * @module
 */
import { bareModel } from "../gemini/model_id.ts";

/** One WebSocket message as the WebSocket API delivers it (`binaryType = "arraybuffer"`). */
export type Frame = string | ArrayBuffer;

/** `BidiGenerateContentSetup`, the fields the gateway reads. */
export interface LiveSetup {
  /** `models/{model}`. */
  model?: string;
  sessionResumption?: { handle?: string; transparent?: boolean };
}

/** `UsageMetadata` of a Live turn (counts are per turn, not cumulative). */
export interface LiveUsage {
  promptTokenCount?: number;
  responseTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
}

/** `BidiGenerateContentServerMessage`, the fields the gateway reads. */
export interface LiveServerMessage {
  setupComplete?: { sessionId?: string };
  serverContent?: { turnComplete?: boolean };
  /** `timeLeft` is a protobuf Duration, e.g. `"10s"`. */
  goAway?: { timeLeft?: string };
  sessionResumptionUpdate?: { newHandle?: string; resumable?: boolean };
  usageMetadata?: LiveUsage;
}

/** What a setup message says. */
export interface SetupFacts {
  /** Bare model id (`gemini-live-2.5-flash-preview`), or undefined when the setup names none. */
  model?: string;
  /** The session resumption handle the client wants to resume, if any. */
  handle?: string;
}

const decoder = new TextDecoder();

/**
 * Size of a frame in bytes as it travelled: a binary frame's length, a text frame's UTF-8 length
 * (counted from its UTF-16 code units without encoding it: 1 byte below U+0080, 2 below U+0800, 4 for
 * a surrogate pair, else 3).
 */
export function frameBytes(frame: Frame): number {
  return typeof frame === "string" ? utf8Length(frame) : frame.byteLength;
}

/** UTF-8 length of a string (a lone surrogate counts 3 bytes, as U+FFFD replaces it). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
      continue;
    }
    bytes += 2;
    const next = text.charCodeAt(i + 1);
    // A surrogate pair: two units, four bytes.
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return bytes;
}

function frameText(frame: Frame): string {
  return typeof frame === "string" ? frame : decoder.decode(frame);
}

/**
 * Reads the client's first message. Google's docs name it `setup`; the newest raw-WebSocket guide shows
 * `config`, so both are read.
 *
 * @returns the setup's facts, or an error sentence when the frame is not a setup message.
 */
export function readSetup(frame: Frame): SetupFacts | { error: string } {
  let msg: unknown;
  try {
    msg = JSON.parse(frameText(frame));
  } catch {
    return { error: "The first message is not JSON." };
  }
  const obj = typeof msg === "object" && msg !== null ? msg as Record<string, unknown> : {};
  const setup = (obj.setup ?? obj.config) as LiveSetup | undefined;
  if (typeof setup !== "object" || setup === null) {
    return { error: 'The first message must be the setup: {"setup": {"model": "models/<model>", ...}}.' };
  }
  const model = typeof setup.model === "string" && setup.model ? bareModel(setup.model) : undefined;
  const handle = setup.sessionResumption?.handle;
  return { model, handle: typeof handle === "string" && handle ? handle : undefined };
}

/** What one server message means to the gateway (all absent for most audio frames). */
export interface ServerFacts {
  setupComplete?: true;
  turnComplete?: true;
  /** `goAway.timeLeft`, e.g. `"10s"` (empty when Google named none). */
  goAway?: string;
  /** A new session resumption handle. */
  newHandle?: string;
  usage?: LiveUsage;
}

/** The top-level fields the gateway reads; any other message passes unread. */
const FIELDS = /"(?:setupComplete|turnComplete|goAway|sessionResumptionUpdate|usageMetadata)"/;
/** Frames up to this size are screened whole; larger ones by their head and tail. */
const WHOLE_BYTES = 16 * 1024;
const HEAD_BYTES = 64;
const TAIL_BYTES = 4 * 1024;

function screen(frame: Frame): boolean {
  const size = frameBytes(frame);
  if (size <= WHOLE_BYTES) return FIELDS.test(frameText(frame));
  if (typeof frame === "string") {
    return FIELDS.test(frame.slice(0, HEAD_BYTES)) || FIELDS.test(frame.slice(-TAIL_BYTES));
  }
  const bytes = new Uint8Array(frame);
  return FIELDS.test(decoder.decode(bytes.subarray(0, HEAD_BYTES))) ||
    FIELDS.test(decoder.decode(bytes.subarray(size - TAIL_BYTES)));
}

/** Reads the facts of a server message; undefined when it holds none (or is not JSON). */
export function inspectServerFrame(frame: Frame): ServerFacts | undefined {
  if (!screen(frame)) return undefined;
  let msg: LiveServerMessage;
  try {
    msg = JSON.parse(frameText(frame));
  } catch {
    return undefined;
  }
  if (typeof msg !== "object" || msg === null) return undefined;
  const facts: ServerFacts = {};
  if (msg.setupComplete) facts.setupComplete = true;
  if (msg.serverContent?.turnComplete === true) facts.turnComplete = true;
  if (msg.goAway) facts.goAway = String(msg.goAway.timeLeft ?? "");
  const handle = msg.sessionResumptionUpdate?.newHandle;
  if (typeof handle === "string" && handle) facts.newHandle = handle;
  if (msg.usageMetadata && typeof msg.usageMetadata === "object") facts.usage = msg.usageMetadata;
  return facts;
}

/** A turn's tokens in the gateway's terms: input = prompt + tool-use prompt, output = response + thoughts. */
export function usageTokens(u: LiveUsage): { inputTokens: number; outputTokens: number } {
  const n = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : 0;
  return {
    inputTokens: n(u.promptTokenCount) + n(u.toolUsePromptTokenCount),
    outputTokens: n(u.responseTokenCount) + n(u.thoughtsTokenCount),
  };
}

const encoder = new TextEncoder();

/**
 * A `goAway` server message (Google's shape, as a binary frame like Google's own messages): the session
 * ends in `timeLeftMs`.
 */
export function goAwayFrame(timeLeftMs: number): ArrayBuffer {
  const seconds = Math.max(0, Math.ceil(timeLeftMs / 1000));
  return encoder.encode(JSON.stringify({ goAway: { timeLeft: `${seconds}s` } })).buffer as ArrayBuffer;
}
