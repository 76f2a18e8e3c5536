/**
 * OpenAI `POST /v1/audio/speech` on top of Gemini TTS: maps the OpenAI request (model, input, voice,
 * response_format, speed, instructions) to a Gemini generateContent body with `responseModalities
 * ["AUDIO"]` and a prebuilt voice, and pulls the audio back out of Gemini's answer.
 *
 * @module
 */
import { z } from "zod";
import { badRequest, GatewayError } from "../http/errors.ts";
import { checkSpeechFormat, type SpeechFormat } from "./audio_encode.ts";
import type { FeatureSettings } from "./settings.ts";
import { bareModel, matchesModelList } from "../gemini/model_id.ts";
import { modelFamily } from "../gemini/model_families.ts";

// deno-fmt-ignore
/** Gemini's prebuilt TTS voices (canonical casing). */
export const GEMINI_VOICES = [
  "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe",
  "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi",
  "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi",
  "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
] as const;

/** OpenAI voice name → Gemini prebuilt voice. */
export const OPENAI_VOICE_MAP: Readonly<Record<string, string>> = {
  alloy: "Kore",
  echo: "Puck",
  fable: "Charon",
  onyx: "Fenrir",
  nova: "Aoede",
  shimmer: "Leda",
  ash: "Orus",
  ballad: "Enceladus",
  coral: "Callirrhoe",
  sage: "Iapetus",
  verse: "Umbriel",
  marin: "Despina",
  cedar: "Algieba",
};

const speechRequestSchema = z.object({
  model: z.string().min(1, "model is required, e.g. tts-1 or gemini-2.5-flash-preview-tts"),
  input: z.string().min(1, "input is required: the text to speak").max(
    32_000,
    "input is too long: at most 32000 characters",
  ),
  voice: z.union([z.string().min(1), z.object({ id: z.string().min(1) })]).default("alloy"),
  response_format: z.string().optional(),
  speed: z.number().min(0.25).max(4).optional(),
  instructions: z.string().optional(),
});

/** A speech request mapped to Gemini. */
export interface MappedSpeechRequest {
  /** Gemini TTS model to call. */
  model: string;
  /** Gemini generateContent body. */
  body: Record<string, unknown>;
  /** Output format to encode with `encodeSpeechAudio`. */
  format: SpeechFormat;
  /** Remarks (e.g. speed ignored). */
  notes: string[];
}

/** Gemini voice for an OpenAI or Gemini voice name (case-insensitive); 400 with the valid names otherwise. */
export function resolveVoice(voice: string): string {
  const lower = voice.toLowerCase();
  const found = OPENAI_VOICE_MAP[lower] ?? GEMINI_VOICES.find((v) => v.toLowerCase() === lower);
  if (found) return found;
  throw badRequest(
    "voice",
    `Unknown voice ${JSON.stringify(voice)}. Use an OpenAI voice (${
      Object.keys(OPENAI_VOICE_MAP).join(", ")
    }) ` +
      `or a Gemini voice (${GEMINI_VOICES.join(", ")}).`,
    { code: "invalid_value" },
  );
}

/** OpenAI's speech models (exact names or `prefix*`) and the setting that names the Gemini TTS model behind each. */
const OPENAI_SPEECH_MODELS: ReadonlyArray<{ names: readonly string[]; setting: "ttsModel" | "ttsHdModel" }> =
  [
    { names: ["tts-1-hd"], setting: "ttsHdModel" },
    { names: ["tts-1", "gpt-4o-mini-tts*", "gpt-4o-tts*"], setting: "ttsModel" },
  ];

/** What the speech mapping reads besides the request. */
export interface SpeechModels {
  /** The Gemini TTS models behind OpenAI's speech model names. */
  settings: Pick<FeatureSettings, "ttsModel" | "ttsHdModel">;
  /** The real model of a client model name (aliases): the prepare step's resolver. Default: the name. */
  resolve?: (model: string) => string;
}

/**
 * Gemini TTS model for an OpenAI speech model name (`tts-1`, `tts-1-hd`, `gpt-4o-mini-tts`), or the
 * real model of any other name when the family table says it is a TTS model.
 *
 * @throws {GatewayError} 400 (`model`) for a model that cannot speak.
 */
export function resolveSpeechModel(model: string, o: SpeechModels): string {
  const m = bareModel(model);
  const openAI = OPENAI_SPEECH_MODELS.find((r) => matchesModelList(m, r.names));
  if (openAI) return o.settings[openAI.setting];
  const real = o.resolve?.(m) ?? m;
  if (modelFamily(real).kind === "tts") return real;
  throw badRequest(
    "model",
    `Model ${model} cannot speak. Use tts-1, tts-1-hd, gpt-4o-mini-tts or a Gemini TTS model such as ` +
      `${o.settings.ttsModel}.`,
    { code: "model_not_found" },
  );
}

/** Validates an OpenAI speech request body and maps it to a Gemini TTS generateContent request. */
export function mapSpeechRequest(raw: unknown, models: SpeechModels): MappedSpeechRequest {
  const parsed = speechRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue.path.join(".");
    throw badRequest(
      param || undefined,
      `Invalid speech request: ${param ? param + ": " : ""}${issue.message}`,
    );
  }
  const req = parsed.data;
  const notes: string[] = [];
  const format = checkSpeechFormat(req.response_format);
  const voiceName = resolveVoice(typeof req.voice === "string" ? req.voice : req.voice.id);
  if (req.speed !== undefined && req.speed !== 1) {
    notes.push("speed has no Gemini equivalent; it was ignored (describe the pace in instructions instead).");
  }
  const text = req.instructions?.trim() ? `${req.instructions.trim()}:\n${req.input}` : req.input;
  return {
    model: resolveSpeechModel(req.model, models),
    format,
    notes,
    body: {
      contents: [{ role: "user", parts: [{ text }] }],
      generationConfig: {
        responseModalities: ["AUDIO"],
        speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName } } },
      },
    },
  };
}

/** Audio extracted from a Gemini generateContent answer. */
export interface SpeechAudio {
  /** Base64 chunks in order. */
  data: string[];
  mimeType: string;
}

/** Collects the `inlineData` audio parts of a Gemini response; 502 when there is no audio. */
export function speechAudioFromResponse(response: unknown): SpeechAudio {
  const out: SpeechAudio = { data: [], mimeType: "audio/L16;codec=pcm;rate=24000" };
  const r = response as { candidates?: Array<{ content?: { parts?: unknown[] }; finishReason?: string }> };
  for (const part of r?.candidates?.[0]?.content?.parts ?? []) {
    const inline = (part as { inlineData?: { mimeType?: string; data?: string } })?.inlineData;
    if (inline?.data && /^audio\/(l16|pcm)/i.test(inline.mimeType ?? "audio/l16")) {
      out.data.push(inline.data);
      if (inline.mimeType) out.mimeType = inline.mimeType;
    }
  }
  if (!out.data.length) {
    const reason = r?.candidates?.[0]?.finishReason ?? "no candidates";
    throw new GatewayError(
      502,
      `Gemini returned no PCM audio (finishReason: ${reason}). Try other text or voice.`,
    );
  }
  return out;
}
