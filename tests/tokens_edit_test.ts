/**
 * Client tokens can be edited (name, models, limits, expiry) and rotated (a new secret; the old one
 * works for a grace period), not only revoked.
 */
import assert from "node:assert/strict";
import { adminApi } from "./support/admin_api.ts";
import { startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";
import { hashToken } from "../lib/http/client_auth.ts";

async function status(
  h: Parameters<typeof nativeGenerate>[0],
  token: string,
  model?: string,
): Promise<number> {
  const r = await nativeGenerate(h, { token, model });
  await r.body?.cancel();
  return r.status;
}

Deno.test("tokens: edit models, limits, expiry and name; clearing a limit with null", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const created = (await admin("POST", "/tokens", { name: "app", rpm: 1 })).json;
    const { id } = created.info;
    assert.equal(await status(h, created.token), 200);
    assert.equal(await status(h, created.token), 429, "1 request a minute");

    const edited = await admin("POST", "/tokens/update", {
      id,
      name: "app-v2",
      rpm: null,
      models: ["gemini-2.5-flash"],
      dailyTokens: 100_000,
    });
    assert.equal(edited.status, 200, JSON.stringify(edited.json));
    assert.equal(edited.json.info.name, "app-v2");
    assert.equal(edited.json.info.rpm, undefined);
    assert.deepEqual(edited.json.info.models, ["gemini-2.5-flash"]);
    assert.equal(edited.json.info.dailyTokens, 100_000);
    assert.equal(await status(h, created.token), 200, "the rate limit is gone");
    assert.equal(await status(h, created.token), 200);
    assert.equal(await status(h, created.token, "gemini-2.5-pro"), 403, "the allow-list applies");
    const listed = (await admin("GET", "/tokens")).json.tokens;
    assert.deepEqual(listed.map((t: { name: string }) => t.name), ["app-v2"]);

    await admin("POST", "/tokens", { name: "other" });
    const clash = await admin("POST", "/tokens/update", { id, name: "other" });
    assert.equal(clash.status, 409);
    assert.match(clash.json.error.message, /'other' already exists/);
    const bad = await admin("POST", "/tokens/update", { id, rpm: -3 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.details[0].fieldViolations[0].field, "rpm");

    assert.equal((await admin("POST", "/tokens/update", { id, expiresAt: 1 })).status, 200);
    assert.equal(await status(h, created.token), 401, "expired now");
    assert.equal((await admin("POST", "/tokens/update", { id, expiresAt: null })).status, 200);
    assert.equal(await status(h, created.token), 200);
    const missing = await admin("POST", "/tokens/update", { id: "nope", rpm: 5 });
    assert.equal(missing.status, 404);
  } finally {
    await h.close();
  }
});

Deno.test("tokens: rotating gives a new secret; the old one works for the grace period, then not at all", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const created = (await admin("POST", "/tokens", { name: "rotating" })).json;
    const first = created.token as string;
    const rotated = await admin("POST", "/tokens/rotate", { id: created.info.id, graceMs: 3_600_000 });
    assert.equal(rotated.status, 200);
    const second = rotated.json.token as string;
    assert.match(second, /^gwt_[0-9A-Za-z]{32}$/);
    assert.notEqual(second, first);
    assert.equal(rotated.json.info.prefix, second.slice(0, 8));
    assert.ok(rotated.json.info.previousUntil > Date.now() + 3_500_000);
    assert.equal(rotated.json.info.hash, undefined, "no hash in answers");
    assert.equal(rotated.json.info.previousHash, undefined);
    assert.equal(await status(h, second), 200);
    assert.equal(await status(h, first), 200, "within the grace period");
    const old = h.gw.tokens.resolve(hashToken(first));
    assert.equal(old?.token.expiresAt, rotated.json.info.previousUntil, "refused once the grace period ends");

    // A rotation without grace: the previous secret stops at once (and the one before it, too).
    const third = (await admin("POST", "/tokens/rotate", { id: created.info.id, graceMs: 0 })).json.token;
    assert.equal(await status(h, third), 200);
    assert.equal(await status(h, second), 401);
    assert.equal(await status(h, first), 401);

    await admin("POST", "/tokens/revoke", { id: created.info.id });
    const refused = await admin("POST", "/tokens/rotate", { id: created.info.id });
    assert.equal(refused.status, 409, "a revoked token is not brought back by a rotation");
  } finally {
    await h.close();
  }
});

Deno.test("tokens: a second rotation within the first one's grace period keeps the first old secret working until that grace ends", async () => {
  const h = await startHarness();
  const admin = adminApi(h);
  try {
    const created = (await admin("POST", "/tokens", { name: "twice" })).json;
    const first = created.token as string;
    const r1 = (await admin("POST", "/tokens/rotate", { id: created.info.id, graceMs: 3_600_000 })).json;
    const second = r1.token as string;
    // The admin was told the first secret works for another hour; rotating again (say the new secret
    // was lost before it was copied) must not cut the clients still on the first one.
    const r2 = (await admin("POST", "/tokens/rotate", { id: created.info.id, graceMs: 600_000 })).json;
    const third = r2.token as string;
    assert.equal(await status(h, third), 200);
    assert.equal(await status(h, second), 200, "the secret replaced last, within its grace period");
    assert.equal(await status(h, first), 200, "the first secret, within the grace its rotation promised");
    assert.equal(h.gw.tokens.resolve(hashToken(first))?.token.expiresAt, r1.info.previousUntil);
    assert.equal(h.gw.tokens.resolve(hashToken(second))?.token.expiresAt, r2.info.previousUntil);

    // A rotation without grace still ends every earlier secret at once.
    const fourth = (await admin("POST", "/tokens/rotate", { id: created.info.id, graceMs: 0 })).json.token;
    assert.equal(await status(h, fourth), 200);
    for (const old of [first, second, third]) assert.equal(await status(h, old), 401);
  } finally {
    await h.close();
  }
});
