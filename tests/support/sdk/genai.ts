/**
 * Google's Gen AI SDK for tests (imported by version here, not listed in `deno.json`; see
 * `tests/support/sdk/openai.ts`).
 *
 * @module
 */
export * from "npm:@google/genai@^3.3.0";
