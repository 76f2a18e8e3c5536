/**
 * OpenAI `POST /audio/speech` through the pipeline: maps the request with the TTS feature module, calls
 * Gemini's `:generateContent` and encodes the returned PCM as WAV or raw PCM.
 *
 * @module
 */
import { encodeSpeechAudio } from "../features/audio_encode.ts";
import type { FeatureSettings } from "../features/settings.ts";
import { mapSpeechRequest, speechAudioFromResponse } from "../features/tts.ts";
import { type GeminiCaller, readJson } from "../pipeline/gemini_client.ts";

/** Speech bytes and their content type. */
export interface SpeechResult {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/** Validates an OpenAI speech request, calls the Gemini TTS model and encodes the audio. */
export async function createSpeech(
  raw: unknown,
  gemini: GeminiCaller,
  settings: FeatureSettings,
): Promise<SpeechResult> {
  const mapped = mapSpeechRequest(raw, { settings, resolve: (model) => gemini.resolve(model).model });
  const res = await gemini.call({ method: "generateContent", model: mapped.model, body: mapped.body });
  const audio = speechAudioFromResponse(await readJson<unknown>(res));
  const out = encodeSpeechAudio({ audio: audio.data, mimeType: audio.mimeType, format: mapped.format });
  return { bytes: new Uint8Array(out.bytes), contentType: out.contentType };
}
