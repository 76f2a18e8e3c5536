/**
 * Builds Gemini `contents` from a conversation whose history carries thought signatures in separate
 * slots (Anthropic `thinking` blocks, OpenAI Responses `reasoning` items) rather than on the parts
 * themselves. The dialect mappers feed it in conversation order:
 *
 * - {@link ContentsBuilder.model} adds a part to the current model turn; a signature seen before it
 *   ({@link ContentsBuilder.signature}) goes on it, and one left at the end of a turn goes on the
 *   turn's last part (Gemini signs a part, the slot comes before or after it);
 * - {@link ContentsBuilder.toolResult} adds a `functionResponse` to the user turn that answers the
 *   current model turn (all results of one step in one Content, in call order);
 * - {@link ContentsBuilder.user} adds a user turn.
 *
 * When a Gemini 3 model turn with function calls has no signature on its first call (the client
 * dropped it, or the turn came from another model), that call gets Google's documented
 * {@link SKIP_THOUGHT_SIGNATURE}, so the request is not refused.
 *
 * Source: https://ai.google.dev/gemini-api/docs/thought-signatures, wire reference §G9, §H8, §H9.
 *
 * @module
 */
import { modelFamily } from "./model_families.ts";
import { SKIP_THOUGHT_SIGNATURE } from "./thought_signatures.ts";
import type { GeminiContent, GeminiPart } from "./types.ts";

/** Collects contents turn by turn; call {@link ContentsBuilder.finish} once at the end. */
export class ContentsBuilder {
  readonly #contents: GeminiContent[] = [];
  readonly #signaturesRequired: boolean;
  #modelTurn?: GeminiPart[];
  #resultTurn?: GeminiPart[];
  #pending?: string;

  /** `model`: the real model id, whose family says whether signatures are required. */
  constructor(model: string) {
    this.#signaturesRequired = modelFamily(model).thoughtSignatures === "required";
  }

  /** A signature for the next model part (or, when none follows, the turn's last part). */
  signature(signature: string): void {
    this.#pending = signature;
  }

  /** Adds a part to the current model turn (opening one). */
  model(part: GeminiPart): void {
    if (!this.#modelTurn) {
      this.#resultTurn = undefined;
      this.#modelTurn = [];
      this.#contents.push({ role: "model", parts: this.#modelTurn });
    }
    if (this.#pending && !part.thoughtSignature) part.thoughtSignature = this.#pending;
    this.#pending = undefined;
    this.#modelTurn.push(part);
  }

  /** Adds a `functionResponse` part (and its extra parts) to the user turn answering the model. */
  toolResult(...parts: GeminiPart[]): void {
    this.#closeModelTurn();
    if (!this.#resultTurn) {
      this.#resultTurn = [];
      this.#contents.push({ role: "user", parts: this.#resultTurn });
    }
    this.#resultTurn.push(...parts);
  }

  /** Adds a user turn (nothing when `parts` is empty). */
  user(parts: GeminiPart[]): void {
    this.#closeModelTurn();
    this.#resultTurn = undefined;
    if (parts.length) this.#contents.push({ role: "user", parts });
  }

  /** The contents, every model turn closed. */
  finish(): GeminiContent[] {
    this.#closeModelTurn();
    return this.#contents;
  }

  #closeModelTurn(): void {
    const turn = this.#modelTurn;
    if (!turn) return;
    this.#modelTurn = undefined;
    const last = turn.at(-1);
    if (this.#pending && last && !last.thoughtSignature) last.thoughtSignature = this.#pending;
    this.#pending = undefined;
    const firstCall = turn.find((p) => p.functionCall);
    if (this.#signaturesRequired && firstCall && !firstCall.thoughtSignature) {
      firstCall.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
    }
  }
}
