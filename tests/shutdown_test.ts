/**
 * SIGTERM: the gateway stops accepting, lets a stream in flight finish, then exits 0; a stream still open
 * when the grace period ends is written to the request log as cut.
 */
import assert from "node:assert/strict";
import { MockGemini } from "./support/mock_gemini.ts";
import { FaultUpstream } from "./support/fault_upstream.ts";
import { fakeKey } from "./support/harness.ts";
import { LogStore } from "../lib/logs/log_store.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts `main.ts` in a child process in front of `mock` (or another upstream) and waits until it answers. */
async function startMain(o: { mock: { url: string; close(): unknown }; graceMs: number; kvPath: string }) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: new URL("..", import.meta.url),
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      KV_PATH: o.kvPath,
      GEMINI_API_KEYS: fakeKey(1),
      ALLOWED_TOKENS: "shutdown-test-token",
      ADMIN_TOKEN: "shutdown-admin-token-1",
      UPSTREAM_BASE_URL: o.mock.url,
      SHUTDOWN_GRACE_MS: String(o.graceMs),
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await (await fetch(`${base}/health`)).body?.cancel();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const stream = (text: string) =>
    fetch(`${base}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "x-goog-api-key": "shutdown-test-token" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text }] }] }),
    });
  /** Kills the child if it still runs, and closes the mock. */
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await o.mock.close();
  };
  return { child, base, stream, stop };
}

Deno.test("SIGTERM lets a stream in flight finish, refuses new connections, and exits 0", async () => {
  const mock = await MockGemini.start({ chunkDelayMs: 150 });
  const { child, base, stream, stop } = await startMain({ mock, graceMs: 10_000, kvPath: ":memory:" });
  try {
    const r = await stream("one two three four five");
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? "";
    child.kill("SIGTERM");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const pieces = [...text.matchAll(/"text":"([^"]*)"/g)].map((m) => m[1]).join("");
    assert.equal(pieces, "echo: one two three four five", "the whole answer arrived after SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    await assert.rejects(fetch(`${base}/health`), "no longer accepting");
  } finally {
    await stop();
  }
});

Deno.test("SIGTERM: a stream still open when the grace period ends is logged as cut, not lost", async () => {
  const mock = await MockGemini.start({ chunkDelayMs: 1000 });
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  const { child, stream, stop } = await startMain({ mock, graceMs: 300, kvPath });
  try {
    const r = await stream("a b c d e f g h i j k l");
    const reader = r.body!.getReader();
    await reader.read();
    child.kill("SIGTERM");
    const drained = (async () => {
      try {
        while (!(await reader.read()).done) { /* the client keeps reading */ }
      } catch { /* cut */ }
    })();
    assert.equal((await child.status).code, 0);
    await drained;
    const kv = await Deno.openKv(kvPath);
    try {
      const logs = new LogStore({ kv, settings: () => ({ logsEnabled: true, logRetentionHours: 72 }) });
      const { entries } = await logs.query({});
      const cut = entries.find((e) => e.path.endsWith(":streamGenerateContent"));
      assert.ok(cut, "the cut stream is in the request log");
      assert.equal(cut.status, 503);
      assert.match(cut.error ?? "", /shut down/);
    } finally {
      kv.close();
    }
  } finally {
    await stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM: requests still waiting for their answer when the grace period ends (a stream thinking before its first byte, a unary call) are logged as cut, not lost", async () => {
  const up = FaultUpstream.start();
  up.otherwise({ kind: "stall_after_headers" });
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  const { child, base, stream, stop } = await startMain({ mock: up, graceMs: 300, kvPath });
  try {
    const thinking = stream("think long").then((r) => r.body?.cancel(), () => {});
    const unary = fetch(`${base}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": "shutdown-test-token" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "think long" }] }] }),
    }).then((r) => r.body?.cancel(), () => {});
    const calls = () => up.requests.filter((r) => /:(stream)?generateContent/i.test(r.target)).length;
    for (let i = 0; i < 500 && calls() < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(calls(), 2, "both requests reached the upstream");
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await Promise.all([thinking, unary]);
    const kv = await Deno.openKv(kvPath);
    try {
      const logs = new LogStore({ kv, settings: () => ({ logsEnabled: true, logRetentionHours: 72 }) });
      const { entries } = await logs.query({});
      for (const method of [":streamGenerateContent", ":generateContent"]) {
        const cut = entries.find((e) => e.path.endsWith(method));
        assert.ok(cut, `the ${method} request is in the request log`);
        assert.equal(cut.status, 503);
        assert.match(cut.error ?? "", /shut down/);
      }
    } finally {
      kv.close();
    }
  } finally {
    await stop();
    await Deno.remove(dir, { recursive: true });
  }
});
