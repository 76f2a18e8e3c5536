import assert from "node:assert/strict";
import { Hono } from "hono";
import { adminAuth, type AdminEnv } from "../lib/admin/auth.ts";
import { safeNextPath } from "../lib/admin/nav.ts";
import { SessionRevocations, signSession, verifySession } from "../lib/admin/session.ts";
import { LoginThrottle } from "../lib/admin/throttle.ts";
import { loadAdminSecrets } from "../lib/config/admin_secrets.ts";
import { ChangeFeed } from "../lib/kv/change_feed.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { timingSafeEqual } from "../lib/secrets/timing_safe_equal.ts";
import { ADMIN_TOKEN } from "./support/admin_api.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";

const secret = new TextEncoder().encode("0123456789abcdef0123456789abcdef");

/** Runs `fn` against a real gateway with one key; requests go in-process through `gw.app.request`. */
async function withGateway(fn: (app: Hono, h: Harness) => Promise<void>) {
  const h = await startHarness({ keys: [fakeKey(1)] });
  try {
    await fn(h.gw.app, h);
  } finally {
    await h.close();
  }
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
  const kv = await Deno.openKv(":memory:");
  try {
    const revocations = new SessionRevocations({ kv, feed: new ChangeFeed(kv, { pollMs: 0 }) });
    const session = { sid: "abcdefghijklmnopqrstuv", expiresAt: Date.now() + 60_000 };
    const app = new Hono<AdminEnv>();
    app.use(
      "*",
      adminAuth({
        verifyToken: () => Promise.resolve(false),
        secret,
        loginPath: "/admin/login",
        revocations,
        throttle: new LoginThrottle(),
      }),
    );
    app.get("/x", (c) => c.text(c.get("admin").via));
    const cookie = `gw_admin=${await signSession(session, secret)}`;
    assert.equal(await (await app.request("/x", { headers: { cookie } })).text(), "session");
    await revocations.revoke(session);
    assert.equal((await app.request("/x", { headers: { cookie } })).status, 401);
  } finally {
    kv.close();
  }
});

Deno.test("secrets compare in constant time; the admin token check never accepts an empty token", async () => {
  assert.equal(timingSafeEqual("abc", "abc"), true);
  assert.equal(timingSafeEqual("abc", "abd"), false);
  assert.equal(timingSafeEqual("abc", "abcd"), false);
  assert.equal(timingSafeEqual("", ""), true);
  const kv = await Deno.openKv(":memory:");
  try {
    const fixed = await loadAdminSecrets(kv, "s3cret-token-123");
    assert.equal(fixed.verify("s3cret-token-123"), true);
    assert.equal(fixed.verify("s3cret-token-124"), false);
    assert.equal(fixed.verify("s3cret-token-1234"), false);
    assert.equal(fixed.verify(""), false);
    const generated = await loadAdminSecrets(kv, undefined);
    assert.ok(generated.generated);
    assert.equal(generated.verify(generated.generated), true);
    assert.equal(generated.verify(""), false);
  } finally {
    kv.close();
  }
});

Deno.test("login sets an HttpOnly SameSite=Strict cookie, Secure only over https", async () => {
  await withGateway(async (app) => {
    const plain = await login(app, ADMIN_TOKEN);
    assert.equal(plain.status, 303);
    assert.equal(plain.headers.get("location"), "/admin");
    const cookie = plain.headers.get("set-cookie") ?? "";
    assert.match(
      cookie,
      /^gw_admin=[\w-]+\.\d+\.[\w-]{43}; Max-Age=43200; Path=\/admin; HttpOnly; SameSite=Strict$/,
    );
    const viaProxy = await login(app, ADMIN_TOKEN, { "x-forwarded-proto": "https" });
    assert.match(viaProxy.headers.get("set-cookie") ?? "", /; Secure/);
    const direct = await app.request("https://gw.example/admin/login", {
      method: "POST",
      body: new URLSearchParams({ token: ADMIN_TOKEN }),
    });
    assert.match(direct.headers.get("set-cookie") ?? "", /; Secure/);

    const wrong = await login(app, "nope");
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.match(await wrong.text(), /That token is not valid/);
  });
});

Deno.test("signed-out browsers are sent to the login page; API callers get 401", async () => {
  await withGateway(async (app) => {
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
});

Deno.test("bearer tokens work for the JSON API without CSRF and count as failed logins", async () => {
  await withGateway(async (app) => {
    const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const ok = await app.request("/admin/api/keys", { headers: bearer });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).keys[0].id, keyId(fakeKey(1)));
    const logout = await app.request("/admin/logout", { method: "POST", headers: bearer });
    assert.equal(logout.status, 204);
    const bad = await app.request("/admin/api/keys", { headers: { authorization: "Bearer wrong" } });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get("www-authenticate"), 'Bearer realm="admin"');
    assert.equal(
      (await app.request("/admin/api/keys", { headers: { authorization: "Basic abc" } })).status,
      401,
    );
  });
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
