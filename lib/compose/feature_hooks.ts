/**
 * Connects the feature modules (model suffixes and aliases, search, thinking, safety defaults, tools,
 * smoother, keep-alive) to the two edges, so both routes get the same behaviour from one place.
 *
 * @module
 */
import { applyRequestFeatures, bodyNeedsFeatures, requestNeedsFeatures } from "../features/apply_features.ts";
import { createKeepAliveTransform } from "../features/keep_alive.ts";
import { parseModelName } from "../features/model_names.ts";
import { createSseSmoother } from "../features/smoother.ts";
import type { Settings } from "../config/settings_schema.ts";
import type { ModelCatalog } from "../openai/models.ts";
import type { OpenAIRouteDeps } from "../../routes/openai.ts";
import type { GeminiRouteDeps } from "../../routes/gemini.ts";
import type { GeminiGenerateContentRequest } from "../openai/gemini_types.ts";

/** Hooks for both edges, reading settings on every request. */
export function featureHooks(settings: () => Settings, catalog: ModelCatalog) {
  const needs = (model: string) =>
    requestNeedsFeatures({ model, settings: settings(), knownModels: catalog.known() });
  const native: Pick<GeminiRouteDeps, "needsTransform" | "transform" | "wrapStream"> = {
    // The body may hold a client function named googleSearch, which only the body shows; the route
    // gives this hook the model alone, so generate bodies are always parsed. Requests with nothing to
    // change still go upstream byte for byte (transform returns undefined).
    needsTransform: () => true,
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
