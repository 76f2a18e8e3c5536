import assert from "node:assert/strict";
import { LoginThrottle } from "../lib/admin/throttle.ts";
import { ADMIN_TOKEN } from "./support/admin_api.ts";
import { startHarness } from "./support/harness.ts";

Deno.test("throttle: 5 failures per minute per client, then a Retry-After", () => {
  let now = 0;
  const t = new LoginThrottle({ now: () => now });
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(t.check("a"), { allowed: true });
    t.fail("a");
    now += 1000;
  }
  assert.deepEqual(t.check("a"), { allowed: false, retryAfterSeconds: 55 });
  assert.deepEqual(t.check("b"), { allowed: true }, "other clients are unaffected");
  now = 60_001; // the first failure left the window
  assert.deepEqual(t.check("a"), { allowed: true });
  t.fail("a");
  assert.equal(t.check("a").allowed, false);
  t.reset("a");
  assert.deepEqual(t.check("a"), { allowed: true });
});

Deno.test("throttle forgets the oldest clients beyond maxClients", () => {
  const t = new LoginThrottle({ max: 1, maxClients: 2 });
  t.fail("a");
  t.fail("b");
  t.fail("c");
  assert.equal(t.check("a").allowed, true);
  assert.equal(t.check("c").allowed, false);
});

Deno.test("login form answers 429 with Retry-After after 5 wrong tokens, even for the right one", async () => {
  const h = await startHarness();
  try {
    // Deno.serve hands Hono the connection info as its env: the throttle keys on the client's IP.
    const from = (ip: string) => ({ remoteAddr: { transport: "tcp", hostname: ip, port: 40000 } });
    const attempt = (token: string, ip = "10.0.0.1") =>
      h.gw.app.request("/admin/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }),
      }, from(ip));
    for (let i = 0; i < 5; i++) assert.equal((await attempt("wrong")).status, 401);
    const blocked = await attempt(ADMIN_TOKEN);
    assert.equal(blocked.status, 429);
    assert.match(blocked.headers.get("retry-after") ?? "", /^\d+$/);
    assert.match(await blocked.text(), /Too many failed attempts/);
    assert.equal(blocked.headers.get("set-cookie"), null);
    assert.equal((await attempt(ADMIN_TOKEN, "10.0.0.2")).status, 303);

    const bearer = await h.gw.app.request("/admin/api/keys", {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }, from("10.0.0.1"));
    assert.equal(bearer.status, 429, "bearer attempts share the throttle");
  } finally {
    await h.close();
  }
});
