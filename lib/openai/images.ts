/**
 * POST /v1/images/generations. Imagen models -> `:predict` (one call, `sampleCount = n`); Gemini image
 * models -> `:generateContent` with `responseModalities ["TEXT","IMAGE"]` (n sequential calls).
 * Images are always returned as base64: `b64_json` by default, and for `response_format: "url"` as a
 * `data:` URL in `url` (the gateway hosts no files).
 *
 * @module
 */
import { badRequest } from "../http/errors.ts";
import type { GeminiGenerateContentResponse } from "../gemini/types.ts";
import { modelFamily } from "../gemini/model_families.ts";
import type { ImagesRequest } from "./schemas.ts";
import { type GeminiCaller, readJson } from "../pipeline/gemini_client.ts";

/** Options for {@link generateImages}. */
export interface ImagesOptions {
  /** Model used when the request names none (default `gemini-2.5-flash-image`). */
  defaultModel?: string;
}

/** Aspect ratios each backend accepts. */
export const ASPECT_RATIOS = {
  imagen: ["1:1", "3:4", "4:3", "9:16", "16:9"],
  gemini: ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"],
} as const;

/** The supported aspect ratio closest to `size` ("WxH"); undefined for "auto"/missing. */
export function aspectRatioFor(
  size: string | null | undefined,
  allowed: readonly string[],
): string | undefined {
  const m = /^(\d+)x(\d+)$/.exec(size ?? "");
  if (!m) {
    if (!size || size === "auto") return undefined;
    throw badRequest("size", `Invalid size '${size}': use "WIDTHxHEIGHT" like "1024x1024", or "auto".`, {
      code: "invalid_value",
    });
  }
  const target = Math.log(Number(m[1]) / Number(m[2]));
  const ratio = (r: string) => {
    const [w, h] = r.split(":").map(Number);
    return Math.log(w / h);
  };
  return [...allowed].sort((a, b) => Math.abs(ratio(a) - target) - Math.abs(ratio(b) - target))[0];
}

interface ImageOut {
  mimeType: string;
  data: string;
}

async function imagen(req: ImagesRequest, model: string, gemini: GeminiCaller): Promise<ImageOut[]> {
  const aspectRatio = aspectRatioFor(req.size, ASPECT_RATIOS.imagen);
  const body = {
    instances: [{ prompt: req.prompt }],
    parameters: { sampleCount: req.n ?? 1, ...(aspectRatio ? { aspectRatio } : {}) },
  };
  const res = await gemini.call({ method: "predict", model, body });
  const json = await readJson<{ predictions?: Array<{ bytesBase64Encoded?: string; mimeType?: string }> }>(
    res,
  );
  return (json.predictions ?? []).flatMap((p) =>
    p.bytesBase64Encoded ? [{ mimeType: p.mimeType ?? "image/png", data: p.bytesBase64Encoded }] : []
  );
}

async function geminiImages(req: ImagesRequest, model: string, gemini: GeminiCaller): Promise<ImageOut[]> {
  const aspectRatio = aspectRatioFor(req.size, ASPECT_RATIOS.gemini);
  const body = {
    contents: [{ role: "user", parts: [{ text: req.prompt }] }],
    generationConfig: {
      responseModalities: ["TEXT", "IMAGE"],
      ...(aspectRatio ? { imageConfig: { aspectRatio } } : {}),
    },
  };
  const out: ImageOut[] = [];
  for (let i = 0; i < (req.n ?? 1); i++) {
    const res = await gemini.call({ method: "generateContent", model, body });
    const json = await readJson<GeminiGenerateContentResponse>(res);
    for (const part of json.candidates?.[0]?.content?.parts ?? []) {
      if (part.inlineData && !part.thought) out.push(part.inlineData);
    }
  }
  return out;
}

/** Generates images for a validated request; returns OpenAI's images response. */
export async function generateImages(req: ImagesRequest, gemini: GeminiCaller, o: ImagesOptions = {}) {
  const model = req.model || o.defaultModel || "gemini-2.5-flash-image";
  const images = modelFamily(gemini.resolve(model).model).kind === "imagen"
    ? await imagen(req, model, gemini)
    : await geminiImages(req, model, gemini);
  if (!images.length) {
    throw badRequest(
      undefined,
      "The model returned no image (the prompt may have been filtered); rephrase the prompt.",
      { code: "content_policy_violation" },
    );
  }
  const asUrl = req.response_format === "url";
  return {
    created: Math.floor(Date.now() / 1000),
    data: images.map((img) =>
      asUrl ? { url: `data:${img.mimeType};base64,${img.data}` } : { b64_json: img.data }
    ),
  };
}
