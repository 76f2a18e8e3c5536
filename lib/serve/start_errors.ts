/**
 * Start-up errors that say what is wrong and how to fix it (a bad setting, an unusable KV
 * location): printed as one line, without a stack.
 *
 * @module
 */
import { EnvError } from "../config/env.ts";
import { KvOpenError } from "../kv/open_kv.ts";

/** The message to print for a known start-up error, or undefined for anything else (a bug: show its stack). */
export function startErrorMessage(err: unknown): string | undefined {
  return err instanceof EnvError || err instanceof KvOpenError ? `Cannot start: ${err.message}` : undefined;
}
