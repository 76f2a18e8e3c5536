/**
 * The subset of Gemini's wire types (v1beta, lowerCamelCase JSON) that the OpenAI mapping layer reads
 * and writes. Free-form objects (function args, JSON schemas) stay `Record<string, unknown>`.
 *
 * @module
 */

/** One Gemini content part (exactly one data field is set). */
export interface GeminiPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: { id?: string; name: string; args?: Record<string, unknown> };
  functionResponse?: { id?: string; name: string; response: Record<string, unknown> };
  executableCode?: { language?: string; code: string };
  codeExecutionResult?: { outcome?: string; output?: string };
}

/** A Gemini turn. */
export interface GeminiContent {
  role?: "user" | "model";
  parts?: GeminiPart[];
}

/** Gemini `generationConfig` (only fields this layer sets; extra keys are passed through). */
export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  topK?: number;
  candidateCount?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  seed?: number;
  responseMimeType?: string;
  responseJsonSchema?: unknown;
  responseModalities?: string[];
  imageConfig?: { aspectRatio?: string; imageSize?: string };
  thinkingConfig?: { thinkingBudget?: number; thinkingLevel?: string; includeThoughts?: boolean };
  [key: string]: unknown;
}

/** One Gemini function declaration (JSON-Schema dialect). */
export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parametersJsonSchema?: unknown;
}

/** A Gemini `tools[]` entry. */
export interface GeminiTool {
  functionDeclarations?: GeminiFunctionDeclaration[];
  [key: string]: unknown;
}

/** Gemini `GenerateContentRequest`. */
export interface GeminiGenerateContentRequest {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
  tools?: GeminiTool[];
  toolConfig?: { functionCallingConfig?: { mode: string; allowedFunctionNames?: string[] } };
  safetySettings?: Array<Record<string, unknown>>;
  generationConfig?: GeminiGenerationConfig;
  cachedContent?: string;
}

/** Grounding metadata (web chunks and supports) attached to a candidate. */
export interface GeminiGroundingMetadata {
  groundingChunks?: Array<{ web?: { uri?: string; title?: string } }>;
  groundingSupports?: Array<{
    segment?: { partIndex?: number; startIndex?: number; endIndex?: number; text?: string };
    groundingChunkIndices?: number[];
  }>;
  webSearchQueries?: string[];
}

/** One Gemini candidate. */
export interface GeminiCandidate {
  content?: GeminiContent;
  finishReason?: string;
  index?: number;
  groundingMetadata?: GeminiGroundingMetadata;
  logprobsResult?: GeminiLogprobsResult;
}

/** One token choice in Gemini's logprobs. */
export interface GeminiLogprobCandidate {
  token?: string;
  logProbability?: number;
}

/** Gemini `logprobsResult` (chosen token per step plus top alternatives). */
export interface GeminiLogprobsResult {
  chosenCandidates?: GeminiLogprobCandidate[];
  topCandidates?: Array<{ candidates?: GeminiLogprobCandidate[] }>;
}

/** Gemini usage counters (cumulative in streams). */
export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
}

/** Gemini `GenerateContentResponse` (also one SSE chunk). */
export interface GeminiGenerateContentResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}
