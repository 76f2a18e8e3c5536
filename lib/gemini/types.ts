/**
 * Gemini's `generateContent` wire types (v1beta REST, lowerCamelCase JSON): the request, the response
 * (also one `streamGenerateContent` SSE chunk) and everything inside them. Every object type carries an
 * index signature `[key: string]: unknown`, so fields Google adds later pass through the gateway typed
 * as `unknown` instead of being dropped or refused. Enum-valued fields accept the documented values and
 * any other string (Google adds values without notice; the gateway must not crash on one).
 *
 * Sources: https://ai.google.dev/api/generate-content (request, response, Candidate, FinishReason,
 * PromptFeedback, UsageMetadata), https://ai.google.dev/api/caching#Content (Content, Part, Tool,
 * ToolConfig) and wire reference parts B and C.
 *
 * @module
 */

/** A documented string enum that still accepts values Google adds later. */
export type OpenEnum<T extends string> = T | (string & Record<never, never>);

/** Why a candidate stopped (`Candidate.finishReason`). Source: https://ai.google.dev/api/generate-content#FinishReason */
export type FinishReason =
  | "FINISH_REASON_UNSPECIFIED"
  | "STOP"
  | "MAX_TOKENS"
  | "SAFETY"
  | "RECITATION"
  | "LANGUAGE"
  | "OTHER"
  | "BLOCKLIST"
  | "PROHIBITED_CONTENT"
  | "SPII"
  | "MALFORMED_FUNCTION_CALL"
  | "IMAGE_SAFETY"
  | "IMAGE_PROHIBITED_CONTENT"
  | "IMAGE_OTHER"
  | "NO_IMAGE"
  | "IMAGE_RECITATION"
  | "UNEXPECTED_TOOL_CALL"
  | "TOO_MANY_TOOL_CALLS"
  | "MISSING_THOUGHT_SIGNATURE"
  | "MALFORMED_RESPONSE";

/** Every documented {@link FinishReason}, in Google's order. */
export const FINISH_REASONS: readonly FinishReason[] = [
  "FINISH_REASON_UNSPECIFIED",
  "STOP",
  "MAX_TOKENS",
  "SAFETY",
  "RECITATION",
  "LANGUAGE",
  "OTHER",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "MALFORMED_FUNCTION_CALL",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_OTHER",
  "NO_IMAGE",
  "IMAGE_RECITATION",
  "UNEXPECTED_TOOL_CALL",
  "TOO_MANY_TOOL_CALLS",
  "MISSING_THOUGHT_SIGNATURE",
  "MALFORMED_RESPONSE",
];

/**
 * Why the prompt was blocked (`promptFeedback.blockReason`; the SDKs call the enum `BlockedReason`).
 * Source: https://ai.google.dev/api/generate-content#BlockReason
 */
export type BlockReason =
  | "BLOCK_REASON_UNSPECIFIED"
  | "SAFETY"
  | "OTHER"
  | "BLOCKLIST"
  | "PROHIBITED_CONTENT"
  | "IMAGE_SAFETY";

/** The SDKs' name for {@link BlockReason}. */
export type BlockedReason = BlockReason;

/** Content modality (`usageMetadata.*TokensDetails[].modality`, `responseModalities`). */
export type Modality = "MODALITY_UNSPECIFIED" | "TEXT" | "IMAGE" | "VIDEO" | "AUDIO" | "DOCUMENT";

/** `thinkingConfig.thinkingLevel` values (Gemini 3 and later). Source: https://ai.google.dev/gemini-api/docs/thinking */
export type GeminiThinkingLevel = "THINKING_LEVEL_UNSPECIFIED" | "MINIMAL" | "LOW" | "MEDIUM" | "HIGH";

/** Raw bytes with their MIME type (`inlineData`); `data` is base64. */
export interface GeminiBlob {
  mimeType: string;
  data: string;
  [key: string]: unknown;
}

/** A file by URI (`fileData`): a Files API URI or a YouTube URL. */
export interface GeminiFileData {
  mimeType?: string;
  fileUri: string;
  [key: string]: unknown;
}

/** A function call the model made. `id` is always set by Gemini 3 and must be echoed back. */
export interface GeminiFunctionCall {
  id?: string;
  name: string;
  args?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The caller's answer to a function call; `response` must be a JSON object. */
export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  response: Record<string, unknown>;
  /** Multimodal results (Gemini 3): inline data or files. */
  parts?: Array<{ inlineData?: GeminiBlob; fileData?: GeminiFileData; [key: string]: unknown }>;
  willContinue?: boolean;
  scheduling?: OpenEnum<"SCHEDULING_UNSPECIFIED" | "SILENT" | "WHEN_IDLE" | "INTERRUPT">;
  [key: string]: unknown;
}

/** Code the model wrote for the code execution tool. */
export interface GeminiExecutableCode {
  language?: OpenEnum<"LANGUAGE_UNSPECIFIED" | "PYTHON">;
  code: string;
  id?: string;
  [key: string]: unknown;
}

