/**
 * Opens Deno KV from the `KV_PATH` setting: a file path (its folder is created), `:memory:`, a KV
 * Connect URL, or the platform default on Deno Deploy.
 *
 * @module
 */

/** Opens the KV database at `path`. */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (Deno.env.get("DENO_DEPLOYMENT_ID") && path === "./data/gateway.sqlite3") return await Deno.openKv();
  if (path !== ":memory:" && !/^https?:\/\//.test(path)) {
    const dir = path.replace(/[^/\\]*$/, "");
    if (dir) await Deno.mkdir(dir, { recursive: true });
  }
  try {
    return await Deno.openKv(path);
  } catch (e) {
    throw new Error(
      `KV_PATH: cannot open "${path}": ${
        e instanceof Error ? e.message : e
      }. Use a writable file path such as ./data/gateway.sqlite3, :memory:, or a KV Connect URL.`,
    );
  }
}
