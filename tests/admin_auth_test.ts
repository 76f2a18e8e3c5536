import assert from "node:assert/strict";
import { Hono } from "hono";
import { adminAuth, type AdminEnv } from "../lib/admin/auth.ts";
import { timingSafeEqual, tokenVerifier } from "../lib/admin/crypto.ts";
import type { AdminDeps } from "../lib/admin/deps.ts";
import { safeNextPath } from "../lib/admin/nav.ts";
import { SessionRevocations, signSession, verifySession } from "../lib/admin/session.ts";
import { createAdminRoutes } from "../routes/admin/admin_routes.tsx";

const secret = new TextEncoder().encode("0123456789abcdef0123456789abcdef");

function deps(over: Partial<AdminDeps> = {}): AdminDeps {
  return {
    listKeys: () => [],
    subscribe: () => () => {},
    verifyAdminToken: tokenVerifier("s3cret-token"),
    sessionSecret: secret,
    ...over,
  };
}

function adminApp(d = deps()) {
  const app = new Hono();
  app.route(
    "/admin",
    createAdminRoutes(d, { build: null, clientId: (c) => c.req.header("x-test-ip") ?? "ip" }),
  );
  return app;
}

function login(app: Hono, token: string, headers: Record<string, string> = {}) {
  return app.request("/admin/login", {
    method: "POST",
    body: new URLSearchParams({ token }),
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  });
}

Deno.test("session cookies: round trip, tampering, wrong secret, expiry", async () => {
  const now = 1_700_000_000_000;
  const value = await signSession({ sid: "abcdefghijklmnopqrstuv", expiresAt: now + 1000 }, secret);
  assert.match(value, /^abcdefghijklmnopqrstuv\.1700000001000\.[\w-]{43}$/);
  assert.deepEqual(await verifySession(value, secret, now), {
    sid: "abcdefghijklmnopqrstuv",
    expiresAt: now + 1000,
  });
  assert.equal(await verifySession(value, secret, now + 1000), null, "expired at its expiry");
  const later = value.replace(".1700000001000.", ".1800000001000.");
  assert.equal(await verifySession(later, secret, now), null, "expiry is covered by the signature");
  const otherSecret = new TextEncoder().encode("another-secret-another-secret-xx");
  assert.equal(await verifySession(value, otherSecret, now), null);
  assert.equal(
    await verifySession(value.slice(0, -1) + (value.endsWith("A") ? "B" : "A"), secret, now),
    null,
  );
  for (const bad of [undefined, "", "x.y.z", `${value}.extra`]) {
    assert.equal(await verifySession(bad, secret, now), null);
  }
  await assert.rejects(
    () => signSession({ sid: "abcdefghijklmnopqrstuv", expiresAt: 1 }, new Uint8Array(8)),
    /at least 32 random bytes/,
  );
});

Deno.test("revoked sessions are refused", async () => {
  const revocations = new SessionRevocations();
  const session = { sid: "abcdefghijklmnopqrstuv", expiresAt: Date.now() + 60_000 };
  const app = new Hono<AdminEnv>();
  app.use("*", adminAuth({ verifyToken: () => Promise.resolve(false), secret, revocations }));
  app.get("/x", (c) => c.text(c.get("admin").via));
  const cookie = `gw_admin=${await signSession(session, secret)}`;
  assert.equal(await (await app.request("/x", { headers: { cookie } })).text(), "session");
  revocations.revoke(session);
  assert.equal((await app.request("/x", { headers: { cookie } })).status, 401);
});

Deno.test("tokenVerifier compares in constant time and never accepts an empty expected token", async () => {
  const verify = tokenVerifier("abc");
  assert.equal(await verify("abc"), true);
  assert.equal(await verify("abd"), false);
  assert.equal(await verify("abcd"), false);
  assert.equal(await tokenVerifier("")(""), false);
  assert.equal(await tokenVerifier(undefined)(""), false);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
  assert.equal(timingSafeEqual(new Uint8Array([1]), new Uint8Array([1, 0])), false);
});

Deno.test("login sets an HttpOnly SameSite=Strict cookie, Secure only over https", async () => {
  const app = adminApp();
  const plain = await login(app, "s3cret-token");
  assert.equal(plain.status, 303);
  assert.equal(plain.headers.get("location"), "/admin");
  const cookie = plain.headers.get("set-cookie") ?? "";
  assert.match(
    cookie,
    /^gw_admin=[\w-]+\.\d+\.[\w-]{43}; Max-Age=43200; Path=\/admin; HttpOnly; SameSite=Strict$/,
  );
  const viaProxy = await login(app, "s3cret-token", { "x-forwarded-proto": "https" });
  assert.match(viaProxy.headers.get("set-cookie") ?? "", /; Secure/);
  const direct = await app.request("https://gw.example/admin/login", {
    method: "POST",
    body: new URLSearchParams({ token: "s3cret-token" }),
  });
  assert.match(direct.headers.get("set-cookie") ?? "", /; Secure/);

  const wrong = await login(app, "nope");
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get("set-cookie"), null);
  assert.match(await wrong.text(), /That token is not valid/);
});

Deno.test("signed-out browsers are sent to the login page; API callers get 401", async () => {
  const app = adminApp();
  const page = await app.request("/admin/keys?x=1", { headers: { accept: "text/html" } });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("location"), "/admin/login?next=%2Fadmin%2Fkeys%3Fx%3D1");
  const api = await app.request("/admin/api/keys");
  assert.equal(api.status, 401);
  assert.match((await api.json()).error.message, /Not signed in/);
  const loginPage = await app.request("/admin/login?next=%2Fadmin%2Flogs");
  const html = await loginPage.text();
  assert.match(html, /<input type="hidden" name="next" value="\/admin\/logs"\/>/);
  assert.doesNotMatch(html, /<script/);
  assert.match(loginPage.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
});

Deno.test("bearer tokens work for the JSON API without CSRF and count as failed logins", async () => {
  const app = adminApp(deps({ listKeys: () => [{ id: "k", masked: "m", state: "active", cooldowns: [] }] }));
  const ok = await app.request("/admin/api/keys", { headers: { authorization: "Bearer s3cret-token" } });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).keys[0].id, "k");
  const logout = await app.request("/admin/logout", {
    method: "POST",
    headers: { authorization: "Bearer s3cret-token" },
  });
  assert.equal(logout.status, 204);
  const bad = await app.request("/admin/api/keys", { headers: { authorization: "Bearer wrong" } });
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.get("www-authenticate"), 'Bearer realm="admin"');
  assert.equal(
    (await app.request("/admin/api/keys", { headers: { authorization: "Basic abc" } })).status,
    401,
  );
});

Deno.test("post-login redirects stay inside the admin panel", () => {
  const base = "/admin";
  assert.equal(safeNextPath("/admin/logs?x=1", base, "/admin/keys"), "/admin/logs?x=1");
  assert.equal(safeNextPath("/admin", base, "/admin/keys"), "/admin");
  for (
    const evil of ["//evil.example/admin", "https://evil.example/admin", "/administrator", "/admin\\..", 5]
  ) {
    assert.equal(safeNextPath(evil, base, "/admin/keys"), "/admin/keys", String(evil));
  }
});
