/**
 * A parser of Prometheus' text exposition format, for the `/metrics` tests (imported by version here,
 * not listed in `deno.json`; see `tests/support/sdk/openai.ts`).
 *
 * @module
 */
export { default } from "npm:parse-prometheus-text-format@^1.1.1";
