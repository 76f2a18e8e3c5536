/**
 * Streams for models that only answer whole (image-output and TTS models): the client asked for a
 * stream, so the gateway calls `:generateContent` and turns its one answer into a one-item Gemini
 * stream, which the same translator as a real stream turns into chunks (the edge sends keep-alive
 * empty chunks while waiting). Until the first keep-alive is due nothing has been sent, so a call that
 * fails by then is answered with its real HTTP status ({@link failsEarly}), as a call without `stream` is;
 * otherwise the stream starts with the keep-alive that is due.
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

/**
 * Waits for `answer` until the first keep-alive would be due (`keepAliveMs`; 0 = no keep-alive, so
 * nothing is sent before the answer: waits for it). A call that fails by then throws its error here, so
 * the edge answers with the real status (404, 429 with Retry-After) instead of a 200 stream holding an
 * error event; a later failure becomes the stream's error event.
 *
 * @returns true when the answer arrived in time, false when the keep-alive is due now (send one at once).
 * @throws whatever `answer` rejects with before `keepAliveMs` has passed.
 */
export async function failsEarly(answer: Promise<unknown>, keepAliveMs: number): Promise<boolean> {
  if (keepAliveMs <= 0) {
    await answer;
    return true;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const due = new Promise<false>((r) => timer = setTimeout(() => r(false), keepAliveMs));
  try {
    return await Promise.race([answer.then(() => true), due]);
  } finally {
    clearTimeout(timer);
  }
}

/** A stream that gives `first`, then everything `rest` gives (cancelling it cancels `rest`). */
export function startWith<T>(first: T, rest: ReadableStream<T>): ReadableStream<T> {
  const reader = rest.getReader();
  let sent = false;
  return new ReadableStream<T>({
    async pull(controller) {
      if (!sent) {
        sent = true;
        return controller.enqueue(first);
      }
      const r = await reader.read();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
