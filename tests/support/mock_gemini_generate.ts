/**
 * Deterministic `generateContent` replies of the mock Gemini upstream (wire reference parts B and C):
 * echo text, candidates, MAX_TOKENS, prompt blocking, JSON mode, thoughts, function calls with Gemini 3
 * thought signatures, grounding, image and audio output.
 *
 * @module
 */

import { invalidArgument, missingSignatureError, unknownFieldsError } from "./mock_gemini_http.ts";
import { thinkingLevelsOf } from "./mock_gemini_models.ts";
import {
  arrayField,
  byteLength,
  contentsText,
  field,
  isObject,
  type Json,
  numberField,
  randomBase64,
  SINE_PCM_BASE64,
  stringField,
  TINY_PNG_BASE64,
  valueForSchema,
  wordCount,
} from "./mock_gemini_util.ts";

const ALLOWED_TOP_LEVEL = new Set([
  "contents",
  "systemInstruction",
  "system_instruction",
  "tools",
  "toolConfig",
  "tool_config",
  "safetySettings",
  "safety_settings",
  "generationConfig",
  "generation_config",
  "cachedContent",
  "cached_content",
  "labels",
  "model",
  "serviceTier",
  "service_tier",
]);

/** Signatures Google documents as always accepted (for histories that never had one). */
const DUMMY_SIGNATURES = new Set([
  "context_engineering_is_the_way_to_go",
  "skip_thought_signature_validator",
]);

/** Inline MIME types Gemini accepts (others, such as `image/jpg`, are refused). */
const INLINE_MIME =
  /^(image\/(png|jpeg|webp|heic|heif|gif)|audio\/(wav|mp3|mpeg|aiff|aac|ogg|flac|l16|pcm)|video\/[a-z0-9.+-]+|application\/pdf|text\/[a-z0-9.+-]+|application\/json)(;.*)?$/i;

