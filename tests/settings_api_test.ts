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
        label: "Max attempts",
        description: undefined,
        type: "number",
        default: 5,
        group: "upstream",
        secret: false,
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
    const stored = await h.gw.kv.get<Record<string, unknown>>(["settings", "runtime"]);
    assert.equal(stored.value?.maxAttempts, 2);

    const unknown = await admin(h, "PATCH", { nope: 1 });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.details[0].fieldViolations[0].field, "nope");
    const notObject = await admin(h, "PATCH", [1]);
    assert.equal(notObject.status, 400);
  } finally {
    await h.close();
  }
});

Deno.test("settings describer: enums list their values; nested objects are json; every field names its section", async () => {
  const { z } = await import("zod");
  const { describeSettings, settingMeta } = await import("../lib/config/describe.ts");
  const schema = z.object({
    level: z.enum(["low", "high"]).default("low").describe("How much.").register(settingMeta, {
      group: "models",
    }),
    nested: z.object({ a: z.number() }).optional().describe("Nested.").register(settingMeta, {
      group: "logs",
    }),
    list: z.array(z.object({ a: z.string() })).default([])
      .register(settingMeta, { group: "access", secret: true }),
  });
  assert.deepEqual(
    describeSettings(schema).map((
      f,
    ) => [f.name, f.env, f.type, f.enumValues, f.default, f.description, f.group, f.secret]),
    [
      ["level", "LEVEL", "enum", ["low", "high"], "low", "How much.", "models", false],
      ["nested", "NESTED", "json", undefined, undefined, "Nested.", "logs", false],
      ["list", "LIST", "json", undefined, [], "", "access", true],
    ],
  );
  assert.throws(
    () => describeSettings(z.object({ loose: z.number().default(1) })),
    /Setting loose has no section: end its schema with \.register\(settingMeta/,
  );
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

    // Proxy URLs carry credentials: the same rule applies, from the same schema metadata.
    const proxy = "socks5://user:hunter2-pass@127.0.0.1:1080";
    const set = await fetch(`${h.url}/admin/api/settings`, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ proxies: [proxy] }),
    });
    assert.equal(set.status, 200);
    const setText = await set.text();
    assert.ok(!setText.includes("hunter2"), "proxy credentials are not sent back");
    const fields: Array<{ name: string; value: unknown; secret: boolean }> = JSON.parse(setText).fields;
    const proxies = fields.find((f) => f.name === "proxies")!;
    assert.deepEqual(proxies.value, ["socks5://***@127.0.0.1:1080"]);
    assert.deepEqual(fields.filter((f) => f.secret).map((f) => f.name).sort(), [
      "allowedTokens",
      "proxies",
      "webhookUrl",
    ]);
    const keep = await fetch(`${h.url}/admin/api/settings`, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ proxies: ["socks5://***@127.0.0.1:1080", "http://127.0.0.1:3128"] }),
    });
    assert.equal(keep.status, 200);
    await keep.body?.cancel();
    assert.deepEqual(h.gw.settings.current.proxies, [proxy, "http://127.0.0.1:3128"]);
  } finally {
    await h.close();
  }
});

Deno.test("settings API: an alias named like a real model is refused with a 400 naming it; nothing stored", async () => {
  const h = await startHarness();
  try {
    const r = await admin(h, "PATCH", {
      aliases: { "gemini-2.5-flash": "gemini-2.5-pro", fast: "gemini-2.5-flash" },
    });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(
      r.json.error.message,
      /aliases\.gemini-2\.5-flash: the alias gemini-2\.5-flash is named like a real model/,
    );
    assert.equal(r.json.error.details[0].fieldViolations[0].field, "aliases.gemini-2.5-flash");
    assert.deepEqual(h.gw.settings.current.aliases, {});
    const ok = await admin(h, "PATCH", { aliases: { fast: "gemini-2.5-flash" } });
    assert.equal(ok.status, 200);
    assert.deepEqual(h.gw.settings.current.aliases, { fast: "gemini-2.5-flash" });
  } finally {
    await h.close();
  }
});
