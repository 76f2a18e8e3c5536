/**
 * SIGTERM: the gateway stops accepting, lets a stream in flight finish, then exits 0.
 */
import assert from "node:assert/strict";
import { MockGemini } from "./support/mock_gemini.ts";
import { fakeKey } from "./support/harness.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("SIGTERM lets a stream in flight finish, refuses new connections, and exits 0", async () => {
  const mock = await MockGemini.start({ chunkDelayMs: 150 });
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: new URL("..", import.meta.url),
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: fakeKey(1),
      ALLOWED_TOKENS: "shutdown-test-token",
      ADMIN_TOKEN: "shutdown-admin-token-1",
      UPSTREAM_BASE_URL: mock.url,
      SHUTDOWN_GRACE_MS: "10000",
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
    const r = await fetch(`${base}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "x-goog-api-key": "shutdown-test-token" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "one two three four five" }] }] }),
    });
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
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await mock.close();
  }
});
