/**
 * OpenAI's `GET /v1/models` and `GET /v1/models/{id}` bodies, from the ids of the model catalog
 * (`lib/pipeline/model_catalog.ts`, which also says whether a model exists).
 *
 * Source: https://platform.openai.com/docs/api-reference/models
 *
 * @module
 */

/** One OpenAI model object. */
export interface OpenAIModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/** OpenAI `GET /v1/models/{id}` body. */
export function openAIModel(id: string): OpenAIModel {
  return { id, object: "model", created: 0, owned_by: "google" };
}

/** OpenAI `GET /v1/models` body. */
export function openAIModelList(ids: readonly string[]): { object: "list"; data: OpenAIModel[] } {
  return { object: "list", data: ids.map(openAIModel) };
}
