/**
 * OpenAI's `GET /v1/models` and `GET /v1/models/{id}` bodies, from the ids of the model catalog
 * (`lib/pipeline/model_catalog.ts`).
 *
 * Source: https://platform.openai.com/docs/api-reference/models
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import { bareModel } from "../gemini/model_id.ts";

/** One OpenAI model object. */
export interface OpenAIModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/** One model as OpenAI lists it. */
function toModel(id: string): OpenAIModel {
  return { id, object: "model", created: 0, owned_by: "google" };
}

/** OpenAI `GET /v1/models` body. */
export function openAIModelList(ids: readonly string[]): { object: "list"; data: OpenAIModel[] } {
  return { object: "list", data: ids.map(toModel) };
}

/**
 * OpenAI `GET /v1/models/{id}` body (a leading `models/` is ignored).
 *
 * @throws {GatewayError} 404 `model_not_found` for an id that is not among `ids`.
 */
export function openAIModel(id: string, ids: readonly string[]): OpenAIModel {
  const bare = bareModel(id);
  if (!ids.includes(bare)) {
    throw new GatewayError(404, `The model \`${id}\` does not exist or you do not have access to it.`, {
      code: "model_not_found",
      param: "model",
    });
  }
  return toModel(bare);
}
