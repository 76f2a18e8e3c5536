/**
 * The Vercel AI SDK and its Anthropic and OpenAI providers, for tests (imported by version here, not
 * listed in `deno.json`; see `tests/support/sdk/openai.ts`).
 *
 * @module
 */
export * from "npm:ai@^7.0.173";
export { createAnthropic } from "npm:@ai-sdk/anthropic@^4.0.105";
export { createOpenAI } from "npm:@ai-sdk/openai@^4.0.118";
