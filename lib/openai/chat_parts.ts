/**
 * OpenAI content parts -> Gemini parts: text, images (data URLs inline; http(s) URLs fetched by the
 * gateway from public addresses only, with a size limit and timeout), input_audio, and files (inline
 * data or Gemini Files-API ids).
 *
 * @module
 */
import { badRequest } from "../http/errors.ts";
import { bytesToBase64 } from "../util/base64.ts";
import { isPublicAddress } from "../net/ip.ts";
import { fetchPublic, FetchRefused, type Resolve } from "../net/public_fetch.ts";
import type { GeminiBlob, GeminiPart } from "../gemini/types.ts";
import type { ContentPart } from "./schemas.ts";

/** Fetched media as Gemini inline data (`mimeType`, base64 `data`). */
export type InlineMedia = GeminiBlob;

/** Limits for fetching remote images. */
export interface FetchImageOptions {
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Allow loopback/private/link-local and other non-public addresses (off by default: SSRF targets). */
  allowPrivateHosts?: boolean;
}

/** Downloads an image URL into inline data; injectable so tests need no network. */
export type FetchImage = (url: string, options: FetchImageOptions) => Promise<InlineMedia>;

/** Options for content-part mapping. */
export interface PartMapOptions {
  fetchImage?: FetchImage;
  /** Max bytes of one fetched image (default 20 MiB). */
  maxImageBytes?: number;
  /** Timeout for one image fetch in ms (default 15 s). */
  imageTimeoutMs?: number;
  /** Let image URLs point at loopback/private addresses (default false). */
  allowPrivateImageHosts?: boolean;
  signal?: AbortSignal;
}

