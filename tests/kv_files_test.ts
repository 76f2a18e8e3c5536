/**
 * Secrets at rest: the KV file holds the API keys and the session-signing secret in plain text, so
 * the gateway creates it (and its folder, and SQLite's -wal/-shm files) readable by its owner only.
 */
import assert from "node:assert/strict";
import { createGateway } from "../gateway.ts";
import { openKv } from "../lib/kv/open_kv.ts";

const mode = async (path: string) => ((await Deno.stat(path)).mode ?? 0) & 0o777;

Deno.test("a new KV file and its folders are created owner-only (0600 / 0700), SQLite's side files too", async () => {
  const root = await Deno.makeTempDir({ prefix: "gw_kvfiles_" });
  const path = `${root}/data/state/gateway.sqlite3`;
  try {
    const gw = await createGateway({
      env: { KV_PATH: path, GEMINI_API_KEYS: "AIza" + "m".repeat(35), ADMIN_TOKEN: "files-admin-token-1" },
    });
    try {
      await gw.settings.update({ maxAttempts: 3 });
      assert.equal(await mode(`${root}/data`), 0o700);
      assert.equal(await mode(`${root}/data/state`), 0o700);
      assert.equal(await mode(path), 0o600);
      for (const side of ["-wal", "-shm"]) assert.equal(await mode(path + side), 0o600, side);
    } finally {
      await gw.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an existing KV file other users can read gets a warning that says how to fix it", async () => {
  const root = await Deno.makeTempDir({ prefix: "gw_kvfiles_" });
  const path = `${root}/old.sqlite3`;
  (await Deno.openKv(path)).close();
  await Deno.chmod(path, 0o644);
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    (await openKv(path)).close();
    assert.deepEqual(warnings, [
      `Warning: KV_PATH "${path}" can be read by other users (mode 644); it holds API keys and the admin ` +
      `session secret: run chmod 600 "${path}".`,
    ]);
    await Deno.chmod(path, 0o600);
    (await openKv(path)).close();
    assert.equal(warnings.length, 1, "no warning for an owner-only file");
  } finally {
    console.warn = warn;
    await Deno.remove(root, { recursive: true });
  }
});
