/**
 * Every way to run the gateway on all cores: `deno task start`'s command with several workers,
 * `deno serve --parallel main.ts`, and `deno run main.ts` without the flag workers need. Each worker
 * is a gateway of its own on the shared KV; `/health` names the one that answered.
 */
import assert from "node:assert/strict";
import { MockGemini } from "./support/mock_gemini.ts";
import { fakeKey } from "./support/harness.ts";
import { freePort, type GatewayProcess, startGatewayProcess } from "./support/gateway_process.ts";
import { takeLease } from "../lib/cluster/lease.ts";

const TOKEN = "run-modes-token-123";

function env(dir: string, mockUrl: string): Record<string, string> {
  return {
    KV_PATH: `${dir}/kv.sqlite3`,
    GEMINI_API_KEYS: [fakeKey(1), fakeKey(2)].join(","),
    ALLOWED_TOKENS: TOKEN,
    ADMIN_TOKEN: "run-modes-admin-123",
    UPSTREAM_BASE_URL: mockUrl,
  };
}

/** Asks `/health` on new connections until `n` different gateways answered (bounded). */
async function instances(gw: GatewayProcess, n: number): Promise<{ ids: Set<string>; gateways: number }> {
  const ids = new Set<string>();
  let gateways = 0;
  for (let i = 0; i < 200 && ids.size < n; i++) {
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    const body = await (await fetch(`${gw.url}/health`, { client })).json();
    client.close();
    if (body.instance) ids.add(body.instance);
    gateways = Math.max(gateways, body.gateways ?? 0);
  }
  return { ids, gateways };
}

async function generate(gw: GatewayProcess): Promise<number> {
  const r = await fetch(`${gw.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": TOKEN },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
  });
  await r.body?.cancel();
  return r.status;
}

async function withMock(fn: (dir: string, mock: MockGemini) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const mock = await MockGemini.start();
  try {
    await fn(dir, mock);
  } finally {
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno task start with WORKERS=2: two gateways serve one port; SIGTERM exits 0", async () => {
  await withMock(async (dir, mock) => {
    const gw = await startGatewayProcess({
      args: ["run", "-A", "--unstable-net", "main.ts"],
      env: { ...env(dir, mock.url), WORKERS: "2" },
      ready: /workers: 2/,
    });
    let code;
    try {
      const { ids, gateways } = await instances(gw, 2);
      assert.equal(ids.size, 2, `two workers answered: ${gw.stdout()} ${gw.stderr()}`);
      assert.equal(gateways, 2);
      assert.equal(await generate(gw), 200);
    } finally {
      code = await gw.stop();
    }
    assert.equal(code, 0, `stdout: ${gw.stdout()}\nstderr: ${gw.stderr()}`);
  });
});

Deno.test("deno serve --parallel main.ts: every worker serves its own gateway on the shared KV", async () => {
  await withMock(async (dir, mock) => {
    const port = freePort();
    const gw = await startGatewayProcess({
      args: ["serve", "-A", "--parallel", "--port", String(port), "--host", "127.0.0.1", "main.ts"],
      env: { ...env(dir, mock.url), DENO_JOBS: "2" },
      port,
      ready: /listening on/,
    });
    try {
      const { ids, gateways } = await instances(gw, 2);
      assert.equal(ids.size, 2, `two workers answered: ${gw.stdout()} ${gw.stderr()}`);
      assert.equal(gateways, 2);
      assert.equal(await generate(gw), 200);
      assert.doesNotMatch(gw.stderr(), /address already in use|error/i);
    } finally {
      await gw.stop();
    }
  });
});

Deno.test("deno run main.ts without --unstable-net serves with one worker and says why", async () => {
  await withMock(async (dir, mock) => {
    const gw = await startGatewayProcess({
      args: ["run", "-A", "main.ts"],
      env: { ...env(dir, mock.url), WORKERS: "2" },
    });
    try {
      assert.equal(await generate(gw), 200);
      assert.match(gw.stdout(), /One worker: several workers need --unstable-net/);
      assert.doesNotMatch(gw.stderr(), /did you mean to run "deno serve"/);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});

Deno.test("a background job's lease goes to one gateway per period", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const now = Date.now();
    const take = (owner: string, at = now) =>
      takeLease({ kv, job: "log-sweep", owner, ttlMs: 1000, now: at });
    assert.deepEqual([await take("a"), await take("b"), await take("a")], [true, false, false]);
    assert.equal(await take("b", now + 1001), true, "the next period goes to whoever asks first");
  } finally {
    kv.close();
  }
});
