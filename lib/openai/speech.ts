/**
 * OpenAI `POST /audio/speech` through the pipeline: maps the request with the TTS feature module, calls
 * Gemini's `:generateContent` and encodes the returned PCM as WAV or raw PCM.
 *
 * @module
 */
import { encodeSpeechAudio } from "../features/audio_encode.ts";
import type { FeatureSettings } from "../features/settings.ts";
import { mapSpeechRequest, speechAudioFromResponse } from "../features/tts.ts";
import { type CallContext, forwardJson, readJson } from "./upstream.ts";

/** Speech bytes and their content type. */
export interface SpeechResult {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/** Validates an OpenAI speech request, calls the Gemini TTS model and encodes the audio. */
export async function createSpeech(
  raw: unknown,
  ctx: CallContext,
  settings: FeatureSettings,
): Promise<SpeechResult> {
  const mapped = mapSpeechRequest(raw, settings);
  const res = await forwardJson(ctx, {
    path: `/v1beta/models/${mapped.model}:generateContent`,
    body: mapped.body,
    model: mapped.model,
  });
  const audio = speechAudioFromResponse(await readJson<unknown>(res));
  const out = encodeSpeechAudio({ audio: audio.data, mimeType: audio.mimeType, format: mapped.format });
  return { bytes: new Uint8Array(out.bytes), contentType: out.contentType };
}
