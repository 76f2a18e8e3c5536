/**
 * Model ids as Google writes them: resource names are `models/{id}`, and an id is one path segment
 * of letters, digits, dots, dashes and underscores (`gemini-2.5-flash`, `gemini-3-pro-preview`).
 *
 * Source: https://ai.google.dev/api/models#Model (`name`: "models/{model}")
 *
 * @module
 */
import { badRequest } from "../http/errors.ts";

/** Strips a leading `models/` from a model name: `models/gemini-2.5-flash` -> `gemini-2.5-flash`. */
export function bareModel(model: string): string {
  return model.startsWith("models/") ? model.slice(7) : model;
}

const MODEL_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The bare model id to put into an upstream path (`/v1beta/models/{id}:method`).
 *
 * @throws {GatewayError} 400 (`param: "model"`) for names that could escape the path segment
 *   (slashes, `..`, spaces, ...).
 */
export function upstreamModelId(model: string): string {
  const id = bareModel(model);
  if (!MODEL_ID_RE.test(id) || id.includes("..")) {
    throw badRequest(
      "model",
      `Invalid model name '${model}': use a Gemini model id such as "gemini-2.5-flash".`,
      { code: "invalid_value" },
    );
  }
  return id;
}

/**
 * True when `model` matches one entry of a list of exact ids or `prefix*` patterns (a leading
 * `models/` on `model` is ignored): the form of every model list in the settings and allow-lists.
 */
export function matchesModelList(model: string, list: readonly string[]): boolean {
  const bare = bareModel(model);
  return list.some((p) => p.endsWith("*") ? bare.startsWith(p.slice(0, -1)) : p === bare);
}
