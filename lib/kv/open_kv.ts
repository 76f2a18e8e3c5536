/**
 * Opens Deno KV from the `KV_PATH` setting: a file path (its folder is created), `:memory:`, a KV
 * Connect URL, or the platform default on Deno Deploy.
 *
 * @module
 */

import { retryWhenBusy } from "./busy_retry.ts";

/**
 * The KV location cannot be used: its folder cannot be created (a path inside a file, no
 * permission) or the database cannot be opened (not a KV file, corrupted, unreachable). A start-up
 * error: `main.ts` prints the message, which names the path and how to fix it, and exits.
 */
export class KvOpenError extends Error {
  constructor(readonly path: string, cause: unknown) {
    super(
      `KV_PATH: cannot open "${path}": ${cause instanceof Error ? cause.message : cause}. ` +
        "Use a writable file path such as ./data/gateway.sqlite3, :memory:, or a KV Connect URL.",
      { cause },
    );
    this.name = "KvOpenError";
  }
}

/** The `KV_PATH` default: a file under `./data/` (on Deno Deploy: the database assigned to the app). */
export const DEFAULT_KV_PATH = "./data/gateway.sqlite3";

/**
 * Opens the KV database at `path`. On Deno Deploy (`DENO_DEPLOYMENT_ID` set) the default path opens
 * the database assigned to the app (`Deno.openKv()` without a path; KV needs no flag there).
 * Throws {@link KvOpenError} when the location cannot be used, or when Deno KV is not enabled
 * (`--unstable-kv`, which `deno.json` sets for every task).
 */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (typeof Deno.openKv !== "function") {
    throw new KvOpenError(
      path,
      new Error("Deno KV is not enabled in this runtime; start with --unstable-kv (deno.json sets it)"),
    );
  }
  if (Deno.env.get("DENO_DEPLOYMENT_ID") && path === DEFAULT_KV_PATH) return await Deno.openKv();
  try {
    const file = path !== ":memory:" && !/^https?:\/\//.test(path);
    if (file) {
      const dir = path.replace(/[^/\\]*$/, "");
      if (dir) await Deno.mkdir(dir, { recursive: true });
    }
    const kv = await Deno.openKv(path);
    // Workers and processes sharing a file wait for each other's write locks (lib/kv/busy_retry.ts).
    return file ? retryWhenBusy(kv) : kv;
  } catch (e) {
    throw new KvOpenError(path, e);
  }
}
