/**
 * zod 4 schemas for Anthropic Messages requests (`POST /v1/messages`, `/v1/messages/count_tokens`).
 * Permissive like Anthropic's own server for fields the gateway ignores (`cache_control`, `metadata`,
 * `context_management`, betas, citations, ...), strict on the shapes it maps; a failure is a 400 naming
 * the field (`messages[0].content[1].source.data`). Content blocks of types the gateway does not map
 * (server tool results from history, containers, ...) pass validation and are dropped by the mapper.
 *
 * Source: `@anthropic-ai/sdk` `MessageCreateParamsBase`, `ContentBlockParam`, `ToolUnion`,
 * `ThinkingConfigParam` (wire reference §G2, §G3).
 *
 * @module
 */
import { z } from "zod";

const base64Source = z.looseObject({ type: z.literal("base64"), media_type: z.string(), data: z.string() });
const urlSource = z.looseObject({ type: z.literal("url"), url: z.string() });
const fileSource = z.looseObject({ type: z.literal("file"), file_id: z.string() });
const textSource = z.looseObject({
  type: z.literal("text"),
  media_type: z.string().optional(),
  data: z.string(),
});

const textBlock = z.looseObject({ type: z.literal("text"), text: z.string() });
const imageBlock = z.looseObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [base64Source, urlSource, fileSource]),
});

/** A text or image block (inside a document's content source and a tool result). */
const simpleBlock = z.discriminatedUnion("type", [textBlock, imageBlock]);

const documentBlock = z.looseObject({
  type: z.literal("document"),
  source: z.discriminatedUnion("type", [
    base64Source,
    urlSource,
    fileSource,
    textSource,
    z.looseObject({ type: z.literal("content"), content: z.union([z.string(), z.array(simpleBlock)]) }),
  ]),
  title: z.string().nullish(),
  context: z.string().nullish(),
});

const toolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string(),
  name: z.string(),
  input: z.record(z.string(), z.unknown()).nullish(),
});

/** Blocks a tool result may hold (others, e.g. `search_result`, are read for their text). */
const toolResultContent = z.union([
  textBlock,
  imageBlock,
  documentBlock,
  z.looseObject({ type: z.string() }),
]);

const toolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(toolResultContent)]).nullish(),
  is_error: z.boolean().nullish(),
});

const thinkingBlock = z.looseObject({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string().nullish(),
});

const MAPPED_BLOCKS = ["text", "image", "document", "tool_use", "tool_result", "thinking"];

/** A content block of a type the gateway does not map (dropped): `redacted_thinking`, server tool blocks, ... */
const otherBlock = z.looseObject({
  type: z.string().refine((t) => !MAPPED_BLOCKS.includes(t), { message: "malformed content block" }),
});

const mappedBlock = z.discriminatedUnion("type", [
  textBlock,
  imageBlock,
  documentBlock,
  toolUseBlock,
  toolResultBlock,
  thinkingBlock,
]);

/** One content block of a message. */
export const contentBlockSchema = z.union([mappedBlock, otherBlock]);

/** One message; `system` messages in the middle of a conversation are what Claude Code's newest models send. */
export const messageSchema = z.looseObject({
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(contentBlockSchema)]),
});

/** A tool: a client tool (`input_schema`) or a server tool with a dated `type` (`web_search_20250305`, ...). */
export const toolSchema = z.looseObject({
  name: z.string(),
  type: z.string().nullish(),
  description: z.string().nullish(),
  input_schema: z.record(z.string(), z.unknown()).nullish(),
});

/** `disable_parallel_tool_use`: at most one `tool_use` block in the answer (auto, any, tool). */
const parallel = { disable_parallel_tool_use: z.boolean().nullish() };

const toolChoiceSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("auto"), ...parallel }),
  z.looseObject({ type: z.literal("any"), ...parallel }),
  z.looseObject({ type: z.literal("none") }),
  z.looseObject({ type: z.literal("tool"), name: z.string(), ...parallel }),
]);

const thinkingSchema = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("enabled"),
    budget_tokens: z.number().int().min(0),
    display: z.string().nullish(),
  }),
  z.looseObject({ type: z.literal("adaptive"), display: z.string().nullish() }),
  z.looseObject({ type: z.literal("disabled") }),
  z.looseObject({ type: z.literal("between_tools") }),
]);

/** Efforts of `output_config.effort`. */
export const ANTHROPIC_EFFORTS = ["low", "medium", "high", "xhigh", "max"] as const;

const outputConfigSchema = z.looseObject({
  effort: z.enum(ANTHROPIC_EFFORTS).nullish(),
  format: z.looseObject({ type: z.literal("json_schema"), schema: z.record(z.string(), z.unknown()) })
    .nullish(),
});

const systemSchema = z.union([z.string(), z.array(textBlock)]);

/** The fields `count_tokens` shares with `create`. */
const promptFields = {
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  system: systemSchema.nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  thinking: thinkingSchema.nullish(),
  output_config: outputConfigSchema.nullish(),
};

/** `POST /v1/messages` body. */
export const messagesRequestSchema = z.looseObject({
  ...promptFields,
  max_tokens: z.number().int().min(1),
  stream: z.boolean().nullish(),
  stop_sequences: z.array(z.string()).nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  top_k: z.number().int().nullish(),
});

/** `POST /v1/messages/count_tokens` body. */
export const countTokensRequestSchema = z.looseObject({ ...promptFields });

/**
 * {@link messagesRequestSchema} with zod's ahead-of-time compiled fast path (`z.compile`, https://zod.dev/compile): a valid
 * body is parsed by one generated function into the same value, anything else falls back to the schema
 * itself, so every error message stays the same. The edge parses with this; `tests/compiled_schemas_test.ts`
 * feeds both the same valid and invalid bodies and checks they agree.
 */
export const messagesRequestParser = z.compile(messagesRequestSchema);
/** {@link countTokensRequestSchema} compiled the same way (see {@link messagesRequestParser}). */
export const countTokensRequestParser = z.compile(countTokensRequestSchema);

/** A validated Messages request. */
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
/** A validated count_tokens request. */
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
/** One validated message. */
export type AnthropicMessage = z.infer<typeof messageSchema>;
/** One validated content block. */
export type ContentBlock = z.infer<typeof contentBlockSchema>;
/** A content block of a type the gateway maps. */
export type MappedBlock = z.infer<typeof mappedBlock>;

/** True for a block the gateway maps (the others are read for their text or dropped). */
export function isMappedBlock(b: ContentBlock): b is MappedBlock {
  return MAPPED_BLOCKS.includes(b.type);
}
/** One validated tool. */
export type AnthropicTool = z.infer<typeof toolSchema>;
