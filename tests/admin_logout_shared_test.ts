/**
 * Logging out ends the session on every gateway sharing the KV database, and after a restart.
 */
import assert from "node:assert/strict";
import { createGateway, type Gateway } from "../gateway.ts";
import { csrfTokenFor } from "../lib/admin/csrf.ts";

const ADMIN = "shared-admin-token-1234";

function env(path: string) {
  return { KV_PATH: path, ADMIN_TOKEN: ADMIN, ALLOWED_TOKENS: "client-token-123456", SYNC_INTERVAL_MS: "50" };
}

async function waitFor(cond: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const keysStatus = async (gw: Gateway, cookie: string) => {
  const r = await gw.app.request("/admin/api/keys", { headers: { cookie } });
  await r.body?.cancel();
  return r.status;
};

Deno.test("a logout on one gateway ends the session on the others and after a restart", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite3`;
  const a = await createGateway({ env: env(path) });
  const b = await createGateway({ env: env(path) });
  try {
    const login = await a.app.request("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${ADMIN}`,
    });
    assert.equal(login.status, 303);
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    assert.equal(await keysStatus(b, cookie), 200, "the session works on the other gateway");
    const sid = decodeURIComponent(cookie.split("=")[1]).split(".")[0];
    const out = await a.app.request("/admin/logout", {
      method: "POST",
      headers: { cookie, "x-csrf-token": await csrfTokenFor(sid, a.admin.sessionSecret) },
    });
    assert.ok(out.status === 303 || out.status === 204, String(out.status));
    assert.equal(await keysStatus(a, cookie), 401);
    await waitFor(async () => (await keysStatus(b, cookie)) === 401);
    await a.close();
    await b.close();
    const c = await createGateway({ env: env(path) });
    try {
      assert.equal(await keysStatus(c, cookie), 401, "still refused after a restart");
    } finally {
      await c.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
