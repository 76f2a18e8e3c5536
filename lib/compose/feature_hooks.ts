/**
 * Connects the feature modules (model suffixes and aliases, search, thinking, safety defaults, tools,
 * smoother, keep-alive) to the two edges, so both routes get the same behaviour from one place.
 *
 * @module
 */
import { applyRequestFeatures, bodyNeedsFeatures, requestNeedsFeatures } from "../features/apply_features.ts";
import { createKeepAliveTransform } from "../features/keep_alive.ts";
import { parseModelName } from "../gemini/model_names.ts";
import { createSseSmoother } from "../features/smoother.ts";
import type { Settings } from "../config/settings_schema.ts";
import type { ModelCatalog } from "../openai/models.ts";
import type { OpenAIRouteDeps } from "../../routes/openai.ts";
import type { GeminiRouteDeps } from "../../routes/gemini.ts";
import type { GeminiGenerateContentRequest } from "../gemini/types.ts";

const SEARCH_NAMES = ["googleSearch", "google_search"].map((n) => new TextEncoder().encode(n));

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  for (let i = hay.indexOf(first); i >= 0 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** True when the raw request body contains a function name the gateway turns into Google Search. */
export function mentionsSearchFunction(bytes: Uint8Array | null): boolean {
  return !!bytes && SEARCH_NAMES.some((n) => indexOfBytes(bytes, n) >= 0);
}

/** Hooks for both edges, reading settings on every request. */
export function featureHooks(settings: () => Settings, catalog: ModelCatalog) {
  // Memoized per model name: the answer only changes with the settings or the known model list.
  const memo = new Map<string, boolean>();
  const memoFor: { s?: Settings; known?: ReadonlySet<string> } = {};
  const needs = (model: string) => {
    const s = settings();
    const known = catalog.known();
    if (memoFor.s !== s || memoFor.known !== known) {
      memo.clear();
      Object.assign(memoFor, { s, known });
    }
    let v = memo.get(model);
    if (v === undefined) {
      v = requestNeedsFeatures({ model, settings: s, knownModels: known });
      if (memo.size < 10_000) memo.set(model, v);
    }
    return v;
  };
  const native: Pick<GeminiRouteDeps, "needsTransform" | "transform" | "wrapStream"> = {
    // Parse the body only when the model name asks for a feature or the raw bytes mention a client
    // function named googleSearch; everything else goes upstream byte for byte without a JSON parse.
    needsTransform: (model, bytes) => needs(model) || mentionsSearchFunction(bytes),
    transform: ({ model, body, method }) => {
      if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
      if (!needs(model) && !bodyNeedsFeatures(body)) return undefined;
      const r = applyRequestFeatures({
        model,
        body: body as Record<string, unknown>,
        settings: settings(),
        knownModels: catalog.known(),
        kind: method === "countTokens" ? "countTokens" : "generateContent",
      });
      return { model: r.model, body: r.body };
    },
    wrapStream: (body) => smooth(keepAlive(body)),
  };

  function smooth(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const s = settings();
    if (!s.smoother) return body;
    return body.pipeThrough(
      createSseSmoother({
        chunkChars: s.smootherChunkChars,
        maxDelayMs: s.smootherMaxDelayMs,
        budgetMs: s.smootherBudgetMs,
      }),
    );
  }

  function keepAlive(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const ms = settings().keepAliveMs;
    return ms > 0 ? body.pipeThrough(createKeepAliveTransform({ intervalMs: ms })) : body;
  }

  const openai: Pick<
    OpenAIRouteDeps,
    "transformChat" | "resolveModel" | "beforeTranslate" | "afterTranslate"
  > = {
    resolveModel: (m) =>
      parseModelName({ name: m, knownModels: catalog.known(), settings: settings() }).model,
    transformChat: (m) => {
      const s = settings();
      const r = applyRequestFeatures({
        model: m.clientModel,
        body: m.body as unknown as Record<string, unknown>,
        settings: s,
        knownModels: catalog.known(),
      });
      m.model = r.model;
      m.body = r.body as unknown as GeminiGenerateContentRequest;
      if (r.search) m.searchLinks = s.searchLinks;
    },
    beforeTranslate: (body) => smooth(body),
    afterTranslate: (body) => keepAlive(body),
  };

  return { native, openai };
}