/** The image is over the size limit (the one download failure whose reason the client is told). */
class ImageTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the image is larger than ${maxBytes} bytes`);
  }
}

/** Options for {@link createImageFetcher}. */
export interface ImageFetcherOptions {
  /** Host name resolver (default: the system's); tests map names to addresses here. */
  resolve?: Resolve;
  /**
   * Addresses that may be downloaded from when `allowPrivateHosts` is off (default: public ones,
   * {@link isPublicAddress}); with it on, any address.
   */
  allowAddress?: (address: string) => boolean;
}

/**
 * A {@link FetchImage} that downloads only from allowed addresses: each hop (redirects too) is
 * resolved, checked and connected to at the checked address (`lib/net/public_fetch.ts`); the body is
 * streamed with a cap of `maxBytes` and a timeout.
 */
export function createImageFetcher(f: ImageFetcherOptions = {}): FetchImage {
  return async (url, o) => {
    const timeout = AbortSignal.timeout(o.timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    const res = await fetchPublic(url, {
      resolve: f.resolve,
      allowAddress: o.allowPrivateHosts ? () => true : f.allowAddress ?? isPublicAddress,
      signal,
      headers: { accept: "image/*,application/pdf,*/*;q=0.5", "user-agent": "gemini-gateway" },
    });
    const { maxBytes } = o;
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new FetchRefused(`the server answered HTTP ${res.status}`);
    }
    if (Number(res.headers.get("content-length") ?? 0) > maxBytes) {
      await res.body.cancel();
      throw new ImageTooLarge(maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.length;
      if (size > maxBytes) throw new ImageTooLarge(maxBytes);
      chunks.push(chunk);
    }
    const bytes = new Uint8Array(size);
    let off = 0;
    for (const c of chunks) (bytes.set(c, off), off += c.length);
    const declared = (res.headers.get("content-type") ?? "").split(";")[0].trim();
    const mimeType = (declared && declared !== "application/octet-stream" ? declared : undefined) ??
      mimeFromName(url) ?? "image/jpeg";
    return { mimeType, data: bytesToBase64(bytes) };
  };
}

/** Default {@link FetchImage}: {@link createImageFetcher} with the system resolver. */
export const defaultFetchImage: FetchImage = createImageFetcher();

const EXT_MIME: Record<string, string> = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  heic: "image/heic",
  txt: "text/plain",
  md: "text/markdown",
  html: "text/html",
  csv: "text/csv",
  json: "application/json",
  mp3: "audio/mp3",
  wav: "audio/wav",
  ogg: "audio/ogg",
  flac: "audio/flac",
  mp4: "video/mp4",
  webm: "video/webm",
};

/** MIME type guessed from a file name or URL extension, or undefined. */
export function mimeFromName(name: string): string | undefined {
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(name)?.[1]?.toLowerCase();
  return ext ? EXT_MIME[ext] : undefined;
}

/** Splits `data:<mime>;base64,<data>` into inline data, or returns null. */
export function parseDataUrl(url: string): InlineMedia | null {
  const m = /^data:([^;,]+)?((?:;[^;,]*)*?);base64,(.*)$/s.exec(url);
  return m ? { mimeType: m[1] || "application/octet-stream", data: m[3] } : null;
}

const FILE_URI_RE = /^https:\/\/generativelanguage\.googleapis\.com\/[^/]+\/files\/[\w-]+$/;

async function imagePart(url: string, param: string, o: PartMapOptions): Promise<GeminiPart> {
  const inline = parseDataUrl(url);
  if (inline) return { inlineData: inline };
  if (!/^https?:\/\//i.test(url)) {
    throw badRequest(param, `Unsupported image URL at '${param}': use an http(s) URL or a base64 data URL.`);
  }
  const fetchImage = o.fetchImage ?? defaultFetchImage;
  try {
    const media = await fetchImage(url, {
      maxBytes: o.maxImageBytes ?? 20 * 1024 * 1024,
      timeoutMs: o.imageTimeoutMs ?? 15_000,
      signal: o.signal,
      allowPrivateHosts: o.allowPrivateImageHosts,
    });
    return { inlineData: media };
  } catch (err) {
    // One neutral message for every download failure (refused address, DNS, network, HTTP status):
    // the answer must not tell which internal hosts or ports exist. Only the size limit is named.
    const why = err instanceof ImageTooLarge
      ? `${err.message}; send a smaller image or`
      : "image URLs must be public http(s) addresses that answer with the image; or";
    throw badRequest(
      param,
      `Could not download the image at '${param}': ${why} send it as a data URL instead.`,
      { code: "invalid_image_url", cause: err },
    );
  }
}

function filePart(
  file: { file_data?: string | null; file_id?: string | null; filename?: string | null },
  param: string,
): GeminiPart {
  if (file.file_data) {
    const inline = parseDataUrl(file.file_data);
    if (inline) return { inlineData: inline };
    const mimeType = file.filename ? mimeFromName(file.filename) : undefined;
    if (!mimeType) {
      throw badRequest(
        `${param}.file_data`,
        `Cannot tell the MIME type of '${param}.file_data': send a data URL (data:<mime>;base64,...) or a filename with a known extension.`,
      );
    }
    return { inlineData: { mimeType, data: file.file_data } };
  }
  const id = file.file_id ?? "";
  if (/^files\/[\w-]+$/.test(id)) {
    return { fileData: { fileUri: `https://generativelanguage.googleapis.com/v1beta/${id}` } };
  }
  if (FILE_URI_RE.test(id)) return { fileData: { fileUri: id } };
  throw badRequest(
    `${param}.file_id`,
    `Unsupported file at '${param}': give file_data, or a file_id that is a Gemini Files-API name ("files/abc") or URI.`,
  );
}

/** Maps one OpenAI content part to a Gemini part. */
export function mapContentPart(
  part: ContentPart,
  param: string,
  o: PartMapOptions,
): Promise<GeminiPart> | GeminiPart {
  switch (part.type) {
    case "text":
      return { text: part.text };
    case "refusal":
      return { text: part.refusal };
    case "image_url":
      return imagePart(typeof part.image_url === "string" ? part.image_url : part.image_url.url, param, o);
    case "input_audio": {
      const fmt = part.input_audio.format.toLowerCase();
      return {
        inlineData: { mimeType: `audio/${fmt === "mp3" ? "mp3" : fmt}`, data: part.input_audio.data },
      };
    }
    case "file":
      return filePart(part.file, param);
  }
}

/**
 * Maps message content (string or parts) to Gemini parts. Empty texts produce no part: Gemini refuses
 * `{"text": ""}` ("empty text parameter"), and clients send them next to images.
 */
export async function mapContent(
  content: string | ContentPart[] | null | undefined,
  param: string,
  o: PartMapOptions,
): Promise<GeminiPart[]> {
  if (content == null) return [];
  if (typeof content === "string") return content ? [{ text: content }] : [];
  const parts = await Promise.all(content.map((p, i) => mapContentPart(p, `${param}[${i}]`, o)));
  return parts.filter((p) => p.text !== "");
}

/** Joins the text of string-or-parts content (for system and tool messages). */
export function contentText(content: string | ContentPart[] | null | undefined): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content.map((p) => (p.type === "text" ? p.text : p.type === "refusal" ? p.refusal : "")).join("");
}
