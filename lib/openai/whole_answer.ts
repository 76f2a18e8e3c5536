/**
 * Streams for models that only answer whole (image-output and TTS models): the client asked for a
 * stream, so the gateway calls `:generateContent` and turns its one answer into a one-item Gemini
 * stream, which the same translator as a real stream turns into chunks (the edge sends keep-alive
 * empty chunks while waiting).
 *
 * @module
 */
import { asGatewayError } from "../http/errors.ts";
import { type GeminiStreamItem, geminiStreamItem } from "../gemini/stream.ts";
import { modelFamily } from "../gemini/model_families.ts";

/**
 * True when a chat request goes to a model that answers whole: families the table marks `answersWhole`
 * (image-output and TTS models; the client's name counts too, e.g. a `-image` suffix), or a request that
 * asks for image or audio output.
 */
export function answersWhole(o: { model: string; clientModel?: string; modalities?: string[] }): boolean {
  const names = o.clientModel ? [o.model, o.clientModel] : [o.model];
  return names.some((m) => modelFamily(m).answersWhole) ||
    (o.modalities ?? []).some((m) => /^(image|audio)$/i.test(m));
}

/**
 * A one-item Gemini stream from a whole answer: the `generateContent` body (as text) once it arrives,
 * or an error item when the call fails.
 */
export function wholeAnswerItems(answer: Promise<string>): ReadableStream<GeminiStreamItem> {
  return new ReadableStream<GeminiStreamItem>({
    async start(controller) {
      try {
        controller.enqueue(geminiStreamItem(await answer));
      } catch (err) {
        controller.enqueue({ type: "error", error: asGatewayError(err) });
      }
      controller.close();
    },
  });
}
