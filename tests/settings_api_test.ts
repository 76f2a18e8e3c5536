/**
 * The settings API: fields derived from the zod schema, live updates, pinned fields refused with the
 * environment variable named, and a bad value refused with the field named and nothing stored.
 */
import assert from "node:assert/strict";
import { type Harness, startHarness } from "./support/harness.ts";

async function admin(h: Harness, method: string, body?: unknown) {
  const r = await fetch(`${h.url}/admin/api/settings`, {
    method,
    headers: { authorization: "Bearer test-admin-token-123456", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

type Field = { name: string; env: string; type: string; pinned: boolean; value: unknown; default: unknown };
const field = (fields: Field[], name: string) => fields.find((f) => f.name === name)!;

Deno.test("settings API: lists every field with type, env name, default, value and pinned state", async () => {
  const h = await startHarness();
  try {
    const r = await admin(h, "GET");
    assert.equal(r.status, 200);
    const fields: Field[] = r.json.fields;
    assert.deepEqual(
      { ...field(fields, "maxAttempts"), description: undefined },
      {
        name: "maxAttempts",
        env: "MAX_ATTEMPTS",
        description: undefined,
        type: "number",
        default: 5,
        value: 5,
        pinned: false,
      },
    );
    assert.match(r.json.fields.find((f: Field) => f.name === "maxAttempts").description, /How many keys/);
    assert.equal(field(fields, "logsEnabled").type, "boolean");
    assert.equal(field(fields, "upstreamBaseUrl").type, "string");
    assert.equal(field(fields, "upstreamBaseUrl").pinned, true);
    assert.equal(field(fields, "upstreamBaseUrl").value, h.mock.url);
    assert.equal(field(fields, "hiddenModels").type, "string[]");
    assert.equal(field(fields, "aliases").type, "json");
    assert.equal(field(fields, "thinkingDefaults").type, "json");
    assert.equal(field(fields, "defaultSafetySettings").type, "json");
    assert.equal(field(fields, "maxWaitMs").pinned, true);
    assert.equal(fields.length, Object.keys(h.gw.settings.current).length);
  } finally {
    await h.close();
  }
});

Deno.test("settings API: PATCH applies at once; pinned refused naming the env var; bad value 400 naming the field, nothing stored", async () => {
  const h = await startHarness();
  try {
    const ok = await admin(h, "PATCH", { maxAttempts: 2, logRetentionHours: 5 });
    assert.equal(ok.status, 200);
    assert.equal(field(ok.json.fields, "maxAttempts").value, 2);
    assert.equal(h.gw.settings.current.maxAttempts, 2);
    assert.equal(h.gw.settings.current.logRetentionHours, 5);

    const pinned = await admin(h, "PATCH", { upstreamBaseUrl: "http://127.0.0.1:1" });
    assert.equal(pinned.status, 400);
    assert.equal(pinned.json.error.status, "INVALID_ARGUMENT");
    assert.match(pinned.json.error.message, /UPSTREAM_BASE_URL/);
    const v = pinned.json.error.details[0];
    assert.equal(v["@type"], "type.googleapis.com/google.rpc.BadRequest");
    assert.equal(v.fieldViolations[0].field, "upstreamBaseUrl");

    const bad = await admin(h, "PATCH", { maxAttempts: 3, logRetentionHours: "lots" });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.error.details[0].fieldViolations.map((f: { field: string }) => f.field), [
      "logRetentionHours",
    ]);
    assert.match(bad.json.error.message, /^logRetentionHours: /);
    assert.equal(h.gw.settings.current.maxAttempts, 2, "nothing stored when one field is bad");
    assert.equal(h.gw.settings.stored().maxAttempts, 2);

    const unknown = await admin(h, "PATCH", { nope: 1 });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.details[0].fieldViolations[0].field, "nope");
    const notObject = await admin(h, "PATCH", [1]);
    assert.equal(notObject.status, 400);
  } finally {
    await h.close();
  }
});

Deno.test("settings API: enums list their values; nested objects are json", async () => {
  const { z } = await import("zod");
  const { ChangeFeed } = await import("../lib/kv/change_feed.ts");
  const { SettingsStore } = await import("../lib/config/settings_store.ts");
  const { describeSettings } = await import("../routes/api/settings_api.ts");
  const kv = await Deno.openKv(":memory:");
  try {
    const schema = z.object({
      level: z.enum(["low", "high"]).default("low").describe("How much."),
      nested: z.object({ a: z.number() }).optional().describe("Nested."),
      list: z.array(z.object({ a: z.string() })).default([]),
    });
    const store = new SettingsStore({ kv, feed: new ChangeFeed(kv, { pollMs: 0 }), schema, pinned: {} });
    const fields = describeSettings(store, schema);
    assert.deepEqual(fields.map((f) => [f.name, f.type, f.enumValues, f.default, f.description]), [
      ["level", "enum", ["low", "high"], "low", "How much."],
      ["nested", "json", undefined, null, "Nested."],
      ["list", "json", undefined, [], ""],
    ]);
  } finally {
    kv.close();
  }
});

Deno.test("settings API: client tokens and proxy credentials are masked, and a masked value sent back is kept", async () => {
  const { startHarness } = await import("./support/harness.ts");
  const h = await startHarness({ env: { ALLOWED_TOKENS: "" } });
  try {
    const headers = { authorization: "Bearer test-admin-token-123456", "content-type": "application/json" };
    const put = await fetch(`${h.url}/admin/api/settings`, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ allowedTokens: ["first-secret-token-aaaa", "second-secret-token-bbbb"] }),
    });
    assert.equal(put.status, 200);
    const text = await put.text();
    assert.ok(!text.includes("first-secret-token"), "tokens are not sent back in full");
    const field = JSON.parse(text).fields.find((f: { name: string }) => f.name === "allowedTokens");
    assert.deepEqual(field.value, ["…aaaa", "…bbbb"]);
    // The panel sends the masked list back with one entry removed: the other keeps its real value.
    const again = await fetch(`${h.url}/admin/api/settings`, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ allowedTokens: ["…bbbb"] }),
    });
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.deepEqual(h.gw.settings.current.allowedTokens, ["second-secret-token-bbbb"]);
  } finally {
    await h.close();
  }
});
