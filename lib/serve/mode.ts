/**
 * How `main.ts` was started. Deno does not tell a module whether `deno serve` (or Deno Deploy,
 * which serves the default export) or `deno run` loaded it: `import.meta.main` is true for both
 * (denoland/deno#25179, #29447). The answer matters: under `deno serve` the runtime serves the
 * default export and a server of our own would collide with it; under `deno run` nobody serves
 * unless we do, and a default export with `fetch` only earns a warning ("did you mean to run deno
 * serve?"), which must not greet a newcomer running `deno task start`.
 *
 * @module
 */

/** `serve`: the runtime serves the default export; `run`: start our own server. */
export type ServeMode = "serve" | "run";

/**
 * Detects the mode without waiting:
 * - `DENO_AUTO_SERVE` set (Deno Deploy runs entry points this way): `serve`;
 * - on Linux, the process's command line (`/proc/self/cmdline`): `serve` when Deno's subcommand is
 *   `serve`, else `run` (also a compiled binary). Deno lets a program read its own `/proc/self` only
 *   with `--allow-all`, so `deno serve` needs `-A`;
 * - otherwise (no permission to read it, or another system): `run`, as `deno task start` starts it.
 */
export function detectServeMode(): ServeMode {
  if (Deno.env.get("DENO_AUTO_SERVE")) return "serve";
  const path = "/proc/self/cmdline";
  try {
    // Asked first, so that a run without read permission is not interrupted by a permission prompt.
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return "run";
    const argv = Deno.readTextFileSync(path).split("\0");
    // argv: [deno, subcommand, ...flags, script] or, compiled, [binary, ...args]
    return argv[1] === "serve" ? "serve" : "run";
  } catch {
    return "run";
  }
}
