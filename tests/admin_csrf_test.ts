import assert from "node:assert/strict";
import { Hono } from "hono";
import { adminAuth, type AdminEnv } from "../lib/admin/auth.ts";
import { csrfProtect, csrfTokenFor, verifyCsrfToken } from "../lib/admin/csrf.ts";
import { SessionRevocations, signSession } from "../lib/admin/session.ts";
import { LoginThrottle } from "../lib/admin/throttle.ts";
import { ChangeFeed } from "../lib/kv/change_feed.ts";

const secret = new TextEncoder().encode("csrf-secret-csrf-secret-csrf-sec");
const sid = "sessionid-aaaaaaaaaaaa";
const kv = await Deno.openKv(":memory:");

function app() {
  const a = new Hono<AdminEnv>();
  a.use(
    "*",
    adminAuth({
      verifyToken: (t) => Promise.resolve(t === "tok"),
      secret,
      loginPath: "/admin/login",
      revocations: new SessionRevocations({ kv, feed: new ChangeFeed(kv, { pollMs: 0 }) }),
      throttle: new LoginThrottle(),
    }),
  );
  a.use("*", csrfProtect({ secret }));
  a.get("/page", (c) => c.text(c.get("admin").csrfToken ?? ""));
  a.post("/act", async (c) => c.text(`done ${JSON.stringify(await c.req.parseBody())}`));
  return a;
}

async function cookie() {
  return `gw_admin=${await signSession({ sid, expiresAt: Date.now() + 60_000 }, secret)}`;
}

Deno.test("CSRF tokens are derived from the session and verified in constant time", async () => {
  const token = await csrfTokenFor(sid, secret);
  assert.match(token, /^[\w-]{43}$/);
  assert.equal(await csrfTokenFor(sid, secret), token);
  assert.notEqual(await csrfTokenFor("sessionid-bbbbbbbbbbbb", secret), token);
  assert.equal(await verifyCsrfToken(sid, token, secret), true);
  assert.equal(await verifyCsrfToken("sessionid-bbbbbbbbbbbb", token, secret), false);
  assert.equal(await verifyCsrfToken(sid, token.slice(1), secret), false);
});

Deno.test("state-changing requests from a session need the CSRF token", async () => {
  const a = app();
  const headers = { cookie: await cookie() };
  const token = await (await a.request("/page", { headers })).text();
  assert.equal(token, await csrfTokenFor(sid, secret), "adminAuth exposes the session's token");

  const missing = await a.request("/act", { method: "POST", headers });
  assert.equal(missing.status, 403);
  assert.match((await missing.json()).error.message, /x-csrf-token header or the _csrf form field/);

  const wrong = await a.request("/act", { method: "POST", headers: { ...headers, "x-csrf-token": "nope" } });
  assert.equal(wrong.status, 403);
  await wrong.body?.cancel();

  const viaHeader = await a.request("/act", {
    method: "POST",
    headers: { ...headers, "x-csrf-token": token },
  });
  assert.equal(viaHeader.status, 200);
  await viaHeader.body?.cancel();

  const viaForm = await a.request("/act", {
    method: "POST",
    headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: token, name: "x" }),
  });
  assert.equal(
    await viaForm.text(),
    `done {"_csrf":"${token}","name":"x"}`,
    "the handler can still read the form",
  );

  for (const method of ["PUT", "PATCH", "DELETE"]) {
    assert.equal((await a.request("/act", { method, headers })).status, 403, method);
  }
});

Deno.test("bearer requests need no CSRF token", async () => {
  const res = await app().request("/act", { method: "POST", headers: { authorization: "Bearer tok" } });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});
