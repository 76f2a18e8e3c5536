/**
 * How `main.ts` was started. Deno does not tell a module whether `deno serve` (or Deno Deploy,
 * which serves the default export) or `deno run` loaded it: `import.meta.main` is true for both
 * (denoland/deno#25179, #29447). The answer matters: under `deno serve` the runtime serves the
 * default export and a server of our own would collide with it; under `deno run` nobody serves
 * unless we do.
 *
 * @module
 */

/** `serve`: the runtime serves the default export; `run`: start our own server; `unknown`: see below. */
export type ServeMode = "serve" | "run" | "unknown";

/**
 * Detects the mode without waiting:
 * - `DENO_AUTO_SERVE` set (Deno Deploy runs entry points this way): `serve`;
 * - on Linux, the process's command line (`/proc/self/cmdline`, read only when read permission is
 *   already granted): `serve` when Deno's subcommand is `serve`, else `run` (also a compiled binary);
 * - otherwise `unknown`: {@link runtimeServes} settles it after the module has been evaluated.
 */
export function detectServeMode(): ServeMode {
  if (Deno.env.get("DENO_AUTO_SERVE")) return "serve";
  const path = "/proc/self/cmdline";
  try {
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return "unknown";
    const argv = Deno.readTextFileSync(path).split("\0");
    // argv: [deno, subcommand, ...flags, script] or, compiled, [binary, ...args]
    return argv[1] === "serve" ? "serve" : "run";
  } catch {
    return "unknown";
  }
}

/**
 * For the `unknown` mode: resolves true when the runtime starts serving the default export right
 * after the main module is evaluated (it calls `Deno.serve` then), false when nothing did by the
 * next macrotask. Call it during the main module's evaluation.
 */
export function runtimeServes(): Promise<boolean> {
  const original = Deno.serve;
  let called = false;
  const spy = ((...args: Parameters<typeof Deno.serve>) => {
    called = true;
    return original(...args);
  }) as typeof Deno.serve;
  Object.defineProperty(Deno, "serve", { value: spy, configurable: true, writable: true });
  return new Promise((resolve) => {
    setTimeout(() => {
      Object.defineProperty(Deno, "serve", { value: original, configurable: true, writable: true });
      resolve(called);
    }, 0);
  });
}
