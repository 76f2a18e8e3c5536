/**
 * Gateway features ("what Gemini lacks"): model suffixes and aliases, search, images, thinking,
 * safety defaults, built-in tools, TTS, streaming comfort and upstream proxies. Import from here.
 *
 * @module
 */
export { applyRequestFeatures, bodyNeedsFeatures, requestNeedsFeatures } from "./apply_features.ts";
export type { ApplyFeaturesInput, ApplyFeaturesResult } from "./apply_features.ts";
export { defaultFeatureSettings, featureSettingsSchema, matchesModelList } from "./settings.ts";
export type { FeatureSettings } from "./settings.ts";
export { isImageModel, listModelVariants, parseModelName } from "./model_names.ts";
export type { ParsedModel } from "./model_names.ts";
export { resolveThinkingConfig, thinkingProfile } from "./thinking.ts";
export { applyTools, formatSearchLinks } from "./tools.ts";
export { extractMarkdownImages, imagePartToMarkdown } from "./images.ts";
export { mapSpeechRequest, resolveVoice, speechAudioFromResponse } from "./tts.ts";
export { encodeSpeechAudio, pcmToWav, SPEECH_FORMATS } from "./audio_encode.ts";
export { createSseSmoother, splitGeminiEvent } from "./smoother.ts";
export { createKeepAliveTransform, streamWholeAnswer } from "./keep_alive.ts";
export { ProxyPool, redactProxyUrl, validateProxyUrl } from "./proxy_pool.ts";
export type { ProxyStatus } from "./proxy_pool.ts";
