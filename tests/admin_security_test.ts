import assert from "node:assert/strict";
import { randomId } from "../lib/admin/crypto.ts";
import { SESSION_COOKIE, signSession } from "../lib/admin/session.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";

const ADMIN = "test-admin-token-123456";

/** Signs in through the login form; returns the cookie header and the page's CSRF token. */
async function signIn(h: Harness): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${h.url}/admin/login`, {
    method: "POST",
    body: new URLSearchParams({ token: ADMIN }),
    redirect: "manual",
  });
  assert.equal(res.status, 303);
  await res.body?.cancel();
  const cookie = res.headers.get("set-cookie")!.split(";")[0];
  const page = await fetch(`${h.url}/admin/keys`, { headers: { cookie, accept: "text/html" } });
  const html = await page.text();
  const csrf = html.match(/<meta name="csrf-token" content="([^"]+)"/)?.[1];
  assert.ok(csrf, "the page carries the CSRF meta tag");
  return { cookie, csrf };
}

async function status(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}

Deno.test("admin on a real gateway: wrong password, expired session and forged changes are refused", async () => {
  const h = await startHarness({ keys: [fakeKey(1), fakeKey(2)] });
  try {
    // Wrong password: the form answers 401 and sets no cookie; a wrong bearer token gets 401 too.
    const wrong = await fetch(`${h.url}/admin/login`, {
      method: "POST",
      body: new URLSearchParams({ token: "guess-guess-guess" }),
      redirect: "manual",
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    await wrong.body?.cancel();
    const badBearer = fetch(`${h.url}/admin/api/keys`, {
      headers: { authorization: "Bearer nope-nope-nope" },
    });
    assert.equal(await status(badBearer), 401);

    // An expired (but correctly signed) session cookie is refused on pages and on the API.
    const expired = await signSession(
      { sid: randomId(), expiresAt: Date.now() - 60_000 },
      h.gw.admin.sessionSecret,
    );
    const cookieExpired = `${SESSION_COOKIE}=${expired}`;
    const page = await fetch(`${h.url}/admin/keys`, {
      headers: { cookie: cookieExpired, accept: "text/html" },
      redirect: "manual",
    });
    assert.equal(page.status, 303);
    assert.match(page.headers.get("location") ?? "", /\/admin\/login\?next=/);
    await page.body?.cancel();
    assert.equal(await status(fetch(`${h.url}/admin/api/keys`, { headers: { cookie: cookieExpired } })), 401);
    const live = await signSession(
      { sid: randomId(), expiresAt: Date.now() + 60_000 },
      h.gw.admin.sessionSecret,
    );
    const ok = fetch(`${h.url}/admin/api/keys`, { headers: { cookie: `${SESSION_COOKIE}=${live}` } });
    assert.equal(await status(ok), 200, "the same cookie with a future expiry works");

    // Forged changes: the session cookie without (or with a wrong) CSRF token changes nothing.
    const { cookie, csrf } = await signIn(h);
    const id = keyId(fakeKey(1));
    const post = (path: string, body: unknown, headers: Record<string, string> = {}, method = "POST") =>
      fetch(`${h.url}/admin/api${path}`, {
        method,
        headers: { cookie, "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    assert.equal(await status(post("/keys/delete", { ids: [id] })), 403);
    assert.equal(await status(post("/keys/delete", { ids: [id] }, { "x-csrf-token": "forged" })), 403);
    assert.equal(await status(post("/settings", { maxAttempts: 2 }, {}, "PATCH")), 403);
    assert.equal(await status(post("/tokens", { name: "sneaky" })), 403);
    assert.ok(h.gw.pool.get(id), "the key is still there");
    assert.notEqual(h.gw.settings.current.maxAttempts, 2);
    const tokens = await (await fetch(`${h.url}/admin/api/tokens`, { headers: { cookie } })).json();
    assert.equal(tokens.tokens.some((t: { name: string }) => t.name === "sneaky"), false);

    // With the page's CSRF token (or the admin bearer token) the same changes go through.
    assert.equal(await status(post("/settings", { maxAttempts: 2 }, { "x-csrf-token": csrf }, "PATCH")), 200);
    assert.equal(h.gw.settings.current.maxAttempts, 2);
    assert.equal(await status(post("/keys/delete", { ids: [id] }, { "x-csrf-token": csrf })), 200);
    assert.equal(h.gw.pool.get(id), undefined);
    const bearer = fetch(`${h.url}/admin/api/keys/disable`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ ids: [keyId(fakeKey(2))] }),
    });
    assert.equal(await status(bearer), 200);
  } finally {
    await h.close();
  }
});
