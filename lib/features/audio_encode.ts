/**
 * Converts Gemini TTS output (`audio/L16;codec=pcm;rate=24000`, base64, 16-bit little-endian mono PCM
 * in practice) into the format an OpenAI speech client asked for: `wav` (RIFF header added) or `pcm` (raw).
 *
 * @module
 */
import { badRequest } from "../http/errors.ts";

/** Output formats the gateway can produce. */
export const SPEECH_FORMATS = ["wav", "pcm"] as const;
/** One supported speech output format. */
export type SpeechFormat = typeof SPEECH_FORMATS[number];

/** PCM layout parsed from a mime type such as `audio/L16;codec=pcm;rate=24000`. */
export interface PcmFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

/** Reads rate/channels from an `audio/L16` (or `audio/pcm`) mime type; defaults 24000 Hz, mono, 16 bit. */
export function parsePcmMime(mimeType: string): PcmFormat {
  const params = new Map(
    mimeType.split(";").slice(1).map((p) => p.trim().split("=") as [string, string]).map(([k, v]) => [
      k.toLowerCase(),
      v,
    ]),
  );
  const num = (k: string, d: number) => {
    const n = Number(params.get(k));
    return Number.isInteger(n) && n > 0 ? n : d;
  };
  return { sampleRate: num("rate", 24000), channels: num("channels", 1), bitsPerSample: 16 };
}

/** Throws a 400 naming the supported formats unless `format` is one of them (`undefined` → `wav`). */
export function checkSpeechFormat(format: unknown): SpeechFormat {
  if (format === undefined || format === null) return "wav";
  if ((SPEECH_FORMATS as readonly unknown[]).includes(format)) return format as SpeechFormat;
  throw badRequest(
    "response_format",
    `response_format ${JSON.stringify(format)} is not supported by this gateway; use one of: ` +
      `${SPEECH_FORMATS.join(", ")} (Gemini returns raw PCM; wav adds a header).`,
    { code: "unsupported_value" },
  );
}

/** A complete 44-byte RIFF/WAVE header followed by the PCM samples. */
export function pcmToWav(pcm: Uint8Array, fmt: PcmFormat): Uint8Array {
  const out = new Uint8Array(44 + pcm.length);
  const v = new DataView(out.buffer);
  const ascii = (off: number, s: string) => [...s].forEach((c, i) => v.setUint8(off + i, c.charCodeAt(0)));
  const blockAlign = fmt.channels * fmt.bitsPerSample / 8;
  ascii(0, "RIFF");
  v.setUint32(4, 36 + pcm.length, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, fmt.channels, true);
  v.setUint32(24, fmt.sampleRate, true);
  v.setUint32(28, fmt.sampleRate * blockAlign, true); // byte rate
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, fmt.bitsPerSample, true);
  ascii(36, "data");
  v.setUint32(40, pcm.length, true);
  out.set(pcm, 44);
  return out;
}

/** Decodes standard base64 to bytes. */
export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64.replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Input of {@link encodeSpeechAudio}. */
export interface EncodeSpeechInput {
  /** Raw PCM bytes, or base64 strings (several chunks are concatenated in order). */
  audio: Uint8Array | string | string[];
  /** Upstream mime type, e.g. `audio/L16;codec=pcm;rate=24000`. */
  mimeType: string;
  /** Requested OpenAI `response_format` (`undefined` → wav). */
  format?: unknown;
}

/** Builds the HTTP body and content type for the requested speech format. Throws 400 for others. */
export function encodeSpeechAudio(input: EncodeSpeechInput): { bytes: Uint8Array; contentType: string } {
  const format = checkSpeechFormat(input.format);
  const chunks = typeof input.audio === "string"
    ? [base64ToBytes(input.audio)]
    : Array.isArray(input.audio)
    ? input.audio.map(base64ToBytes)
    : [input.audio];
  const pcm = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) pcm.set(c, (off += c.length) - c.length);
  const fmt = parsePcmMime(input.mimeType);
  if (format === "pcm") return { bytes: pcm, contentType: `audio/pcm;rate=${fmt.sampleRate}` };
  return { bytes: pcmToWav(pcm, fmt), contentType: "audio/wav" };
}
