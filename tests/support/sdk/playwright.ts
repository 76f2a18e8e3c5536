/**
 * playwright-core for the browser tests (imported by version here, not listed in `deno.json`; see
 * `tests/support/sdk/openai.ts`).
 *
 * @module
 */
export * from "npm:playwright-core@^1.65.1";