/** The result of running {@link GeminiExecutableCode}. */
export interface GeminiCodeExecutionResult {
  outcome?: OpenEnum<
    "OUTCOME_UNSPECIFIED" | "OUTCOME_OK" | "OUTCOME_FAILED" | "OUTCOME_DEADLINE_EXCEEDED"
  >;
  output?: string;
  id?: string;
  [key: string]: unknown;
}

/** A clip of a video part (`"12.5s"`-style protobuf durations). */
export interface GeminiVideoMetadata {
  startOffset?: string;
  endOffset?: string;
  fps?: number;
  [key: string]: unknown;
}

/**
 * One content part: exactly one data field is set (`text`, `inlineData`, `fileData`, `functionCall`,
 * `functionResponse`, `executableCode`, `codeExecutionResult`); `thought`, `thoughtSignature`,
 * `videoMetadata` and `mediaResolution` modify it.
 */
export interface GeminiPart {
  text?: string;
  /** True when the text is a thought summary. */
  thought?: boolean;
  /** Opaque base64 signature; send back verbatim on the same part (https://ai.google.dev/gemini-api/docs/thought-signatures). */
  thoughtSignature?: string;
  inlineData?: GeminiBlob;
  fileData?: GeminiFileData;
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
  executableCode?: GeminiExecutableCode;
  codeExecutionResult?: GeminiCodeExecutionResult;
  videoMetadata?: GeminiVideoMetadata;
  mediaResolution?: { level?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** A turn: `role` is `user` (default) or `model`. */
export interface GeminiContent {
  role?: OpenEnum<"user" | "model">;
  parts?: GeminiPart[];
  [key: string]: unknown;
}

/** `generationConfig.thinkingConfig`: a budget (Gemini 2.5) or a level (Gemini 3+), never both. */
export interface GeminiThinkingConfig {
  /** Tokens; 0 turns thinking off where allowed, -1 is dynamic. */
  thinkingBudget?: number;
  thinkingLevel?: OpenEnum<GeminiThinkingLevel>;
  includeThoughts?: boolean;
  [key: string]: unknown;
}

/** `generationConfig.imageConfig` (image-output models). */
export interface GeminiImageConfig {
  /** `"1:1"`, `"16:9"`, ... */
  aspectRatio?: string;
  /** `"1K"`, `"2K"`, `"4K"` (`"512"` on some models). */
  imageSize?: string;
  [key: string]: unknown;
}

/** A prebuilt voice of the speech models. */
export interface GeminiVoiceConfig {
  prebuiltVoiceConfig?: { voiceName?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** `generationConfig.speechConfig` (TTS and native-audio models). */
export interface GeminiSpeechConfig {
  voiceConfig?: GeminiVoiceConfig;
  multiSpeakerVoiceConfig?: {
    speakerVoiceConfigs?: Array<
      { speaker?: string; voiceConfig?: GeminiVoiceConfig; [key: string]: unknown }
    >;
    [key: string]: unknown;
  };
  languageCode?: string;
  [key: string]: unknown;
}

/** Gemini `generationConfig`. */
export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  topK?: number;
  candidateCount?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseLogprobs?: boolean;
  logprobs?: number;
  responseMimeType?: string;
  /** OpenAPI-subset schema (exclusive with `responseJsonSchema`). */
  responseSchema?: unknown;
  /** JSON Schema (exclusive with `responseSchema`). */
  responseJsonSchema?: unknown;
  responseModalities?: Array<OpenEnum<Modality>>;
  mediaResolution?: string;
  thinkingConfig?: GeminiThinkingConfig;
  imageConfig?: GeminiImageConfig;
  speechConfig?: GeminiSpeechConfig;
  [key: string]: unknown;
}

/** One function declaration: `parameters` (OpenAPI subset) or `parametersJsonSchema` (JSON Schema). */
export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: unknown;
  parametersJsonSchema?: unknown;
  response?: unknown;
  responseJsonSchema?: unknown;
  behavior?: string;
  [key: string]: unknown;
}

/** A `tools[]` entry: each object carries one kind of tool. */
export interface GeminiTool {
  functionDeclarations?: GeminiFunctionDeclaration[];
  googleSearch?: Record<string, unknown>;
  googleSearchRetrieval?: Record<string, unknown>;
  codeExecution?: Record<string, unknown>;
  urlContext?: Record<string, unknown>;
  fileSearch?: {
    fileSearchStoreNames?: string[];
    metadataFilter?: string;
    topK?: number;
    [key: string]: unknown;
  };
  googleMaps?: Record<string, unknown>;
  computerUse?: Record<string, unknown>;
  [key: string]: unknown;
}

/** `toolConfig`: how the model may call functions. */
export interface GeminiToolConfig {
  functionCallingConfig?: {
    mode?: OpenEnum<"MODE_UNSPECIFIED" | "AUTO" | "ANY" | "NONE" | "VALIDATED">;
    allowedFunctionNames?: string[];
    [key: string]: unknown;
  };
  retrievalConfig?: Record<string, unknown>;
  /**
   * Built-in tools next to function declarations (Gemini 3 and later); the answer then reports the
   * built-in tools' calls as `toolCall` / `toolResponse` parts. Source:
   * https://ai.google.dev/gemini-api/docs/tool-combination
   */
  includeServerSideToolInvocations?: boolean;
  [key: string]: unknown;
}

/** One `safetySettings[]` entry. */
export interface GeminiSafetySetting {
  category: string;
  threshold: string;
  [key: string]: unknown;
}

/** Gemini `GenerateContentRequest` (body of `:generateContent` / `:streamGenerateContent`). */
export interface GeminiGenerateContentRequest {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
  tools?: GeminiTool[];
  toolConfig?: GeminiToolConfig;
  safetySettings?: GeminiSafetySetting[];
  generationConfig?: GeminiGenerationConfig;
  /** `cachedContents/{id}`. */
  cachedContent?: string;
  serviceTier?: string;
  [key: string]: unknown;
}

/** A safety rating of a prompt or candidate. */
export interface GeminiSafetyRating {
  category?: string;
  probability?: string;
  blocked?: boolean;
  [key: string]: unknown;
}

/** Grounding metadata (web chunks and supports) attached to a candidate. */
export interface GeminiGroundingMetadata {
  groundingChunks?: Array<
    { web?: { uri?: string; title?: string; [key: string]: unknown }; [key: string]: unknown }
  >;
  groundingSupports?: Array<{
    segment?: {
      partIndex?: number;
      startIndex?: number;
      endIndex?: number;
      text?: string;
      [key: string]: unknown;
    };
    groundingChunkIndices?: number[];
    confidenceScores?: number[];
    [key: string]: unknown;
  }>;
  webSearchQueries?: string[];
  searchEntryPoint?: { renderedContent?: string; sdkBlob?: string; [key: string]: unknown };
  retrievalMetadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** URLs the URL context tool fetched. */
export interface GeminiUrlContextMetadata {
  urlMetadata?: Array<{ retrievedUrl?: string; urlRetrievalStatus?: string; [key: string]: unknown }>;
  [key: string]: unknown;
}

/** Sources a candidate recited. */
export interface GeminiCitationMetadata {
  citationSources?: Array<{
    startIndex?: number;
    endIndex?: number;
    uri?: string;
    license?: string;
    [key: string]: unknown;
  }>;
  [key: string]: unknown;
}

/** One token choice in Gemini's logprobs. */
export interface GeminiLogprobCandidate {
  token?: string;
  tokenId?: number;
  logProbability?: number;
  [key: string]: unknown;
}

/** Gemini `logprobsResult` (chosen token per step plus top alternatives). */
export interface GeminiLogprobsResult {
  chosenCandidates?: GeminiLogprobCandidate[];
  topCandidates?: Array<{ candidates?: GeminiLogprobCandidate[]; [key: string]: unknown }>;
  logProbabilitySum?: number;
  [key: string]: unknown;
}

/** One Gemini candidate. */
export interface GeminiCandidate {
  content?: GeminiContent;
  finishReason?: OpenEnum<FinishReason>;
  /** e.g. "Model generated function call(s)." */
  finishMessage?: string;
  index?: number;
  safetyRatings?: GeminiSafetyRating[];
  citationMetadata?: GeminiCitationMetadata;
  groundingMetadata?: GeminiGroundingMetadata;
  urlContextMetadata?: GeminiUrlContextMetadata;
  tokenCount?: number;
  avgLogprobs?: number;
  logprobsResult?: GeminiLogprobsResult;
  [key: string]: unknown;
}

/** Why a prompt was blocked; present (with no candidates) when it was. */
export interface GeminiPromptFeedback {
  blockReason?: OpenEnum<BlockReason>;
  safetyRatings?: GeminiSafetyRating[];
  [key: string]: unknown;
}

/** Token count of one modality. */
export interface GeminiModalityTokenCount {
  modality?: OpenEnum<Modality>;
  tokenCount?: number;
  [key: string]: unknown;
}

/** Gemini usage counters (cumulative in streams). `promptTokenCount` includes cached tokens. */
export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  /** Visible output tokens; excludes thoughts. */
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
  promptTokensDetails?: GeminiModalityTokenCount[];
  cacheTokensDetails?: GeminiModalityTokenCount[];
  candidatesTokensDetails?: GeminiModalityTokenCount[];
  toolUsePromptTokensDetails?: GeminiModalityTokenCount[];
  [key: string]: unknown;
}

/** Gemini `GenerateContentResponse` (also one SSE chunk). */
export interface GeminiGenerateContentResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: GeminiPromptFeedback;
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
  [key: string]: unknown;
}
