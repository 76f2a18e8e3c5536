/**
 * Streams for models that only answer whole (image-output and TTS models): the client asked for a stream,
 * so the gateway calls `:generateContent`, sends empty chunks while waiting (keep-alive) and then the
 * whole answer as regular `chat.completion.chunk` events, translated by the same stream translator.
 *
 * @module
 */
import { streamWholeAnswer } from "../features/keep_alive.ts";
import { type ChatStreamOptions, ChatStreamTranslator } from "./chat_stream.ts";
import { toOpenAIError } from "./errors.ts";
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

/** Options of {@link wholeAnswerStream}. */
export interface WholeAnswerStreamOptions extends ChatStreamOptions {
  /** Resolves to the upstream `generateContent` body as text. */
  answer: Promise<string>;
  /** Keep-alive interval in ms; 0 or less sends no empty chunks. */
  keepAliveMs: number;
}

const NEVER_MS = 2 ** 31 - 1;

/** Parses the `data:` payloads of translator frames into chunk objects (`[DONE]` is dropped). */
function frameObjects(frames: string[]): unknown[] {
  return frames.flatMap((f) =>
    f.split("\n").filter((l) => l.startsWith("data: ") && l !== "data: [DONE]")
      .map((l) => JSON.parse(l.slice(6)))
  );
}

/** An OpenAI SSE body: empty chunks every `keepAliveMs`, then the translated whole answer and `[DONE]`. */
export function wholeAnswerStream(o: WholeAnswerStreamOptions): ReadableStream<Uint8Array> {
  const { answer, keepAliveMs, ...options } = o;
  const t = new ChatStreamTranslator(options);
  return streamWholeAnswer({
    final: answer.then((text) => {
      const frames = [...t.onData(text), ...t.finish()];
      if (t.failed) throw Object.assign(new Error("upstream error"), { frames });
      return frameObjects(frames);
    }),
    intervalMs: keepAliveMs > 0 ? keepAliveMs : NEVER_MS,
    emptyChunk: {
      id: t.id,
      object: "chat.completion.chunk",
      created: t.created,
      model: options.model,
      choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: null }],
    },
    errorChunk: (err) => {
      const frames = (err as { frames?: string[] }).frames;
      return frames ? frameObjects(frames)[0] : toOpenAIError(err).body;
    },
  });
}
