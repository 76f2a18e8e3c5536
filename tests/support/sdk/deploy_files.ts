/**
 * Readers of the deployment files for their tests: `dockerfilelint` for the Dockerfile and `yaml` for
 * docker-compose.yml (imported by version here, not listed in `deno.json`; see
 * `tests/support/sdk/openai.ts`).
 *
 * @module
 */
export { default as dockerfilelint } from "npm:dockerfilelint@^1.8.0";
export { parse as parseYaml } from "npm:yaml@^2.9.1";
