/**
 * QA (issue 13, "Unauthenticated surfaces are bounded": "Client-token guessing runs … unthrottled …:
 * throttle failed authentications per address"). A burst of wrong client tokens from one address must
 * be slowed down or refused (429) like wrong admin tokens are, while a client on another address with
 * the right token is served.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";

/** Deno.serve hands Hono the connection info as its env: the client's address. */
const from = (ip: string) => ({ remoteAddr: { transport: "tcp", hostname: ip, port: 40000 } });

Deno.test("qa: a burst of wrong client tokens from one address is throttled; other clients are served", async () => {
  const h = await startHarness();
  const abandon = new AbortController();
  try {
    const ask = (token: string, ip: string, signal?: AbortSignal) =>
      h.gw.app.request("/v1beta/models/gemini-2.5-flash:countTokens", {
        method: "POST",
        headers: { "x-goog-api-key": token, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
        signal,
      }, from(ip));
    const statuses = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        try {
          const r = await ask(`guess-${i}-xxxxxxxxxxxx`, "203.0.113.9", abandon.signal);
          await r.body?.cancel();
          if (r.status === 429) abandon.abort();
          return r.status;
        } catch {
          return 0; // still waiting for its turn when the first 429 came: abandoned
        }
      }),
    );
    const counts: Record<number, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    assert.ok(
      (counts[429] ?? 0) + (counts[0] ?? 0) > 0,
      `60 wrong client tokens at once from one address were all let through to the token check (none refused or held back): ${
        JSON.stringify(counts)
      }`,
    );
    const other = await ask(h.token, "198.51.100.30");
    assert.equal(other.status, 200, await other.text());
  } finally {
    abandon.abort();
    await h.close();
  }
});
