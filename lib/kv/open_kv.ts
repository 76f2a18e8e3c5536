/**
 * Opens Deno KV from the `KV_PATH` setting: a file path (its folder is created), `:memory:`, a KV
 * Connect URL, or the platform default on Deno Deploy.
 *
 * @module
 */

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

/** Opens the KV database at `path`. Throws {@link KvOpenError} when the location cannot be used. */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (Deno.env.get("DENO_DEPLOYMENT_ID") && path === "./data/gateway.sqlite3") return await Deno.openKv();
  try {
    if (path !== ":memory:" && !/^https?:\/\//.test(path)) {
      const dir = path.replace(/[^/\\]*$/, "");
      if (dir) await Deno.mkdir(dir, { recursive: true });
    }
    return await Deno.openKv(path);
  } catch (e) {
    throw new KvOpenError(path, e);
  }
}
