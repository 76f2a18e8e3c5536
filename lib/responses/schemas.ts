/**
 * zod 4 schemas for OpenAI Responses requests (`POST /v1/responses`). Permissive for fields the
 * gateway keeps or drops (`metadata`, `prompt_cache_key`, `client_metadata`, `service_tier`, ...),
 * strict on the shapes it maps; a failure is a 400 naming the field (`input[3].call_id`). Input items
 * without a `type` are messages (with a `role`) or item references (with only an `id`), as the API
 * reads them; items of types the gateway does not map are dropped by the mapper.
 *
 * Source: `openai` `ResponseCreateParamsBase`, `ResponseInputItem`, `Tool` (wire reference §H2-§H4).
 *
 * @module
 */
import { z } from "zod";

/** One content part of a message (`input_text`, `output_text`, `input_image`, `input_file`, `refusal`, ...). */
const partSchema = z.looseObject({
  type: z.string(),
  text: z.string().nullish(),
  refusal: z.string().nullish(),
  image_url: z.string().nullish(),
  file_id: z.string().nullish(),
  file_data: z.string().nullish(),
  file_url: z.string().nullish(),
  filename: z.string().nullish(),
});

const message = z.looseObject({
  type: z.literal("message"),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(partSchema)]),
  id: z.string().nullish(),
});

const functionCall = z.looseObject({
  type: z.literal("function_call"),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  namespace: z.string().nullish(),
  id: z.string().nullish(),
});

const output = z.union([z.string(), z.array(partSchema)]);

const functionCallOutput = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: z.string(),
  output,
  id: z.string().nullish(),
});

const customToolCall = z.looseObject({
  type: z.literal("custom_tool_call"),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
  id: z.string().nullish(),
});

const customToolCallOutput = z.looseObject({
  type: z.literal("custom_tool_call_output"),
  call_id: z.string(),
  output,
  id: z.string().nullish(),
});

const reasoning = z.looseObject({
  type: z.literal("reasoning"),
  id: z.string().nullish(),
  summary: z.array(z.looseObject({ text: z.string().nullish() })).nullish(),
  encrypted_content: z.string().nullish(),
});

const itemReference = z.looseObject({ type: z.literal("item_reference"), id: z.string() });

const MAPPED = [
  "message",
  "function_call",
  "function_call_output",
  "custom_tool_call",
  "custom_tool_call_output",
  "reasoning",
  "item_reference",
];

const mappedItem = z.discriminatedUnion("type", [
  message,
  functionCall,
  functionCallOutput,
  customToolCall,
  customToolCallOutput,
  reasoning,
  itemReference,
]);

/** An item of a type the gateway does not map (`web_search_call` history, ...): dropped. */
const otherItem = z.looseObject({
  type: z.string().refine((t) => !MAPPED.includes(t), { message: "malformed input item" }),
});

/** Gives typeless items their type: a message when it has a `role`, else an item reference. */
function typed(item: unknown): unknown {
  if (!item || typeof item !== "object" || Array.isArray(item) || "type" in item) return item;
  return { ...item, type: "role" in item ? "message" : "item_reference" };
}

/** One input item. */
export const inputItemSchema = z.preprocess(typed, z.union([mappedItem, otherItem]));

/** A tool (function, custom, namespace of functions, web search, or a built-in the gateway refuses). */
export const toolSchema = z.looseObject({
  type: z.string(),
  name: z.string().nullish(),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  tools: z.array(z.looseObject({
    type: z.string(),
    name: z.string().nullish(),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  })).nullish(),
});

const toolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({
    type: z.string(),
    name: z.string().nullish(),
    mode: z.enum(["auto", "required"]).nullish(),
    tools: z.array(z.looseObject({ name: z.string().nullish() })).nullish(),
  }),
]);

const formatSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    name: z.string().nullish(),
    schema: z.record(z.string(), z.unknown()),
  }),
]);

/** `POST /v1/responses` body. */
export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(inputItemSchema)]).nullish(),
  instructions: z.string().nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.looseObject({ format: formatSchema.nullish() }).nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish(), summary: z.string().nullish() }).nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  include: z.array(z.string()).nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  stream: z.boolean().nullish(),
});

/**
 * {@link responsesRequestSchema} with zod's ahead-of-time compiled fast path (`z.compile`, https://zod.dev/compile): a valid
 * body is parsed by one generated function into the same value, anything else falls back to the schema
 * itself, so every error message stays the same. The edge parses with this; `tests/compiled_schemas_test.ts`
 * feeds both the same valid and invalid bodies and checks they agree.
 */
export const responsesRequestParser = z.compile(responsesRequestSchema);

/** A validated Responses request. */
export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
/** One validated input item. */
export type InputItem = z.infer<typeof inputItemSchema>;
/** An input item of a type the gateway maps. */
export type MappedItem = z.infer<typeof mappedItem>;
/** One validated tool. */
export type ResponsesTool = z.infer<typeof toolSchema>;
/** One validated content part. */
export type InputPart = z.infer<typeof partSchema>;

/** True for an item the gateway maps (the others are dropped). */
export function isMappedItem(item: InputItem): item is MappedItem {
  return MAPPED.includes((item as { type: string }).type);
}
