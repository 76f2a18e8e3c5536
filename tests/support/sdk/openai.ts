/**
 * OpenAI's SDK for tests. Test-only packages are imported by version here, not listed in `deno.json`,
 * so `deno task start` never downloads them (see `tests/dependencies_test.ts`).
 *
 * @module
 */
export { default } from "npm:openai@^7.57.0";
export * from "npm:openai@^7.57.0";
