/**
 * The audit log of admin actions: who, when, from where, what changed; secrets never written.
 */
import assert from "node:assert/strict";
import { ADMIN_TOKEN, adminApi } from "./support/admin_api.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { type AuditEntry, AuditLog } from "../lib/logs/audit_log.ts";

Deno.test("audit log: admin API changes, sign-in and sign-out are recorded with who, where and what changed", async () => {
  const h = await startHarness({ env: { TRUSTED_PROXIES: "127.0.0.1" } });
  const admin = adminApi(h);
  try {
    await admin("POST", "/keys", { text: fakeKey(7), label: "added-by-test" });
    await admin("PATCH", "/settings", {
      maxAttempts: 4,
      webhookUrl: "https://hooks.example.com/a-secret-path",
    });
    const created = (await admin("POST", "/tokens", { name: "audited", rpm: 9 })).json;
    await admin("POST", "/tokens/revoke", { id: created.info.id });
    const refused = await admin("PATCH", "/settings", { maxAttempts: 0 });
    assert.equal(refused.status, 400);
    await admin("GET", "/keys"); // reads are not audited

    // A browser session: sign in (from a proxied address), then sign out.
    const login = await fetch(`${h.url}/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": "203.0.113.9" },
      body: `token=${ADMIN_TOKEN}`,
      redirect: "manual",
    });
    await login.body?.cancel();
    assert.equal(login.status, 303);
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const page = await (await fetch(`${h.url}/admin`, { headers: { cookie } })).text();
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)![1];
    const logout = await fetch(`${h.url}/admin/logout`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: `_csrf=${encodeURIComponent(csrf)}`,
      redirect: "manual",
    });
    await logout.body?.cancel();
    assert.equal(logout.status, 303);

    const entries = (await admin("GET", "/audit")).json.entries as AuditEntry[];
    const actions = entries.map((e) => e.action);
    assert.deepEqual(actions, [
      "signout",
      "signin",
      "settings.update",
      "tokens.revoke",
      "tokens.create",
      "settings.update",
      "keys.add",
    ]);
    const [signout, signin, refusedEntry, revoke, create, settings, add] = entries;
    assert.equal(signout.actor, signin.actor, "the same session");
    assert.match(signin.actor, /^session [\w-]{8}$/);
    assert.equal(signin.address, "203.0.113.9");
    assert.equal(add.actor, "API token");
    assert.equal(add.address, "127.0.0.1");
    assert.equal(add.request, "POST /keys");
    assert.match(add.summary, /^added 1 keys \(AIza…xxx7\), rejected 0$/);
    assert.match(settings.summary, /maxAttempts=4/);
    assert.match(settings.summary, /webhookUrl \(secret\)/);
    assert.equal(refusedEntry.status, 400);
    assert.match(refusedEntry.summary, /^refused: maxAttempts/);
    assert.match(create.summary, /created token 'audited' with rpm=9/);
    assert.match(revoke.summary, new RegExp(created.info.id));
    for (const e of entries) assert.ok(e.time > Date.now() - 60_000 && e.time <= Date.now());
    const all = JSON.stringify(entries);
    assert.ok(!all.includes("a-secret-path"), "secret setting values are never written");
    assert.ok(!all.includes(fakeKey(7)), "keys are masked");
    assert.ok(!all.includes(created.token), "tokens are never written");

    const first = (await admin("GET", "/audit?limit=2")).json;
    assert.equal(first.entries.length, 2);
    const rest = (await admin("GET", `/audit?limit=10&cursor=${encodeURIComponent(first.next)}`)).json;
    assert.deepEqual(rest.entries.map((e: AuditEntry) => e.action), actions.slice(2));
    const only = (await admin("GET", "/audit?action=tokens.create")).json.entries;
    assert.equal(only.length, 1);
  } finally {
    await h.close();
  }
});

Deno.test("audit log: while the store fails, entries wait in memory (listed all the same) and are stored once it works", async () => {
  const kv = await Deno.openKv(":memory:");
  let failing = true;
  let writes = 0;
  const listeners = new Set<(s: { ok: boolean }) => void>();
  const health = {
    get status() {
      return { ok: !failing };
    },
    onChange(l: (s: { ok: boolean }) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const counted = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "set" || prop === "atomic") writes++;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const log = new AuditLog({ kv: counted, health });
  const action = (n: number) => ({
    actor: "API token",
    address: "127.0.0.1",
    action: `keys.delete`,
    request: "POST /keys/delete",
    status: 503,
    summary: `refused ${n}`,
    time: 1_000 * n,
  });
  try {
    await log.record(action(1));
    await log.record(action(2));
    assert.equal(writes, 0, "no write is tried while the store fails");
    assert.deepEqual((await log.query()).entries.map((e) => e.summary), ["refused 2", "refused 1"]);
    failing = false;
    for (const l of listeners) l({ ok: true });
    await log.flush();
    const stored = [];
    for await (const e of kv.list<AuditEntry>({ prefix: ["logs", "audit"] })) stored.push(e.value.summary);
    assert.deepEqual(stored, ["refused 1", "refused 2"]);
    assert.deepEqual((await log.query()).entries.map((e) => e.summary), ["refused 2", "refused 1"], "once");
  } finally {
    await log.close();
    kv.close();
  }
});

Deno.test("audit log: a rotation records the grace period the old secret really got (the default when none is sent)", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const { id } = (await admin("POST", "/tokens", { name: "rotated" })).json.info;
    const byDefault = await admin("POST", "/tokens/rotate", { id });
    assert.equal(byDefault.status, 200);
    assert.equal(byDefault.json.info.previousUntil - byDefault.json.info.rotatedAt, 86_400_000);
    assert.equal((await admin("POST", "/tokens/rotate", { id, graceMs: 0 })).status, 200);
    const entries = (await admin("GET", "/audit?action=tokens.rotate")).json.entries;
    assert.deepEqual(entries.map((e: { summary: string }) => e.summary), [
      "rotated token 'rotated'; the old secret stops at once",
      "rotated token 'rotated'; the old secret works for 1440 more minutes",
    ]);
  } finally {
    await h.close();
  }
});
