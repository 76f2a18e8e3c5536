/**
 * QA (issue 13, "Admin changes are acknowledged only once durable"; README: "while the state store
 * fails, changes answer 503 and change nothing"). The KV file is locked by another process (writes fail
 * with "database is locked" after SQLite's busy timeout, as in kv_failure_test.ts).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createGateway } from "../gateway.ts";
import { csrfTokenFor } from "../lib/admin/csrf.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { adminApi } from "./support/admin_api.ts";
import { coolDown, fakeKey, startHarness } from "./support/harness.ts";

/** Holds SQLite's write lock on `path` (as another process would) until `release`. */
function lockWrites(path: string) {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 10000");
  db.exec("BEGIN EXCLUSIVE");
  return {
    release() {
      db.exec("ROLLBACK");
      db.close();
    },
  };
}

const ADMIN = "qa-kv-admin-token-1234";
const env = (path: string) => ({
  KV_PATH: path,
  ADMIN_TOKEN: ADMIN,
  ALLOWED_TOKENS: "qa-client-token-123456",
  SYNC_INTERVAL_MS: "0",
  LOGS_ENABLED: "false",
});

Deno.test("qa: a logout while KV fails is not acknowledged as done: the session must not come back after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qa_kv_logout_" });
  const path = `${dir}/kv.sqlite3`;
  let lock: ReturnType<typeof lockWrites> | undefined;
  try {
    const a = await createGateway({ env: env(path) });
    const login = await a.app.request("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${ADMIN}`,
    });
    assert.equal(login.status, 303);
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const sid = decodeURIComponent(cookie.split("=")[1]).split(".")[0];

    lock = lockWrites(path);
    const out = await a.app.request("/admin/logout", {
      method: "POST",
      headers: { cookie, "x-csrf-token": await csrfTokenFor(sid, a.admin.sessionSecret) },
    });
    await out.body?.cancel();
    // Wait until the store reports the failed write (SQLite's busy timeout), then free the file.
    while (a.storeHealth.status.writable) await new Promise((r) => setTimeout(r, 50));
    lock.release();
    lock = undefined;
    await a.close();

    const b = await createGateway({ env: env(path) });
    try {
      const again = await b.app.request("/admin/api/keys", { headers: { cookie } });
      await again.body?.cancel();
      const acknowledged = out.status === 303 || out.status === 204;
      assert.ok(
        !acknowledged || again.status === 401,
        `logout answered ${out.status} (done) while KV failed, and after a restart the session works again ` +
          `(GET /admin/api/keys -> ${again.status})`,
      );
    } finally {
      await b.close();
    }
  } finally {
    lock?.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("qa: a key reset while KV fails answers 503 'nothing was changed' and changes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qa_kv_reset_" });
  const path = `${dir}/kv.sqlite3`;
  const h = await startHarness({ env: { KV_PATH: path, LOGS_ENABLED: "false" } });
  const admin = adminApi(h);
  const k2 = keyId(fakeKey(2));
  let lock: ReturnType<typeof lockWrites> | undefined;
  try {
    coolDown(h, k2, "gemini-2.5-flash", { ms: 600_000 });
    await h.gw.store.persistPending();
    lock = lockWrites(path);
    const r = await admin("POST", "/keys/reset", { ids: [k2] });
    assert.equal(r.status, 503, JSON.stringify(r.json));
    assert.match(r.json.error.message, /nothing was changed/);
    assert.deepEqual(
      h.gw.pool.cooldownsOf(k2).map((c) => c.model),
      ["gemini-2.5-flash"],
      "the 503 says nothing was changed, but the key's cooldown was cleared",
    );
  } finally {
    lock?.release();
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});
