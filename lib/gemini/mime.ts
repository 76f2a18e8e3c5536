/**
 * MIME types of inline data as Gemini accepts them. Clients write `image/jpg` (Gemini refuses it: the
 * type is `image/jpeg`), `application/octet-stream` or nothing at all; this maps known aliases to
 * Gemini's names and tells vague or missing types from the bytes' magic numbers.
 *
 * Sources: https://ai.google.dev/gemini-api/docs/image-understanding#supported-formats,
 * https://ai.google.dev/gemini-api/docs/audio#supported-formats,
 * https://ai.google.dev/gemini-api/docs/document-processing and
 * https://ai.google.dev/gemini-api/docs/video-understanding#supported-formats
 *
 * @module
 */

/** Names clients use -> the name Gemini accepts. */
const ALIASES: Readonly<Record<string, string>> = {
  "image/jpg": "image/jpeg",
  "image/pjpeg": "image/jpeg",
  "image/x-png": "image/png",
  "image/x-webp": "image/webp",
  "audio/x-wav": "audio/wav",
  "audio/wave": "audio/wav",
  "audio/vnd.wave": "audio/wav",
  "audio/x-flac": "audio/flac",
  "audio/x-aiff": "audio/aiff",
  "audio/mpeg3": "audio/mp3",
  "audio/x-mp3": "audio/mp3",
  "application/x-pdf": "application/pdf",
};

/** Types that say nothing about the bytes: sniffed instead. */
const VAGUE = new Set(["", "application/octet-stream", "binary/octet-stream", "application/unknown"]);

/** Magic numbers: bytes at `at` (default 0), and what they mean. */
const MAGIC: ReadonlyArray<
  { bytes: readonly number[]; at?: number; type: string; also?: { at: number; bytes: readonly number[] } }
> = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], type: "image/png" },
  { bytes: [0xff, 0xd8, 0xff], type: "image/jpeg" },
  { bytes: [0x47, 0x49, 0x46, 0x38], type: "image/gif" },
  { bytes: [0x52, 0x49, 0x46, 0x46], type: "image/webp", also: { at: 8, bytes: [0x57, 0x45, 0x42, 0x50] } },
  { bytes: [0x52, 0x49, 0x46, 0x46], type: "audio/wav", also: { at: 8, bytes: [0x57, 0x41, 0x56, 0x45] } },
  { bytes: [0x25, 0x50, 0x44, 0x46], type: "application/pdf" },
  { bytes: [0x49, 0x44, 0x33], type: "audio/mp3" },
  { bytes: [0xff, 0xfb], type: "audio/mp3" },
  { bytes: [0xff, 0xf3], type: "audio/mp3" },
  { bytes: [0xff, 0xf2], type: "audio/mp3" },
  { bytes: [0x4f, 0x67, 0x67, 0x53], type: "audio/ogg" },
  { bytes: [0x66, 0x4c, 0x61, 0x43], type: "audio/flac" },
  { bytes: [0x46, 0x4f, 0x52, 0x4d], type: "audio/aiff" },
  { bytes: [0x1a, 0x45, 0xdf, 0xa3], type: "video/webm" },
  { bytes: [0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x63], at: 4, type: "image/heic" },
  { bytes: [0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x66], at: 4, type: "image/heif" },
  { bytes: [0x66, 0x74, 0x79, 0x70, 0x4d, 0x34, 0x41], at: 4, type: "audio/aac" },
  { bytes: [0x66, 0x74, 0x79, 0x70, 0x71, 0x74], at: 4, type: "video/quicktime" },
  { bytes: [0x66, 0x74, 0x79, 0x70], at: 4, type: "video/mp4" },
];

/** The first bytes of base64 `data` (invalid base64 gives none). */
function head(data: string, n = 16): Uint8Array {
  const chars = data.slice(0, Math.ceil(n / 3) * 4).replace(/[-_]/g, (c) => (c === "-" ? "+" : "/"));
  try {
    return Uint8Array.from(atob(chars.padEnd(Math.ceil(chars.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}

const startsWith = (b: Uint8Array, at: number, bytes: readonly number[]) =>
  bytes.every((v, i) => b[at + i] === v);

/** The type the bytes of base64 `data` announce, or undefined. */
export function sniffMimeType(data: string): string | undefined {
  const b = head(data);
  return MAGIC.find((m) =>
    startsWith(b, m.at ?? 0, m.bytes) && (!m.also || startsWith(b, m.also.at, m.also.bytes))
  )
    ?.type;
}

/**
 * The MIME type to send Gemini for inline data: the declared type in lower case with its aliases
 * resolved (parameters such as `;rate=24000` kept), or, when it is missing or vague (`application/octet-stream`), the type the bytes
 * announce (else the declared type as it was).
 */
export function geminiMimeType(declared: string | undefined, data: string): string {
  const [first, ...params] = (declared ?? "").split(";");
  const type = first.trim().toLowerCase();
  if (VAGUE.has(type)) return sniffMimeType(data) ?? (declared || "application/octet-stream");
  return [ALIASES[type] ?? type, ...params].join(";");
}
