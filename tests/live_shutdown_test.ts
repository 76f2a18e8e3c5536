/**
 * SIGTERM with Live sessions open: the client gets a goAway at once, the session keeps working during
 * the grace period (new requests get 503), then closes with 1001 (going away); the gateway exits 0.
 */
import assert from "node:assert/strict";
import { MockGemini } from "./support/mock_gemini.ts";
import { fakeKey } from "./support/harness.ts";
import { connectRaw, liveUrl } from "./support/live_client.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("live: SIGTERM sends goAway, lets the session run through the grace period, then closes it with 1001", async () => {
  const mock = await MockGemini.start();
  const port = freePort();
  const token = "live-shutdown-token";
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: new URL("..", import.meta.url),
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: fakeKey(1),
      ALLOWED_TOKENS: token,
      ADMIN_TOKEN: "live-shutdown-admin-1",
      UPSTREAM_BASE_URL: mock.url,
      SHUTDOWN_GRACE_MS: "1500",
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try {
        await (await fetch(`${base}/health`)).body?.cancel();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const raw = await connectRaw(liveUrl(base, { query: { key: token } }));
    raw.send({ setup: { model: "models/gemini-live-2.5-flash-preview" } });
    await raw.waitFor((f) => "setupComplete" in f.json, "setupComplete");
    child.kill("SIGTERM");
    const away = await raw.waitFor((f) => "goAway" in f.json, "goAway");
    assert.deepEqual(away.json, { goAway: { timeLeft: "2s" } });
    const late = await fetch(`${base}/health`);
    assert.equal(late.status, 503, "new requests are refused while the session drains");
    await late.body?.cancel();
    // Still served during the grace period.
    const from = raw.frames.length;
    raw.send({
      clientContent: { turns: [{ role: "user", parts: [{ text: "after sigterm" }] }], turnComplete: true },
    });
    await raw.waitFor((f) => JSON.stringify(f.json).includes('"turnComplete":true'), "turnComplete", from);
    const closed = await raw.closed;
    assert.equal(closed.code, 1001);
    assert.match(closed.reason, /shutting down/);
    const up = mock.live.connections.at(-1)!;
    await up.ended;
    assert.equal(up.closed?.by, "client", "the gateway closed the upstream session too");
    assert.equal((await child.status).code, 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await mock.close();
  }
});
