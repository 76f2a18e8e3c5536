/**
 * The model list in Anthropic's shape (`GET /v1/models` with `anthropic-version`, and
 * `GET /v1/models/{id}`): one page `{data: [ModelInfo], has_more, first_id, last_id}` of the
 * gateway's models (Gemini's, their variants and aliases).
 *
 * Source: `@anthropic-ai/sdk` `resources/models.ts` `ModelInfo`, `core/pagination.ts` `Page`
 * (wire reference §G1).
 *
 * @module
 */

/** Anthropic's `ModelInfo` for one model id. */
export function anthropicModelInfo(id: string) {
  return {
    type: "model" as const,
    id,
    display_name: id,
    created_at: "1970-01-01T00:00:00Z",
  };
}

/** One page with every model of `ids`. */
export function anthropicModelPage(ids: readonly string[]) {
  return {
    data: ids.map(anthropicModelInfo),
    has_more: false,
    first_id: ids[0] ?? null,
    last_id: ids.at(-1) ?? null,
  };
}
