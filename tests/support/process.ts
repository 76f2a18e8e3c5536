/**
 * Running `main.ts` as a child process in tests: only what Deno itself needs is passed on from the
 * outer environment (no KV_PATH or Deno Deploy id leaking in).
 *
 * @module
 */

/** HOME, PATH and DENO_DIR from the outer environment, for a child started with `clearEnv`. */
export function inheritedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["HOME", "PATH", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}
