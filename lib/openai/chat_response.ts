/**
 * Gemini `GenerateContentResponse` -> OpenAI `ChatCompletion`. The helpers (finish reasons, usage, tool
 * calls, grounding annotations) are shared with the stream translator.
 *
 * @module
 */
import type {
  GeminiCandidate,
  GeminiGenerateContentResponse,
  GeminiGroundingMetadata,
  GeminiLogprobCandidate,
  GeminiLogprobsResult,
  GeminiPart,
  GeminiUsageMetadata,
} from "../gemini/types.ts";
import { TOOL_CALL_FAILURES, toolCallFailure } from "../gemini/answer_check.ts";
import type { ThoughtSignatures } from "../gemini/thought_signatures.ts";
import type { FunctionNames } from "../gemini/function_names.ts";
import { randomAlnum, toolCallId } from "../gemini/tool_call_ids.ts";
import { imagePartToMarkdown } from "../features/images.ts";

/** Where translated answers leave their thought signatures (the server-side store). */
export type SignatureSink = Pick<ThoughtSignatures, "rememberCall" | "rememberContent">;

/** Options for response translation. */
export interface ChatResponseOptions {
  /** The model name the client sent (echoed as `model`). */
  model: string;
  /** Put thought summaries into `reasoning_content` (otherwise they are dropped). */
  includeThoughts?: boolean;
  /** Append a "Sources:" list of grounding links to the content. */
  searchLinks?: boolean;
  /** Keeps thought signatures server-side (tool-call ids carry only a short reference to them). */
  signatures?: SignatureSink;
  /** The request's function names (Gemini's aliases back to the client's names). */
  functions?: FunctionNames;
}

/**
 * An image in a message's `images` field, OpenRouter's convention for images in chat answers (also
 * read by LiteLLM, LobeChat and RubyLLM): `{type: "image_url", image_url: {url: "data:image/png;base64,..."}}`.
 */
export interface OpenAIImage {
  type: "image_url";
  image_url: { url: string };
}

/** OpenAI tool call as returned to clients (with Google's `extra_content` for the signature). */
export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
  extra_content?: { google: { thought_signature: string } };
}

/** OpenAI `url_citation` annotation. */
export interface UrlCitation {
  type: "url_citation";
  url_citation: { url: string; title: string; start_index: number; end_index: number };
}

/** OpenAI usage object. */
export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/**
 * Gemini finishReason -> OpenAI finish_reason; anything unlisted becomes `stop`, except the failed
 * tool calls of {@link TOOL_CALL_FAILURES}, which become an error ({@link toolCallFailure}).
 */
export const FINISH_REASONS: Record<string, string> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
  IMAGE_SAFETY: "content_filter",
  IMAGE_PROHIBITED_CONTENT: "content_filter",
  IMAGE_RECITATION: "content_filter",
};

/** Maps a Gemini finish reason (tool calls win over Gemini's STOP). */
export function mapFinishReason(reason: string | undefined, hasToolCalls: boolean): string {
  if (hasToolCalls) return "tool_calls";
  return FINISH_REASONS[reason ?? ""] ?? "stop";
}

