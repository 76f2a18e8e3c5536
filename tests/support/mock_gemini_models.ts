/**
 * The mock's model catalogue (shapes of `GET /v1beta/models`, wire reference A3).
 *
 * @module
 */

/** One entry of the models collection, as Google returns it. */
export interface MockModel {
  name: string;
  version: string;
  displayName: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  supportedGenerationMethods: string[];
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTemperature?: number;
  thinking?: boolean;
}

const CHAT = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"];

function chat(
  o: {
    id: string;
    displayName: string;
    description: string;
    version?: string;
    thinking?: boolean;
    out?: number;
  },
): MockModel {
  return {
    name: `models/${o.id}`,
    version: o.version ?? "001",
    displayName: o.displayName,
    description: o.description,
    inputTokenLimit: 1048576,
    outputTokenLimit: o.out ?? 65536,
    supportedGenerationMethods: CHAT,
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    ...(o.thinking === false ? {} : { thinking: true }),
  };
}

/** All models the mock serves, in listing order. */
export const MOCK_MODELS: readonly MockModel[] = [
  chat({
    id: "gemini-2.5-flash",
    displayName: "Gemini 2.5 Flash",
    description:
      "Stable version of Gemini 2.5 Flash, our mid-size multimodal model that supports up to 1 million tokens.",
  }),
  chat({
    id: "gemini-2.5-pro",
    displayName: "Gemini 2.5 Pro",
    description: "Stable release of Gemini 2.5 Pro.",
    version: "2.5",
  }),
  chat({
    id: "gemini-2.5-flash-lite",
    displayName: "Gemini 2.5 Flash-Lite",
    description: "Stable version of Gemini 2.5 Flash-Lite.",
  }),
  chat({
    id: "gemini-2.0-flash",
    displayName: "Gemini 2.0 Flash",
    description: "Gemini 2.0 Flash",
    thinking: false,
    out: 8192,
  }),
  chat({
    id: "gemini-3-pro-preview",
    displayName: "Gemini 3 Pro Preview",
    description: "Gemini 3 Pro Preview",
    version: "3-pro-preview-11-2025",
  }),
  chat({
    id: "gemini-3-flash-preview",
    displayName: "Gemini 3 Flash Preview",
    description: "Gemini 3 Flash Preview",
    version: "3-flash-preview-12-2025",
  }),
  chat({
    id: "gemini-3.1-pro-preview",
    displayName: "Gemini 3.1 Pro Preview",
    description: "Gemini 3.1 Pro Preview",
    version: "3.1-pro-preview-02-2026",
  }),
  chat({
    id: "gemini-3.1-flash-image-preview",
    displayName: "Nano Banana 2",
    description: "Gemini 3.1 Flash Image Preview",
    version: "3.1-flash-image-preview-02-2026",
  }),
  chat({
    id: "gemini-pro-latest",
    displayName: "Gemini Pro Latest",
    description: "Latest release of Gemini Pro",
    version: "Gemini Pro Latest",
  }),
  chat({
    id: "gemini-flash-lite-latest",
    displayName: "Gemini Flash-Lite Latest",
    description: "Latest release of Gemini Flash-Lite",
    version: "Gemini Flash-Lite Latest",
  }),
  chat({
    id: "gemini-flash-latest",
    displayName: "Gemini Flash Latest",
    description: "Latest release of Gemini Flash",
    version: "Gemini Flash Latest",
  }),
  {
    name: "models/gemini-2.5-flash-image",
    version: "2.0",
    displayName: "Nano Banana",
    description: "Gemini 2.5 Flash Image",
    inputTokenLimit: 32768,
    outputTokenLimit: 32768,
    supportedGenerationMethods: ["generateContent", "countTokens", "batchGenerateContent"],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
  },
  {
    name: "models/gemini-2.5-flash-preview-tts",
    version: "gemini-2.5-flash-exp-tts-2025-05-19",
    displayName: "Gemini 2.5 Flash Preview TTS",
    description: "Gemini 2.5 Flash Preview TTS",
    inputTokenLimit: 8192,
    outputTokenLimit: 16384,
    supportedGenerationMethods: ["countTokens", "generateContent"],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
  },
  {
    name: "models/gemini-embedding-001",
    version: "001",
    displayName: "Gemini Embedding 001",
    description: "Obtain a distributed representation of a text.",
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    supportedGenerationMethods: ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"],
  },
  {
    name: "models/text-embedding-004",
    version: "004",
    displayName: "Text Embedding 004",
    description: "Obtain a distributed representation of a text.",
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    supportedGenerationMethods: ["embedContent"],
  },
  {
    name: "models/imagen-4.0-generate-001",
    version: "001",
    displayName: "Imagen 4",
    description: "Vertex served Imagen 4.0 model",
    inputTokenLimit: 480,
    outputTokenLimit: 8192,
    supportedGenerationMethods: ["predict"],
  },
  {
    name: "models/veo-3.0-generate-001",
    version: "3.0",
    displayName: "Veo 3",
    description: "Veo 3",
    inputTokenLimit: 480,
    outputTokenLimit: 8192,
    supportedGenerationMethods: ["predictLongRunning"],
  },
];

/**
 * Gemini 3 behaviour of the mock's models: the `thinkingLevel`s each accepts (others get Google's 400
 * "Thinking level X is not supported for this model."), and thought signatures on function calls.
 * `gemini-flash-latest` stands for what Google resolves it to (gemini-3.8-flash: LOW, MEDIUM, HIGH).
 * Source: https://ai.google.dev/gemini-api/docs/thinking#thinking-levels
 */
const GEMINI_3_LEVELS: Record<string, readonly string[]> = {
  "gemini-3-pro-preview": ["LOW", "HIGH"],
  "gemini-3-flash-preview": ["MINIMAL", "LOW", "MEDIUM", "HIGH"],
  "gemini-3.1-pro-preview": ["LOW", "MEDIUM", "HIGH"],
  "gemini-flash-latest": ["LOW", "MEDIUM", "HIGH"],
  "gemini-3.1-flash-image-preview": ["MINIMAL", "HIGH"],
};

/** The thinking levels a Gemini 3 model of the mock accepts; undefined for other models. */
export function thinkingLevelsOf(model: string): readonly string[] | undefined {
  return GEMINI_3_LEVELS[model] ?? (model.startsWith("gemini-3") ? ["LOW", "HIGH"] : undefined);
}

/** Which catalogue method a route method needs (`streamGenerateContent` is covered by `generateContent`). */
const METHOD_NEEDS: Record<string, string> = {
  generateContent: "generateContent",
  streamGenerateContent: "generateContent",
  batchGenerateContent: "generateContent",
  countTokens: "countTokens",
  embedContent: "embedContent",
  batchEmbedContents: "embedContent",
  predict: "predict",
};

/** Finds a model by bare id (`gemini-2.5-flash`) or resource name (`models/...`). */
export function findModel(id: string): MockModel | undefined {
  const name = id.startsWith("models/") ? id : `models/${id}`;
  return MOCK_MODELS.find((m) => m.name === name);
}

/** True when the model exists and supports the route method (e.g. `streamGenerateContent`). */
export function modelSupports(id: string, method: string): boolean {
  const model = findModel(id);
  if (!model) return false;
  const needs = METHOD_NEEDS[method] ?? method;
  if (needs === "countTokens" && model.supportedGenerationMethods.includes("embedContent")) return true;
  return model.supportedGenerationMethods.includes(needs);
}
