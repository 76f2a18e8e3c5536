/**
 * Start-up errors: a bad setting or an unusable KV location stops `main.ts` with exit code 2 and a
 * message that names the problem and the fix, not a stack trace.
 */
import assert from "node:assert/strict";
import { inheritedEnv } from "./support/process.ts";
import { KvOpenError, kvStartStep, openKv } from "../lib/kv/open_kv.ts";

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

/** A real KV file with data whose pages past the header were overwritten (a damaged disk or copy). */
async function damagedKvFile(dir: string): Promise<string> {
  const path = `${dir}/damaged.sqlite3`;
  const kv = await Deno.openKv(path);
  for (let i = 0; i < 500; i++) await kv.set(["keys", `k${i}`], { id: `k${i}`, key: "x".repeat(200) });
  kv.close();
  const file = await Deno.open(path, { read: true, write: true });
  try {
    await file.seek(4096 * 2, Deno.SeekMode.Start);
    await file.write(new Uint8Array(4096 * 20).fill(0xab));
  } finally {
    file.close();
  }
  return path;
}

Deno.test("main.ts: a KV file with damaged pages is a friendly start-up error (Deno's KV would panic on it)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw_kv_" });
  try {
    const path = await damagedKvFile(dir);
    const { code, stderr } = await start({ KV_PATH: path });
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      new RegExp(`^Cannot start: KV_PATH: cannot open "${path.replaceAll("/", "\\/")}": `),
    );
    assert.match(stderr, /the database file is damaged .*restore it from a backup/);
    assert.doesNotMatch(stderr, /panicked|^\s+at /m);
    assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a KV that fails or never answers while the gateway loads its state is a start-up error", async () => {
  const failing = await kvStartStep("./x.sqlite3", Promise.reject(new TypeError("database is locked")))
    .then(() => null, (e) => e);
  assert.ok(failing instanceof KvOpenError);
  assert.equal(failing.message, `KV_PATH: cannot open "./x.sqlite3": database is locked. ${FIX}`);
  const hanging = await kvStartStep("./x.sqlite3", new Promise(() => {}), 10).then(() => null, (e) => e);
  assert.ok(hanging instanceof KvOpenError);
  assert.match(hanging.message, /no answer within 0\.01 s \(is another process holding the file\?\)/);
  assert.equal(await kvStartStep("./x.sqlite3", Promise.resolve(7)), 7);
});
