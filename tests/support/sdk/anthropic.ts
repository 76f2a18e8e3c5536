/**
 * Anthropic's SDK for tests (imported by version here, not listed in `deno.json`; see
 * `tests/support/sdk/openai.ts`).
 *
 * @module
 */
export { default } from "npm:@anthropic-ai/sdk@^1.10.0";
export * from "npm:@anthropic-ai/sdk@^1.10.0";
