/**
 * QA (issue 13, admin login throttle): the gateway as `main.ts` serves it (the entry point of
 * `deno task start`, Deno Deploy and `deno compile`) must tell clients apart by address, and believe
 * `X-Forwarded-For` from `TRUSTED_PROXIES`, so that a guesser on one address cannot slow down or lock
 * out the real admin on another.
 */
import assert from "node:assert/strict";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const ADMIN = "qa-real-admin-token-123456";

Deno.test("qa: main.ts throttles failed admin logins per client address (TRUSTED_PROXIES honoured); a guesser elsewhere does not lock the admin out", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: new URL("..", import.meta.url),
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      KV_PATH: ":memory:",
      ADMIN_TOKEN: ADMIN,
      // The test plays the reverse proxy on 127.0.0.1: it appends each client's address.
      TRUSTED_PROXIES: "127.0.0.1",
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  const guesses = new AbortController();
  try {
    for (let i = 0; i < 200; i++) {
      try {
        await (await fetch(`${base}/health`)).body?.cancel();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // A guesser at 203.0.113.7 sends 14 wrong admin tokens at once.
    const statuses: number[] = [];
    const flood = Array.from({ length: 14 }, async () => {
      try {
        const r = await fetch(`${base}/admin/api/keys`, {
          headers: { authorization: "Bearer wrong-guess", "x-forwarded-for": "203.0.113.7" },
          signal: guesses.signal,
        });
        await r.body?.cancel();
        statuses.push(r.status);
      } catch {
        // abandoned at the end of the test
      }
    });
    // The five free attempts come back at once.
    while (statuses.filter((s) => s === 401).length < 5) await new Promise((r) => setTimeout(r, 20));

    // The real admin, at another address behind the same proxy, is not affected.
    const admin = await fetch(`${base}/admin/api/keys`, {
      headers: { authorization: `Bearer ${ADMIN}`, "x-forwarded-for": "198.51.100.20" },
    });
    const text = await admin.text();
    assert.equal(
      admin.status,
      200,
      `the admin at 198.51.100.20 was refused because of 203.0.113.7's failures: ${admin.status} ${text}`,
    );
    guesses.abort();
    await Promise.all(flood);
  } finally {
    guesses.abort();
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
  }
});
