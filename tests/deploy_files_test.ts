/**
 * The deployment paths as files and flags: the container files (linted; the image is not built on
 * our machines, which have no Docker engine), Deno Deploy's section of deno.json, and nothing that
 * needs a flag Deno Deploy cannot set: client cancellation works without `no-legacy-abort` (this
 * suite runs with it off), KV opens where its flag is implicit, and `main.ts` serves the way Deploy
 * starts it.
 */
import assert from "node:assert/strict";
import { dockerfilelint, parseYaml } from "./support/sdk/deploy_files.ts";
import { describeSettings } from "../lib/config/describe.ts";
import { settingsSchema } from "../lib/settings_schema.ts";
import { startSettingsSchema } from "../lib/config/schema.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { freePort, startGatewayProcess } from "./support/gateway_process.ts";
import { MockGemini } from "./support/mock_gemini.ts";

const root = new URL("..", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, root));

Deno.test("Dockerfile: official Deno image, deps cached and islands built at build, non-root, data volume, health check, signals reach Deno; lint clean", () => {
  const text = read("Dockerfile");
  assert.deepEqual(dockerfilelint.run(new URL(".", root).pathname, text), [], "dockerfilelint finds nothing");
  const lines = text.split("\n").filter((l) => l && !l.startsWith("#"));
  assert.match(text, /^FROM denoland\/deno:\$\{DENO_VERSION\}$/m);
  const user = lines.findIndex((l) => /^USER deno$/.test(l));
  const install = lines.findIndex((l) => /deno install --entrypoint main\.ts/.test(l));
  const build = lines.findIndex((l) => /deno task build/.test(l));
  assert.ok(
    user >= 0 && user < install && install <= build,
    "deps cached and islands built as the non-root user",
  );
  assert.match(text, /^VOLUME \["\/app\/data"\]$/m);
  assert.match(text, /KV_PATH=\/app\/data\/gateway\.sqlite3/);
  assert.match(text, /^HEALTHCHECK .*\\\n\s+CMD \["deno", "run", .*"scripts\/healthcheck\.ts"\]$/m);
  // The image's entrypoint is tini; an exec-form CMD (no shell in between) lets SIGTERM reach Deno.
  assert.doesNotMatch(text, /^ENTRYPOINT/m);
  assert.match(text, /^CMD \["run", .*"--unstable-net", "--unstable-no-legacy-abort", "main\.ts"\]$/m);
});

Deno.test("the container's health check script exits 0 when /health answers and 1 when nothing listens", async () => {
  const h = await startHarness();
  try {
    const run = async (port: string) =>
      (await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-net=127.0.0.1", "--allow-env=PORT", "scripts/healthcheck.ts"],
        cwd: root,
        env: { PORT: port },
      }).output()).code;
    assert.equal(await run(new URL(h.url).port), 0);
    assert.equal(await run(String(freePort())), 1);
  } finally {
    await h.close();
  }
});

Deno.test("docker-compose.yml: builds the image, keeps KV on a volume, names only real settings", () => {
  const compose = parseYaml(read("docker-compose.yml"));
  const gw = compose.services.gateway;
  assert.equal(gw.build, ".");
  assert.deepEqual(gw.ports, ["8000:8000"]);
  assert.deepEqual(gw.volumes, ["gateway-data:/app/data"]);
  assert.ok("gateway-data" in compose.volumes);
  const known = new Set(
    [...describeSettings(settingsSchema), ...describeSettings(startSettingsSchema)].map((s) => s.env),
  );
  for (const name of Object.keys(gw.environment)) assert.ok(known.has(name), `${name} is a setting`);
  for (const name of ["GEMINI_API_KEYS", "ALLOWED_TOKENS", "ADMIN_TOKEN", "WORKERS"]) {
    assert.ok(name in gw.environment);
  }
  assert.ok(parseInt(gw.stop_grace_period) * 1000 > Number(gw.environment.SHUTDOWN_GRACE_MS));
});

Deno.test("deno.json: a deploy section (build bundles the islands, entry main.ts); no flag Deno Deploy cannot set", () => {
  const config = JSON.parse(read("deno.json"));
  // The suite runs with this list, as Deno Deploy and `deno serve` run the gateway: without
  // no-legacy-abort, which only the tasks that start a server set (it saves the per-request abort).
  assert.deepEqual(config.unstable, ["kv"], "only KV, which Deno Deploy enables by itself");
  assert.match(config.deploy.build, /deno task build/);
  assert.deepEqual(config.deploy.runtime, { mode: "dynamic", entrypoint: "main.ts" });
  const tasks = config.tasks as Record<string, string>;
  for (const name of ["start", "dev", "compile"]) {
    assert.match(
      tasks[name],
      /--unstable-no-legacy-abort/,
      `task ${name} serves without the per-request abort`,
    );
  }
  for (const [name, task] of Object.entries(tasks)) {
    if (!["start", "dev", "compile"].includes(name)) {
      assert.doesNotMatch(task, /no-legacy-abort/, `task ${name}`);
    }
  }
  assert.match(
    config.tasks.compile,
    /--include lib\/serve\/worker\.ts/,
    "the compiled binary has its workers",
  );
});

Deno.test("KV: a runtime without the KV flag gets a message that says so; with the flag implicit it opens", async () => {
  const script = `import { openKv } from "./lib/kv/open_kv.ts";
try { const kv = await openKv(":memory:"); await kv.set(["x"], 1); console.log("opened"); kv.close(); }
catch (e) { console.log(e.message); }`;
  // The project's imports without its "unstable" list: as a runtime that was given no KV flag.
  const config = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    config,
    JSON.stringify({ imports: JSON.parse(read("deno.json")).imports, nodeModulesDir: "none" }),
  );
  const run = async (flags: string[]) =>
    new TextDecoder().decode(
      (await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--config", config, ...flags, script],
        cwd: root,
      }).output())
        .stdout,
    );
  assert.match(await run([]), /Deno KV is not enabled in this runtime; start with --unstable-kv/);
  assert.match(await run(["--unstable-kv"]), /^opened$/m);
  await Deno.remove(config);
});

