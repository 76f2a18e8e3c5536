/**
 * Start-up errors: a bad setting or an unusable KV location stops `main.ts` with exit code 2 and a
 * message that names the problem and the fix, not a stack trace.
 */
import assert from "node:assert/strict";
import { inheritedEnv } from "./support/process.ts";
import { KvOpenError, openKv } from "../lib/kv/open_kv.ts";

/** Runs `main.ts` with `env` until it exits (it never gets to listen). */
async function start(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: new URL("..", import.meta.url),
    // Only what Deno itself needs is inherited: no KV_PATH or Deno Deploy id from the outer environment.
    env: { ...inheritedEnv(), PORT: "0", HOST: "127.0.0.1", ADMIN_TOKEN: "startup-admin-token-1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const FIX = "Use a writable file path such as ./data/gateway.sqlite3, :memory:, or a KV Connect URL.";

Deno.test("an unusable KV location is a typed start-up error naming the path and the fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw_kv_" });
  try {
    const file = `${dir}/plain.txt`;
    await Deno.writeTextFile(file, "not a database");
    for (const path of [`${file}/kv.sqlite3`, "/proc/1/no-such-dir/kv.sqlite3", file]) {
      const err = await openKv(path).then(() => null, (e) => e);
      assert.ok(err instanceof KvOpenError, `${path}: ${err}`);
      assert.equal(err.path, path);
      assert.ok(err.message.startsWith(`KV_PATH: cannot open "${path}": `), err.message);
      assert.ok(err.message.endsWith(FIX), err.message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts prints start-up errors without a stack and exits 2: KV path inside a file, folder that cannot be made, not a database; bad setting", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw_kv_" });
  try {
    const garbage = `${dir}/garbage.sqlite3`;
    await Deno.writeTextFile(garbage, "this is not a KV database, just some text");
    for (const path of ["/etc/passwd/x", "/proc/1/no-such-dir/kv.sqlite3", garbage]) {
      const { code, stderr } = await start({ KV_PATH: path });
      assert.equal(code, 2, stderr);
      assert.match(
        stderr,
        new RegExp(`^Cannot start: KV_PATH: cannot open "${path.replaceAll("/", "\\/")}": `),
      );
      assert.ok(stderr.trimEnd().endsWith(FIX), stderr);
      assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
      assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
    }
    // The other typed start-up error, a bad setting, is printed the same way.
    const bad = await start({ KV_PATH: ":memory:", PORT: "eighty" });
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(
      bad.stderr.trimEnd(),
      'Cannot start: PORT: "eighty" is not a number. Example of a good value: PORT=8000',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
