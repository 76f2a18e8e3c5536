/**
 * Settings for the gateway's extra features (search, images, thinking, safety, built-in tools,
 * streaming comfort, TTS, upstream proxies). The config owner merges {@link featureSettingsSchema}
 * into the main settings schema.
 *
 * @module
 */
import { z } from "zod";
import { settingMeta } from "../config/describe.ts";

/** Proxy URL schemes Deno's `createHttpClient` accepts (socks5/socks5h verified on Deno 2.9). */
export const PROXY_SCHEMES = ["http:", "https:", "socks5:", "socks5h:"] as const;

const proxyUrl = z.string().trim().refine((s) => {
  try {
    return (PROXY_SCHEMES as readonly string[]).includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, {
  message: "Proxy must be a URL like http://host:3128, https://host:443 or socks5://user:pass@host:1080 " +
    "(supported schemes: http, https, socks5, socks5h).",
});

/**
 * Default Claude name patterns: the strongest Gemini (Google's moving `-latest` Pro alias) for Opus and
 * Sonnet names and for any other Claude name, a Flash model for Haiku names (Claude Code's small fast
 * model for side tasks).
 */
export const CLAUDE_MODEL_DEFAULTS: Readonly<Record<string, string>> = {
  "claude-*haiku*": "gemini-flash-latest",
  "claude-*opus*": "gemini-pro-latest",
  "claude-*sonnet*": "gemini-pro-latest",
  "claude-*": "gemini-pro-latest",
};

const thinkingDefault = z.object({
  thinkingBudget: z.number().int().min(-1).optional().describe(
    "Thinking token budget for Gemini 2.5 models (-1 = dynamic, 0 = off where the model allows it).",
  ),
  thinkingLevel: z.enum(["minimal", "low", "medium", "high"]).optional().describe(
    "Thinking level for Gemini 3 models (lowest level the model supports is used for -nothinking).",
  ),
  includeThoughts: z.boolean().optional().describe("Return thought summaries (thought: true parts)."),
}).describe("A thinkingConfig default for one model prefix.");

/**
 * Zod schema fragment with every feature setting (camelCase, each field described, defaults set,
 * its admin form section and secrecy registered in `settingMeta`).
 */
export const featureSettingsSchema = z.object({
  searchSuffix: z.boolean().default(true).describe(
    "Accept model names ending in -search: they add Google Search grounding (tools: [{googleSearch:{}}]).",
  ).register(settingMeta, { group: "models" }),
  searchLinks: z.boolean().default(true).describe(
    "Append the grounding sources (title + link list) to answers of searched requests on the OpenAI route.",
  ).register(settingMeta, { group: "models" }),
  imageSuffix: z.boolean().default(true).describe(
    "Accept model names ending in -image for models that can output images (adds responseModalities TEXT+IMAGE).",
  ).register(settingMeta, { group: "models" }),
  imageOutputModels: z.array(z.string()).default(["gemini-2.0-flash-exp", "gemini-2.0-flash-preview-image*"])
    .describe(
      "Base models that can output images when asked (exact ids, or a prefix ending in *). Models whose id " +
        "contains '-image' are always treated as image models.",
    ).register(settingMeta, { group: "models" }),
  thinkingSuffixes: z.boolean().default(true).describe(
    "Accept model names ending in -thinking (thinking on, thoughts returned) and -nothinking (off or minimal).",
  ).register(settingMeta, { group: "models" }),
  thinkingDefaults: z.record(z.string(), thinkingDefault).default({}).describe(
    "thinkingConfig applied when the client sent none, keyed by model prefix (longest prefix wins), " +
      'e.g. {"gemini-2.5-flash": {"thinkingBudget": 0}}.',
  ).register(settingMeta, { group: "models" }),
  aliases: z.record(z.string(), z.string()).default({}).describe(
    'Model names clients may send, mapped to a real model (suffixes allowed), e.g. {"gpt-4o": "gemini-2.5-flash"}.',
  ).register(settingMeta, { group: "models" }),
  claudeModelMap: z.record(z.string(), z.string()).default({ ...CLAUDE_MODEL_DEFAULTS }).describe(
    "Claude model names (Anthropic route: Claude Code, Anthropic SDKs) mapped to Gemini models: name patterns " +
      "(* matches any text, case-insensitive, first match wins) to a model (suffixes and aliases allowed). " +
      "Names no pattern matches (Gemini names) pass as they are.",
  ).register(settingMeta, { group: "models" }),
  responsesRetentionHours: z.number().int().min(0).max(24 * 365).default(168).describe(
    "How long responses stored by the OpenAI Responses route (store: true) are kept for GET and " +
      "previous_response_id; visible only to the client token that made them (0 = store nothing).",
  ).register(settingMeta, { group: "logs" }),
  hiddenModels: z.array(z.string()).default([]).describe(
    "Models left out of the model list (exact ids, or a prefix ending in *). They can still be called.",
  ).register(settingMeta, { group: "models" }),
  listVariants: z.boolean().default(true).describe(
    "Show the suffixed variants (-search, -thinking, -nothinking, -image) in the model list.",
  ).register(settingMeta, { group: "models" }),
  defaultSafetySettings: z.array(z.object({ category: z.string(), threshold: z.string() })).nullable()
    .default(null).describe(
      "safetySettings the gateway adds only when the client sent none (null = add nothing).",
    ).register(settingMeta, {
      group: "models",
      example: '[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_ONLY_HIGH"}]',
    }),
  codeExecutionModels: z.array(z.string()).default([]).describe(
    "Models that get the code execution tool ({codeExecution:{}}), exact ids or prefix*; skipped when " +
      "the request has function declarations (Gemini refuses that mix).",
  ).register(settingMeta, { group: "models" }),
  urlContextModels: z.array(z.string()).default([]).describe(
    "Models that get the URL context tool ({urlContext:{}}), exact ids or prefix*; skipped when the " +
      "request has function declarations.",
  ).register(settingMeta, { group: "models" }),
  retryEmptyAnswers: z.boolean().default(true).describe(
    "Retry once on another key when Gemini answers 200 with nothing in it (no content, no block reason), " +
      "on the routes that translate answers (OpenAI).",
  ).register(settingMeta, { group: "upstream" }),
  retryEmptyAnswersNative: z.boolean().default(false).describe(
    "Also retry empty answers on the native Gemini route (off: Google's answer passes through as it is).",
  ).register(settingMeta, { group: "upstream" }),
  thoughtSignatureTtlHours: z.number().min(1).max(24 * 30).default(24).describe(
    "How long the thought signatures of translated answers are kept (in KV, shared by every instance) " +
      "for the next turn; tool-call ids carry only a short reference to them.",
  ).register(settingMeta, { group: "models" }),
  smoother: z.boolean().default(false).describe(
    "Re-chunk large streamed text deltas into small, evenly paced pieces.",
  ).register(settingMeta, { group: "streaming" }),
  smootherChunkChars: z.number().int().min(1).max(10_000).default(24).describe(
    "Target size (characters) of each smoothed text piece.",
  ).register(settingMeta, { group: "streaming" }),
  smootherMaxDelayMs: z.number().int().min(0).max(1_000).default(20).describe(
    "Longest pause the smoother adds between two pieces.",
  ).register(settingMeta, { group: "streaming" }),
  smootherBudgetMs: z.number().int().min(0).max(60_000).default(3_000).describe(
    "Total delay the smoother may add to one response; after that pieces are sent at once.",
  ).register(settingMeta, { group: "streaming" }),
  keepAliveMs: z.number().int().min(0).max(120_000).default(15_000).describe(
    "On the translating routes (OpenAI), send an SSE keep-alive (comment or empty chunk) after this many ms " +
      "without output (0 = off). Native Gemini streams never get one: Google sends none, and its SDKs fail " +
      "on lines it does not send.",
  ).register(settingMeta, { group: "streaming" }),
  ttsModel: z.string().default("gemini-2.5-flash-preview-tts").describe(
    "Gemini TTS model used for OpenAI speech models (tts-1, gpt-4o-mini-tts).",
  ).register(settingMeta, { group: "models" }),
  ttsHdModel: z.string().default("gemini-2.5-pro-preview-tts").describe(
    "Gemini TTS model used for tts-1-hd.",
  ).register(settingMeta, { group: "models" }),
  proxies: z.array(proxyUrl).default([]).describe(
    "Upstream HTTP proxies (http, https, socks5). Each API key sticks to one proxy; a failing proxy is " +
      "skipped for proxyDownMs.",
  ).register(settingMeta, {
    group: "upstream",
    secret: true,
    example: "http://proxy.example:3128,socks5://user:pass@proxy.example:1080",
  }),
  proxyDownMs: z.number().int().min(1_000).max(3_600_000).default(60_000).describe(
    "How long a proxy that failed is skipped.",
  ).register(settingMeta, { group: "upstream" }),
});

/** Parsed feature settings (all defaults applied). */
export type FeatureSettings = z.infer<typeof featureSettingsSchema>;

/** Feature settings with every default applied; handy for tests and first start. */
export function defaultFeatureSettings(overrides: Partial<FeatureSettings> = {}): FeatureSettings {
  return featureSettingsSchema.parse(overrides);
}