Deno.test("main.ts started as Deno Deploy starts it (DENO_AUTO_SERVE): the runtime serves the default export", async () => {
  const mock = await MockGemini.start();
  const port = freePort();
  const gw = await startGatewayProcess({
    args: ["run", "-A", "main.ts"],
    env: {
      DENO_AUTO_SERVE: "1",
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
      PORT: String(freePort()), // a server of our own would listen here, not where the runtime serves
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: fakeKey(1),
      ALLOWED_TOKENS: "auto-serve-token-1",
      UPSTREAM_BASE_URL: mock.url,
    },
    port,
  });
  try {
    const r = await fetch(`${gw.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": "auto-serve-token-1" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    assert.doesNotMatch(gw.stderr(), /address already in use|AddrInUse/i, "no second server of our own");
  } finally {
    await gw.stop();
    await mock.close();
  }
});

Deno.test("without no-legacy-abort, a client that leaves before the upstream answers cancels the upstream call", async () => {
  const h = await startHarness({ keys: [fakeKey(1)] });
  try {
    h.mock.setKey(fakeKey(1), { hang: true });
    const ctl = new AbortController();
    const sent = fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: JSON.stringify({ contents: [{ parts: [{ text: "a" }] }] }),
      signal: ctl.signal,
    }).catch(() => undefined);
    for (let i = 0; i < 100 && h.mock.liveConnections() === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(h.mock.liveConnections(), 1);
    ctl.abort();
    await sent;
    for (let i = 0; i < 100 && h.mock.liveConnections() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.mock.liveConnections(), 0, "the upstream call was cancelled");
    const mine = () => h.records.filter((r) => r.route === "gemini");
    for (let i = 0; i < 100 && !mine().length; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(mine()[0]?.status, 499);
  } finally {
    await h.close();
  }
});

Deno.test("as deno task start and the container run it, SIGUSR2 makes Deno return freed memory (DENO_USR2_MEMORY_TRIM) instead of ending the gateway", async () => {
  // After a burst of streams the JS heap is back at idle but V8 and glibc keep the pages they grew
  // (bench:streams); on SIGUSR2 with this variable Deno runs malloc_trim and V8's low-memory collection.
  // Without it, SIGUSR2's default action ends the process.
  assert.match(read("Dockerfile"), /^\s+DENO_USR2_MEMORY_TRIM=1$/m, "the image sets it");
  const start = JSON.parse(read("deno.json")).tasks.start as string;
  const words = start.split(" && ").at(-1)!.split(" ");
  const env = Object.fromEntries(
    words.slice(0, words.indexOf("deno")).map((w) => w.split("=") as [string, string]),
  );
  assert.equal(env.DENO_USR2_MEMORY_TRIM, "1", "deno task start sets it");
  const mock = await MockGemini.start();
  const gw = await startGatewayProcess({
    args: ["run", "-A", ...words.filter((a) => a.startsWith("--unstable")), "main.ts"],
    env: {
      ...env,
      WORKERS: "1",
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: fakeKey(1),
      ALLOWED_TOKENS: "usr2-trim-token-1",
      UPSTREAM_BASE_URL: mock.url,
    },
  });
  const ask = () =>
    fetch(`${gw.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": "usr2-trim-token-1" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
  try {
    assert.equal((await ask()).status, 200);
    gw.child.kill("SIGUSR2");
    // A process that SIGUSR2 ends is gone within moments; this one keeps answering.
    await new Promise((r) => setTimeout(r, 500));
    const r = await ask();
    assert.equal(r.status, 200);
    assert.ok((await r.json()).candidates?.length, "a whole answer after the signal");
    assert.equal(await gw.stop(), 0, "it still stops gently on SIGTERM");
  } finally {
    await gw.stop();
    await mock.close();
  }
});

Deno.test("as deno task start runs it (--unstable-no-legacy-abort): answers arrive whole, and a client that leaves cancels the upstream call", async () => {
  const mock = await MockGemini.start();
  const port = freePort();
  const start = JSON.parse(read("deno.json")).tasks.start as string;
  const flags = start.split(" && ").at(-1)!.split(" ").filter((a) => a.startsWith("--unstable"));
  assert.ok(flags.includes("--unstable-no-legacy-abort"));
  const gw = await startGatewayProcess({
    args: ["run", "-A", ...flags, "main.ts"],
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      WORKERS: "1",
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: fakeKey(1),
      ALLOWED_TOKENS: "start-flags-token-1",
      UPSTREAM_BASE_URL: mock.url,
    },
    port,
  });
  const call = (signal?: AbortSignal) =>
    fetch(`${gw.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": "start-flags-token-1" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
      signal,
    });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await call();
      assert.equal(r.status, 200);
      assert.ok((await r.json()).candidates?.length, "a whole answer");
    }
    mock.setKey(fakeKey(1), { hang: true });
    const ctl = new AbortController();
    const sent = call(ctl.signal).catch(() => undefined);
    for (let i = 0; i < 100 && mock.liveConnections() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(mock.liveConnections(), 1);
    ctl.abort();
    await sent;
    for (let i = 0; i < 100 && mock.liveConnections() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(mock.liveConnections(), 0, "the upstream call was cancelled");
  } finally {
    await gw.stop();
    await mock.close();
  }
});