/** The path of the first `$ref` that has sibling keywords (Gemini refuses those), or undefined. */
function refWithSiblings(schema: unknown, path: string): string | undefined {
  if (Array.isArray(schema)) {
    for (const [i, s] of schema.entries()) {
      const found = refWithSiblings(s, `${path}.${i}`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(schema)) return undefined;
  if (typeof schema.$ref === "string" && Object.keys(schema).length > 1) return path;
  for (const [k, v] of Object.entries(schema)) {
    const found = refWithSiblings(v, path ? `${path}.${k}` : k);
    if (found) return found;
  }
  return undefined;
}

/** Google's refusals of request shapes the gateway must repair (each as Gemini words it), or null. */
function refusedShape(body: Json, contents: unknown[]): Response | null {
  for (const [i, content] of contents.entries()) {
    const parts = arrayField(content, "parts");
    if (parts.length === 0) {
      return invalidArgument(
        `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`,
      );
    }
    for (const part of parts) {
      if (field(part, "text") === "") {
        return invalidArgument(
          "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again.",
        );
      }
      const mime = stringField(field(part, "inlineData"), "mimeType");
      if (mime !== undefined && !INLINE_MIME.test(mime)) {
        return invalidArgument(`Unsupported MIME type: ${mime}`);
      }
    }
    // Each function call turn must be answered by exactly as many function responses.
    const calls = parts.filter((p) => isObject(field(p, "functionCall"))).length;
    const next = contents[i + 1];
    if (calls && stringField(content, "role") === "model" && next !== undefined) {
      const responses = arrayField(next, "parts").filter((p) =>
        isObject(field(p, "functionResponse"))
      ).length;
      if (responses !== calls) {
        return invalidArgument(
          "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
        );
      }
    }
  }
  const schemas: Array<[string, unknown]> = [
    ["generationConfig.responseJsonSchema", field(field(body, "generationConfig"), "responseJsonSchema")],
    ...declarations(body).map((d, i) =>
      [`tools.functionDeclarations[${i}].parametersJsonSchema`, field(d, "parametersJsonSchema")] as [
        string,
        unknown,
      ]
    ),
  ];
  for (const [where, schema] of schemas) {
    const at = refWithSiblings(schema, "");
    if (at !== undefined) return invalidArgument(`reference to undefined schema at ${at || where}`);
  }
  return null;
}

/** Inputs of {@link generateReply} besides the request body. */
export interface GenerateOptions {
  /** Bare model id. */
  model: string;
  /** Signatures handed out so far; new ones are added. */
  signatures: Set<string>;
  /** Emit `functionCall.id`. */
  functionCallIds: boolean;
  /** Tokens of the cached content the request uses (0 when none). */
  cachedTokens: number;
  /** Scripted parts for this request, if any (`MockOptions.reply`). */
  reply?: (request: { model: string; body: Json }) => Json[] | undefined;
}

/**
 * Validates a GenerateContentRequest body: shape, top-level names, and for Gemini 3 models the thinking
 * level and the thought signatures of the history.
 */
export function validateGenerateRequest(
  body: unknown,
  o: { model: string; signatures: Set<string> },
): Response | null {
  if (!isObject(body)) return invalidArgument("Invalid JSON payload received. Expected an object.", true);
  const unknown = Object.keys(body).filter((k) => !ALLOWED_TOP_LEVEL.has(k));
  if (unknown.length > 0) return unknownFieldsError(unknown);
  const contents = arrayField(body, "contents");
  if (contents.length === 0) {
    return invalidArgument("* GenerateContentRequest.contents: contents is not specified\n");
  }
  const refused = refusedShape(body, contents);
  if (refused) return refused;
  const levels = thinkingLevelsOf(o.model);
  if (!levels) return null;
  const level = stringField(field(field(body, "generationConfig"), "thinkingConfig"), "thinkingLevel");
  if (level !== undefined && !levels.includes(level.toUpperCase())) {
    return invalidArgument(
      `Thinking level ${level.toUpperCase()} is not supported for this model. Please retry with other thinking level.`,
    );
  }
  const known = (sig: string) => o.signatures.has(sig) || DUMMY_SIGNATURES.has(sig);
  for (const [i, content] of contents.entries()) {
    if (stringField(content, "role") !== "model") continue;
    const parts = arrayField(content, "parts");
    if (o.model.includes("image")) {
      // Gemini 3 image models sign their images: each must come back signed.
      for (const [j, p] of parts.entries()) {
        if (!isObject(field(p, "inlineData"))) continue;
        const sig = stringField(p, "thoughtSignature");
        if (sig === undefined) {
          return invalidArgument(
            `Image part is missing a thought_signature in content position ${i + 1}, part position ${j + 1}.`,
          );
        }
        if (!known(sig)) return invalidArgument("Corrupted thought signature.");
      }
    }
    const call = parts.find((p) => isObject(field(p, "functionCall")));
    if (!call) continue;
    const sig = stringField(call, "thoughtSignature");
    if (sig === undefined) {
      const name = stringField(field(call, "functionCall"), "name") ?? "";
      return missingSignatureError({ name, position: i + 1 });
    }
    if (!known(sig)) return invalidArgument("Corrupted thought signature.");
  }
  return null;
}

/** A short request-derived id, like Google's `responseId`. */
function responseId(): string {
  return randomBase64(15).replace(/[+/=]/g, "").slice(0, 20);
}

function declarations(body: Json): Json[] {
  return arrayField(body, "tools")
    .flatMap((t) => arrayField(t, "functionDeclarations"))
    .filter(isObject);
}

function callableDeclarations(body: Json, userText: string): Json[] {
  const config = field(field(body, "toolConfig"), "functionCallingConfig");
  const mode = String(field(config, "mode") ?? "AUTO").toUpperCase();
  if (mode === "NONE") return [];
  const allowed = arrayField(config, "allowedFunctionNames");
  let decls = declarations(body);
  if (allowed.length > 0) decls = decls.filter((d) => allowed.includes(d.name));
  if (decls.length === 0) return [];
  return userText.includes("parallel") ? decls : [decls[0]];
}

function functionCallPart(decl: Json, o: GenerateOptions, n: number): Json {
  const schema = field(decl, "parameters") ?? field(decl, "parametersJsonSchema");
  const args = isObject(schema) && isObject(schema.properties) ? valueForSchema(schema) : {};
  return signedCall({ name: decl.name, args }, o, n);
}

/** A functionCall part as Gemini sends it: an `id` when asked, a signature on Gemini 3 models. */
function signedCall(call: Json, o: GenerateOptions, n: number): Json {
  if (o.functionCallIds) call.id = `call_${randomBase64(6).replace(/[+/=]/g, "x")}${n}`;
  const part: Json = { functionCall: call };
  if (thinkingLevelsOf(o.model)) {
    const sig = randomBase64(32);
    o.signatures.add(sig);
    part.thoughtSignature = sig;
  }
  return part;
}

function replyText(gen: unknown, userText: string): string {
  const mime = stringField(gen, "responseMimeType");
  const schema = field(gen, "responseJsonSchema") ?? field(gen, "responseSchema");
  if (mime === "application/json") {
    return JSON.stringify(schema === undefined ? { echo: userText } : valueForSchema(schema));
  }
  if (mime === "text/x.enum" && isObject(schema) && Array.isArray(schema.enum)) return String(schema.enum[0]);
  return `echo: ${userText}`;
}

function groundingMetadata(text: string, query: string): Json {
  const chunks = ["example.com", "example.org"].map((host, i) => ({
    web: { uri: `https://vertexaisearch.cloud.google.com/grounding-api-redirect/mock${i}`, title: host },
  }));
  return {
    searchEntryPoint: { renderedContent: `<div class="mock-search">${query}</div>` },
    groundingChunks: chunks,
    groundingSupports: [{
      segment: { startIndex: 0, endIndex: byteLength(text), text },
      groundingChunkIndices: [0, 1],
      confidenceScores: [0.9, 0.8],
    }],
    webSearchQueries: [query],
  };
}

const SAFETY_RATINGS = [
  "HARM_CATEGORY_SEXUALLY_EXPLICIT",
  "HARM_CATEGORY_HATE_SPEECH",
  "HARM_CATEGORY_HARASSMENT",
  "HARM_CATEGORY_DANGEROUS_CONTENT",
].map((category) => ({ category, probability: "NEGLIGIBLE" }));

/** Builds one deterministic GenerateContentResponse for a validated request body. */
export function generateReply(body: Json, o: GenerateOptions): Json {
  const gen = field(body, "generationConfig");
  const contents = arrayField(body, "contents");
  const last = contents[contents.length - 1];
  const lastParts = arrayField(last, "parts");
  const userText = stringField(last, "role") === "model"
    ? ""
    : lastParts.map((p) => stringField(p, "text")).filter((t) => t !== undefined).join(" ");
  const system = field(body, "systemInstruction");
  const promptTokens = wordCount(contentsText(contents)) + wordCount(contentsText(system ? [system] : [])) +
    o.cachedTokens;
  const base = { modelVersion: o.model, responseId: responseId() };
  const promptDetails = [{ modality: "TEXT", tokenCount: promptTokens }];

  if (userText.includes("BLOCKME")) {
    return {
      promptFeedback: { blockReason: "SAFETY", safetyRatings: SAFETY_RATINGS },
      usageMetadata: {
        promptTokenCount: promptTokens,
        totalTokenCount: promptTokens,
        promptTokensDetails: promptDetails,
      },
      ...base,
    };
  }

  const scripted = o.reply?.({ model: o.model, body });
  if (scripted) {
    const parts = scripted.map((p, n) =>
      isObject(p.functionCall) ? signedCall({ ...p.functionCall }, o, n) : p
    );
    const candidatesTokenCount = parts.length * 5;
    return {
      candidates: [{ content: { parts, role: "model" }, finishReason: "STOP", index: 0 }],
      usageMetadata: {
        promptTokenCount: promptTokens,
        candidatesTokenCount,
        totalTokenCount: promptTokens + candidatesTokenCount,
        promptTokensDetails: promptDetails,
      },
      ...base,
    };
  }

  const thinking = field(gen, "thinkingConfig");
  const includeThoughts = field(thinking, "includeThoughts") === true;
  const budget = numberField(thinking, "thinkingBudget");
  const thinks = includeThoughts || (budget !== undefined && budget !== 0) ||
    field(thinking, "thinkingLevel") !== undefined;
  const modalities = arrayField(gen, "responseModalities").map((m) => String(m).toUpperCase());
  const wantsImage = modalities.includes("IMAGE") || o.model.includes("image");
  const wantsAudio = modalities.includes("AUDIO");
  const maxTokens = numberField(gen, "maxOutputTokens");
  const count = Math.max(1, numberField(gen, "candidateCount") ?? 1);
  const responses = lastParts.map((p) => field(p, "functionResponse")).filter(isObject);
  const search = arrayField(body, "tools").some((t) =>
    field(t, "googleSearch") !== undefined || field(t, "googleSearchRetrieval") !== undefined
  );

  let candidateTokens = 0;
  const candidates = Array.from({ length: count }, (_, index) => {
    const parts: Json[] = [];
    if (includeThoughts) parts.push({ text: "Thinking about it.", thought: true });
    let finishReason = "STOP";
    let text: string | undefined;
    const decls = responses.length === 0 && userText !== "" ? callableDeclarations(body, userText) : [];
    if (responses.length > 0) {
      text = `result: ${JSON.stringify(responses.map((r) => field(r, "response")))}`;
    } else if (decls.length > 0) {
      decls.forEach((d, n) => parts.push(functionCallPart(d, o, n)));
      candidateTokens += decls.length * 5;
    } else if (wantsAudio) {
      parts.push({ inlineData: { mimeType: "audio/L16;codec=pcm;rate=24000", data: SINE_PCM_BASE64 } });
      candidateTokens += 3;
    } else {
      text = replyText(gen, userText);
    }
    if (text !== undefined) {
      if (maxTokens !== undefined && maxTokens < 5) {
        text = text.split(" ").slice(0, Math.max(1, maxTokens)).join(" ");
        finishReason = "MAX_TOKENS";
      }
      parts.push({ text });
      candidateTokens += wordCount(text);
    }
    if (wantsImage && decls.length === 0 && !wantsAudio) {
      const image: Json = { inlineData: { mimeType: "image/png", data: TINY_PNG_BASE64 } };
      if (thinkingLevelsOf(o.model)) {
        // Gemini 3 image models sign the image part.
        const sig = randomBase64(32);
        o.signatures.add(sig);
        image.thoughtSignature = sig;
      }
      parts.push(image);
      candidateTokens += 1290;
    }
    const candidate: Json = { content: { parts, role: "model" }, finishReason, index };
    if (search && text !== undefined) candidate.groundingMetadata = groundingMetadata(text, userText);
    return candidate;
  });

  const thoughts = thinks ? 3 : 0;
  const usageMetadata: Json = {
    promptTokenCount: promptTokens,
    candidatesTokenCount: candidateTokens,
    totalTokenCount: promptTokens + candidateTokens + thoughts,
    promptTokensDetails: promptDetails,
  };
  if (o.cachedTokens > 0) usageMetadata.cachedContentTokenCount = o.cachedTokens;
  if (thinks) usageMetadata.thoughtsTokenCount = thoughts;
  return { candidates, usageMetadata, ...base };
}
