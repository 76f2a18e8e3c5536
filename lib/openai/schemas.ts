/**
 * zod 4 schemas for the OpenAI requests the gateway accepts. They are permissive (unknown fields are
 * kept and later dropped by the mappers) but reject wrong types; {@link parseOpenAI} turns failures into
 * a 400 `GatewayError` whose `param` is the offending path (e.g. `messages[0].role`).
 *
 * @module
 */
import { z } from "zod";
import { badRequest } from "../http/errors.ts";

const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const imageUrlPart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.union([z.string(), z.looseObject({ url: z.string(), detail: z.string().nullish() })]),
});
const audioPart = z.looseObject({
  type: z.literal("input_audio"),
  input_audio: z.looseObject({ data: z.string(), format: z.string() }),
});
const filePart = z.looseObject({
  type: z.literal("file"),
  file: z.looseObject({
    file_data: z.string().nullish(),
    file_id: z.string().nullish(),
    filename: z.string().nullish(),
  }),
});
const refusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

/** A user/assistant content part. */
export const contentPartSchema = z.discriminatedUnion("type", [
  textPart,
  imageUrlPart,
  audioPart,
  filePart,
  refusalPart,
]);

const content = z.union([z.string(), z.array(contentPartSchema)]);

const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal("function").optional(),
  function: z.looseObject({ name: z.string(), arguments: z.string().nullish() }),
  extra_content: z.looseObject({
    google: z.looseObject({ thought_signature: z.string().nullish() }).nullish(),
  }).nullish(),
});

/** One chat message (roles: system, developer, user, assistant, tool, legacy function). */
export const messageSchema = z.discriminatedUnion("role", [
  z.looseObject({ role: z.literal("system"), content }),
  z.looseObject({ role: z.literal("developer"), content }),
  z.looseObject({ role: z.literal("user"), content }),
  z.looseObject({
    role: z.literal("assistant"),
    content: content.nullish(),
    tool_calls: z.array(toolCall).nullish(),
    /** Images of an earlier answer in OpenRouter's `images` field (`{type: "image_url", image_url: {url}}`). */
    images: z.array(z.looseObject({ image_url: z.looseObject({ url: z.string() }) })).nullish(),
    extra_content: z.looseObject({
      google: z.looseObject({ thought_signature: z.string().nullish() }).nullish(),
    }).nullish(),
  }),
  z.looseObject({ role: z.literal("tool"), tool_call_id: z.string(), content }),
  z.looseObject({ role: z.literal("function"), name: z.string(), content: content.nullish() }),
]);

const functionTool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string(),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});
/**
 * A tool: function tools are mapped (one without `function` or its `name` is refused, never dropped);
 * other types are kept for post-processing hooks.
 */
export const toolSchema = z.union([
  functionTool,
  // Aborting, so a `function` tool that is not valid reports the function branch's issue (its path).
  z.looseObject({ type: z.string().refine((t) => t !== "function", { abort: true }) }),
]);

const toolChoice = z.union([
  z.enum(["auto", "none", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
  z.looseObject({
    type: z.literal("allowed_tools"),
    allowed_tools: z.looseObject({
      mode: z.enum(["auto", "required"]),
      tools: z.array(z.looseObject({ function: z.looseObject({ name: z.string() }).optional() })),
    }),
  }),
]);

const responseFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({ name: z.string().optional(), schema: z.unknown().optional() }),
  }),
]);

const googleExtra = z.looseObject({
  thinking_config: z.record(z.string(), z.unknown()).nullish(),
  safety_settings: z.array(z.record(z.string(), z.unknown())).nullish(),
  cached_content: z.string().nullish(),
});

/** POST /v1/chat/completions body. */
export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  top_k: z.number().int().nullish(),
  n: z.number().int().min(1).nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  seed: z.number().int().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  response_format: responseFormat.nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoice.nullish(),
  reasoning_effort: z.string().nullish(),
  google: googleExtra.nullish(),
  extra_body: z.looseObject({ google: googleExtra.nullish() }).nullish(),
});

/**
 * {@link chatRequestSchema} with zod's ahead-of-time compiled fast path (`z.compile`, https://zod.dev/compile): a valid
 * body is parsed by one generated function into the same value, anything else falls back to the schema
 * itself, so every error message stays the same. The edge parses with this; `tests/compiled_schemas_test.ts`
 * feeds both the same valid and invalid bodies and checks they agree.
 */
export const chatRequestParser = z.compile(chatRequestSchema);

/** POST /v1/embeddings body. */
export const embeddingsRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number()).min(1),
    z.array(z.array(z.number()).min(1)).min(1),
  ], {
    error: "expected a string, or a non-empty array of strings, of token ids or of token-id arrays",
  }),
  dimensions: z.number().int().min(1).nullish(),
  encoding_format: z.enum(["float", "base64"]).nullish(),
});

/** POST /v1/images/generations body. */
export const imagesRequestSchema = z.looseObject({
  prompt: z.string().min(1),
  model: z.string().nullish(),
  n: z.number().int().min(1).max(10).nullish(),
  size: z.string().nullish(),
  response_format: z.enum(["url", "b64_json"]).nullish(),
});

/** Parsed chat request. */
export type ChatRequest = z.infer<typeof chatRequestSchema>;
/** Parsed chat message. */
export type ChatMessage = z.infer<typeof messageSchema>;
/** Parsed content part. */
export type ContentPart = z.infer<typeof contentPartSchema>;
/** Parsed embeddings request. */
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;
/** Parsed images request. */
export type ImagesRequest = z.infer<typeof imagesRequestSchema>;

/** Renders a zod path as OpenAI's `param`: `messages[0].content[1].type`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (acc, seg) => typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg),
    "",
  );
}

type Issue = z.core.$ZodIssue;

/** For union failures, the issue from the branch that got furthest (longest path), else the issue itself. */
function deepestIssue(issue: Issue, base: PropertyKey[] = []): { issue: Issue; path: PropertyKey[] } {
  const path = [...base, ...issue.path];
  if (issue.code !== "invalid_union" || !issue.errors.length) return { issue, path };
  const candidates = issue.errors.filter((b) => b.length).map((b) => deepestIssue(b[0], path));
  candidates.sort((a, b) => b.path.length - a.path.length);
  return candidates[0] && candidates[0].path.length > path.length ? candidates[0] : { issue, path };
}

/** Validates `value` with `schema`; throws a 400 `GatewayError` naming the first bad field. */
export function parseOpenAI<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const { issue, path } = deepestIssue(r.error.issues[0]);
  const param = formatPath(path);
  const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
  const message = missing
    ? `Missing required parameter: '${param}'.`
    : `Invalid value for '${param || "body"}': ${issue.message}.`;
  throw badRequest(param || undefined, message, {
    code: missing
      ? "missing_required_parameter"
      : issue.code === "invalid_type"
      ? "invalid_type"
      : "invalid_value",
  });
}
