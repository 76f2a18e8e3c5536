/**
 * What a translator of a single-candidate answer (Anthropic Messages, OpenAI Responses) keeps about the
 * whole answer while its stream chunks arrive: the latest `usageMetadata`, whether the prompt was
 * blocked, the first candidate's `finishReason` / `finishMessage`, and every `groundingMetadata`.
 *
 * Source: https://ai.google.dev/api/generate-content#generatecontentresponse
 *
 * @module
 */
import type {
  GeminiCandidate,
  GeminiGenerateContentResponse,
  GeminiGroundingMetadata,
  GeminiUsageMetadata,
} from "./types.ts";

/** The running record of one answer's first candidate, fed one response (chunk) at a time. */
export class AnswerTally {
  /** The latest `usageMetadata` (Gemini repeats the running totals; the last one is final). */
  usage?: GeminiUsageMetadata;
  /** `promptFeedback.blockReason` was set: the prompt itself was blocked. */
  blocked = false;
  /** The first candidate's `finishReason`, once sent. */
  finishReason?: string;
  /** The first candidate's `finishMessage`, once sent. */
  finishMessage?: string;
  /** Every `groundingMetadata` of the first candidate, in arrival order. */
  readonly grounding: GeminiGroundingMetadata[] = [];

  /** Records what `res` says about the whole answer; returns its first candidate (to translate its parts). */
  take(res: GeminiGenerateContentResponse): GeminiCandidate | undefined {
    if (res.usageMetadata) this.usage = res.usageMetadata;
    if (res.promptFeedback?.blockReason) this.blocked = true;
    const cand = res.candidates?.[0];
    if (!cand) return undefined;
    if (cand.finishReason) this.finishReason = cand.finishReason;
    if (cand.finishMessage) this.finishMessage = cand.finishMessage;
    if (cand.groundingMetadata) this.grounding.push(cand.groundingMetadata);
    return cand;
  }
}