/** Maps Gemini usage to OpenAI usage (completion includes thoughts; tool-use prompt counts as prompt). */
export function mapUsage(u: GeminiUsageMetadata | undefined): OpenAIUsage {
  const prompt = (u?.promptTokenCount ?? 0) + (u?.toolUsePromptTokenCount ?? 0);
  const thoughts = u?.thoughtsTokenCount ?? 0;
  const completion = (u?.candidatesTokenCount ?? 0) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: u?.totalTokenCount ?? prompt + completion,
    prompt_tokens_details: { cached_tokens: u?.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

/**
 * Builds an OpenAI tool call from a Gemini functionCall part (its signature kept in `signatures` and
 * extra_content; its name back from Gemini's alias through `functions`).
 */
export function toToolCall(
  part: GeminiPart,
  o: Pick<ChatResponseOptions, "signatures" | "functions"> = {},
): OpenAIToolCall {
  const fc = part.functionCall!;
  const state = { geminiId: fc.id, signature: part.thoughtSignature };
  const call: OpenAIToolCall = {
    id: toolCallId(o.signatures ? o.signatures.rememberCall(state) : randomAlnum(24)),
    type: "function",
    function: { name: o.functions?.toClient(fc.name) ?? fc.name, arguments: JSON.stringify(fc.args ?? {}) },
  };
  if (part.thoughtSignature) call.extra_content = { google: { thought_signature: part.thoughtSignature } };
  return call;
}

/** What goes before an image's markdown so that it starts a paragraph after `before` (the content so far). */
export function imageSeparator(before: string): string {
  return !before || before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
}

/** The `images` entry of an image part, or undefined for parts that are no image. */
export function partImage(part: GeminiPart): OpenAIImage | undefined {
  const d = part.inlineData;
  if (part.thought || !d || !/^image\//i.test(d.mimeType)) return undefined;
  return { type: "image_url", image_url: { url: `data:${d.mimeType};base64,${d.data}` } };
}

/**
 * Visible text of a non-thought part (text, generated images as markdown, code execution); `before` is
 * the content so far, after which an image starts a new paragraph.
 */
export function partText(part: GeminiPart, before = ""): string {
  if (part.thought) return "";
  if (part.text !== undefined) return part.text;
  if (part.inlineData) return imageSeparator(before) + imagePartToMarkdown(part.inlineData);
  if (part.executableCode) {
    return `\n\`\`\`${
      (part.executableCode.language ?? "").toLowerCase()
    }\n${part.executableCode.code}\n\`\`\`\n`;
  }
  if (part.codeExecutionResult?.output) return `\n\`\`\`\n${part.codeExecutionResult.output}\n\`\`\`\n`;
  return "";
}

/** Converts a UTF-8 byte offset in `text` to a UTF-16 string index. */
export function byteToCharIndex(text: string, byteOffset: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length && bytes < byteOffset) {
    const cp = text.codePointAt(i)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return i;
}

/**
 * Grounding metadata -> `url_citation` annotations (one per supported segment and chunk). `partTexts` are
 * the visible texts of the candidate's parts in order (segment byte offsets are relative to a part).
 */
export function groundingAnnotations(
  gm: GeminiGroundingMetadata | undefined,
  partTexts: string[],
): UrlCitation[] {
  const chunks = gm?.groundingChunks ?? [];
  const starts: number[] = [];
  partTexts.reduce((acc, t, i) => (starts[i] = acc, acc + t.length), 0);
  const out: UrlCitation[] = [];
  for (const s of gm?.groundingSupports ?? []) {
    const pi = s.segment?.partIndex ?? 0;
    const text = partTexts[pi] ?? "";
    const base = starts[pi] ?? 0;
    const start = base + byteToCharIndex(text, s.segment?.startIndex ?? 0);
    const end = base + byteToCharIndex(text, s.segment?.endIndex ?? 0);
    for (const idx of s.groundingChunkIndices ?? []) {
      const web = chunks[idx]?.web;
      if (web?.uri) {
        out.push({
          type: "url_citation",
          url_citation: { url: web.uri, title: web.title ?? web.uri, start_index: start, end_index: end },
        });
      }
    }
  }
  return out;
}

/** Markdown "Sources:" list from grounding chunks (deduplicated), or "" when there are none. */
export function sourcesMarkdown(gm: GeminiGroundingMetadata | undefined): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const c of gm?.groundingChunks ?? []) {
    if (!c.web?.uri || seen.has(c.web.uri)) continue;
    seen.add(c.web.uri);
    lines.push(`${lines.length + 1}. [${(c.web.title || c.web.uri).replace(/[[\]]/g, "")}](${c.web.uri})`);
  }
  return lines.length ? `\n\nSources:\n${lines.join("\n")}` : "";
}

const utf8 = new TextEncoder();

/** Gemini `logprobsResult` -> OpenAI `choices[].logprobs` (null when absent). */
export function mapLogprobs(r: GeminiLogprobsResult | undefined) {
  if (!r?.chosenCandidates?.length) return null;
  const entry = (c: GeminiLogprobCandidate) => ({
    token: c.token ?? "",
    logprob: c.logProbability ?? 0,
    bytes: Array.from(utf8.encode(c.token ?? "")),
  });
  return {
    content: r.chosenCandidates.map((c, k) => ({
      ...entry(c),
      top_logprobs: (r.topCandidates?.[k]?.candidates ?? []).map(entry),
    })),
    refusal: null,
  };
}

/** A new `chatcmpl-` id. */
export function completionId(): string {
  return `chatcmpl-${randomAlnum(29)}`;
}

/**
 * Keeps the signatures of an answer's text and image parts (function calls keep theirs in
 * {@link toToolCall}) and returns the text signature for `extra_content`. `content` is the message
 * content exactly as the client gets it: the key under which the text signature is found again.
 */
export function rememberPartSignatures(
  parts: readonly GeminiPart[],
  content: string,
  signatures?: SignatureSink,
): string | undefined {
  let textSig: string | undefined;
  for (const p of parts) {
    if (!p.thoughtSignature || p.functionCall) continue;
    if (p.inlineData) signatures?.rememberContent(p.inlineData.data, p.thoughtSignature);
    else textSig ??= p.thoughtSignature;
  }
  if (textSig && content) signatures?.rememberContent(content, textSig);
  return textSig;
}

function mapChoice(cand: GeminiCandidate, i: number, o: ChatResponseOptions) {
  const parts = cand.content?.parts ?? [];
  const toolCalls = parts.filter((p) => p.functionCall).map((p) => toToolCall(p, o));
  const texts: string[] = [];
  for (const p of parts) texts.push(partText(p, texts.join("")));
  let content = texts.join("");
  const annotations = groundingAnnotations(cand.groundingMetadata, texts);
  if (o.searchLinks) content += sourcesMarkdown(cand.groundingMetadata);
  const reasoning = parts.filter((p) => p.thought && p.text).map((p) => p.text).join("");
  const images = parts.flatMap((p) => partImage(p) ?? []);
  const textSig = rememberPartSignatures(parts, content, o.signatures);
  const message: Record<string, unknown> = {
    role: "assistant",
    content: content || (toolCalls.length ? null : ""),
    refusal: null,
  };
  if (o.includeThoughts && reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length) message.tool_calls = toolCalls;
  if (images.length) message.images = images;
  if (annotations.length) message.annotations = annotations;
  if (textSig) message.extra_content = { google: { thought_signature: textSig } };
  return {
    index: cand.index ?? i,
    message,
    logprobs: mapLogprobs(cand.logprobsResult),
    finish_reason: mapFinishReason(cand.finishReason, toolCalls.length > 0),
  };
}

/**
 * Translates a unary Gemini response into an OpenAI `chat.completion`.
 *
 * @throws {GatewayError} 502 ({@link toolCallFailure}) when a candidate ended in a failed tool call.
 */
export function mapChatResponse(res: GeminiGenerateContentResponse, o: ChatResponseOptions) {
  const candidates = res.candidates ?? [];
  const failed = candidates.find((c) => c.finishReason && c.finishReason in TOOL_CALL_FAILURES);
  if (failed) throw toolCallFailure(failed.finishReason!, failed.finishMessage);
  const choices = candidates.length ? candidates.map((c, i) => mapChoice(c, i, o)) : [{
    index: 0,
    message: { role: "assistant", content: "", refusal: null },
    logprobs: null,
    finish_reason: res.promptFeedback?.blockReason ? "content_filter" : "stop",
  }];
  return {
    id: completionId(),
    object: "chat.completion" as const,
    created: Math.floor(Date.now() / 1000),
    model: o.model,
    choices,
    usage: mapUsage(res.usageMetadata),
  };
}
