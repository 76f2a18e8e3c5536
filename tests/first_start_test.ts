/**
 * First start tells the truth: where the admin token comes from (start lines and the sign-in page),
 * how to replace a lost one, valid examples in start-up errors, the README's token lengths and host
 * note, and `deno task start` pulling in no test-only packages and printing no warnings.
 */
import assert from "node:assert/strict";
import { inheritedEnv } from "./support/process.ts";
import { startLines } from "../main.ts";
import { exampleFor, readEnv } from "../lib/config/env.ts";
import { describeSettings } from "../lib/config/describe.ts";
import { settingsSchema } from "../lib/settings_schema.ts";
import { startSettingsSchema } from "../lib/config/schema.ts";
import { createGateway } from "../gateway.ts";
import { pruneLock } from "../scripts/prune_lock.ts";

const ROOT = new URL("..", import.meta.url);

/** Starts `main.ts`, reads its output until the start lines are printed, then stops it. */
async function startOnce(env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "main.ts"],
    cwd: ROOT,
    env: { ...inheritedEnv(), PORT: "0", HOST: "127.0.0.1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let stdout = "";
  const reader = child.stdout.getReader();
  while (!/Admin token/.test(stdout) || !stdout.endsWith("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += decoder.decode(value);
  }
  child.kill("SIGTERM");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += decoder.decode(value);
  }
  const stderr = decoder.decode((await new Response(child.stderr).arrayBuffer()) as ArrayBuffer);
  await child.status;
  return { stdout, stderr };
}

Deno.test("start lines: every start says where the admin token comes from; the default host is every interface", () => {
  const base = { port: 8000, keys: 3, kvPath: "./data/gateway.sqlite3" };
  const everywhere = startLines({ ...base, hostname: "0.0.0.0", admin: { source: "env" } });
  assert.equal(everywhere[0], "Gemini Gateway listening on http://localhost:8000");
  assert.match(everywhere[1], /every network interface \(HOST=0\.0\.0\.0\); set HOST=127\.0\.0\.1/);
  assert.ok(everywhere.includes("Admin token: set by ADMIN_TOKEN."));
  const local = startLines({ ...base, hostname: "127.0.0.1", admin: { source: "stored" } });
  assert.ok(!local.some((l) => /every network interface/.test(l)));
  assert.match(local.join("\n"), /generated at the first start and stored as a hash; it is not shown again/);
  assert.match(local.join("\n"), /Lost it\? Set ADMIN_TOKEN \(at least 12 characters\) and restart/);
  const fresh = startLines({
    ...base,
    hostname: "::",
    admin: { source: "generated", generated: "gw-admin-abc" },
  });
  assert.match(fresh.join("\n"), /generated at this first start, shown only once\): gw-admin-abc/);
});

Deno.test("main.ts: the first start prints the generated token once, later starts say it is stored; no warnings", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw_first_" });
  try {
    const env = { KV_PATH: `${dir}/kv.sqlite3` };
    const first = await startOnce(env);
    assert.match(
      first.stdout,
      /Admin token \(generated at this first start, shown only once\): gw-admin-[0-9a-f]{36}/,
    );
    assert.equal(first.stderr, "", "nothing a newcomer might try to fix");
    const second = await startOnce(env);
    assert.match(second.stdout, /Admin token: generated at the first start and stored as a hash/);
    assert.doesNotMatch(second.stdout, /gw-admin-/);
    assert.equal(second.stderr, "");
    const set = await startOnce({ ...env, ADMIN_TOKEN: "a-long-admin-secret" });
    assert.match(set.stdout, /Admin token: set by ADMIN_TOKEN\./);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the sign-in page says where the token comes from and how to replace a lost one", async () => {
  for (
    const [env, source, text] of [
      [{ ADMIN_TOKEN: "a-long-admin-secret" }, "env", /set in ADMIN_TOKEN on the server/],
      [{}, "generated", /generated and printed in its log at its first start/],
    ] as const
  ) {
    const gw = await createGateway({ env: { KV_PATH: ":memory:", SYNC_INTERVAL_MS: "0", ...env } });
    try {
      const html = await (await gw.app.request("/admin/login")).text();
      assert.match(html, new RegExp(`data-token-source="${source}"`));
      assert.match(html, text);
      assert.match(html, /Set (a new )?ADMIN_TOKEN .*restart the gateway/);
      assert.doesNotMatch(html, /The token is set with/, "no claim that does not hold for a generated token");
    } finally {
      await gw.close();
    }
  }
});

Deno.test("start-up errors give examples that are themselves valid, for every setting", () => {
  for (const schema of [startSettingsSchema, settingsSchema]) {
    for (const info of describeSettings(schema)) {
      const example = exampleFor(info);
      assert.doesNotThrow(() => readEnv(schema, { [info.env]: example }), `${info.env}=${example}`);
    }
  }
  const short = (() => {
    try {
      readEnv(startSettingsSchema, { ADMIN_TOKEN: "short" });
    } catch (e) {
      return (e as Error).message;
    }
  })();
  assert.equal(
    short,
    "ADMIN_TOKEN: the admin token needs at least 12 characters. Example of a good value: ADMIN_TOKEN=a-long-admin-secret",
  );
  assert.throws(
    () => readEnv(settingsSchema, { ALLOWED_TOKENS: "abc" }),
    /at least 8 characters\. Example of a good value: ALLOWED_TOKENS=my-client-token$/,
  );
});

Deno.test("README: minimum token lengths and the default host listening on every interface", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  assert.match(readme, /`ADMIN_TOKEN` needs at\s+least 12 characters/);
  assert.match(readme, /client tokens[^.]*need at\s+least 8 characters/);
  assert.match(readme, /listens on every network\s+interface \(`HOST=0\.0\.0\.0`\)/);
  assert.match(readme, /HOST=127\.0\.0\.1/);
});

Deno.test("deno task start pulls in no test-only packages: deno.json, deno.lock and the runtime code", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const imports = Object.keys(config.imports);
  for (const sdk of ["openai", "@google/genai", "playwright-core"]) {
    assert.ok(!imports.includes(sdk), `${sdk} is test-only: import it from tests/support/sdk/`);
  }
  // Every import in deno.json is used by the gateway or its build, not only by tests.
  const runtime: string[] = [];
  for (const dir of ["lib", "routes", "islands", "scripts"]) {
    for await (const f of walk(new URL(`${dir}/`, ROOT))) runtime.push(await Deno.readTextFile(f));
  }
  runtime.push(
    await Deno.readTextFile(new URL("main.ts", ROOT)),
    await Deno.readTextFile(new URL("gateway.ts", ROOT)),
  );
  const source = runtime.join("\n");
  for (const name of imports.filter((i) => !i.endsWith("/"))) {
    assert.ok(source.includes(`from "${name}`), `${name} is in deno.json but only tests use it`);
  }
  assert.doesNotMatch(source, /from "npm:/, "runtime code imports through deno.json");
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  assert.deepEqual(pruneLock(lock).dropped, [], "deno.lock holds packages only tests use");
  assert.match(config.tasks.test, /--lock=tests\/test\.lock/);
});

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) yield* walk(new URL(`${e.name}/`, dir));
    else if (/\.tsx?$/.test(e.name)) yield new URL(e.name, dir);
  }
}
