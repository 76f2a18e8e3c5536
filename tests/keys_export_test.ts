/**
 * Keys: export (masked, or full after the admin token is entered again, audited), keys from
 * `GEMINI_API_KEYS` marked and optionally ignored after a delete, and one key shape for the panel and
 * the environment.
 */
import assert from "node:assert/strict";
import { ADMIN_TOKEN, adminApi } from "./support/admin_api.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { createGateway } from "../gateway.ts";
import { EXAMPLE_KEY, extractKeys, keyId } from "../lib/pool/key_record.ts";
import { EnvError, readEnv } from "../lib/config/env.ts";
import { startSettingsSchema } from "../lib/config/schema.ts";
import type { ApiKey } from "../lib/admin/api_types.ts";
import { startVertexHarness } from "./support/vertex_harness.ts";
import { nativeGenerate } from "./support/requests.ts";
import { fakeVertexKey } from "./support/mock_vertex.ts";

Deno.test("keys export: masked by default; full keys only with the admin token again, and audited", async () => {
  const keys = [fakeKey(1), fakeKey(2), fakeKey(3)];
  const h = await startHarness({ keys });
  const admin = adminApi(h);
  try {
    h.gw.pool.setEnabled(keyId(keys[2]), false, "test");
    await admin("POST", "/keys/update", { ids: [keyId(keys[0])], label: "prod" });
    const masked = await admin("POST", "/keys/export", { state: "all" });
    assert.equal(masked.status, 200);
    assert.equal(masked.json.count, 3);
    for (const k of keys) assert.ok(!masked.json.text.includes(k), "masked export has no full key");
    assert.match(masked.json.text, new RegExp(`^AIza…xxx1\\t${keyId(keys[0])}\\tactive\\tprod$`, "m"));

    const refused = await admin("POST", "/keys/export", { state: "valid", full: true });
    assert.equal(refused.status, 403);
    const wrong = await admin("POST", "/keys/export", { state: "valid", full: true, adminToken: "guess" });
    assert.equal(wrong.status, 403);
    const valid = await admin("POST", "/keys/export", {
      state: "valid",
      full: true,
      adminToken: ADMIN_TOKEN,
    });
    assert.equal(valid.status, 200);
    assert.deepEqual(valid.json.text.trim().split("\n"), [keys[0], keys[1]]);
    const disabled = await admin("POST", "/keys/export", {
      state: "disabled",
      full: true,
      adminToken: ADMIN_TOKEN,
    });
    assert.deepEqual(disabled.json.text.trim().split("\n"), [keys[2]]);
    // The full export pastes back as it is.
    assert.deepEqual(extractKeys(valid.json.text).keys, [keys[0], keys[1]]);

    const audit = (await admin("GET", "/audit?action=keys.export")).json.entries;
    assert.deepEqual(
      audit.map((e: { status: number; summary: string }) => [e.status, e.summary]),
      [
        [200, "exported 1 keys (disabled) IN FULL"],
        [200, "exported 2 keys (valid) IN FULL"],
        [403, audit[2].summary],
        [403, audit[3].summary],
        [200, "exported 3 keys (all) masked"],
      ],
    );
    assert.match(audit[2].summary, /^refused: Exporting full keys needs the admin token/);
    assert.ok(!JSON.stringify(audit).includes(ADMIN_TOKEN));
  } finally {
    await h.close();
  }
});

Deno.test("keys from GEMINI_API_KEYS are marked; a delete lasts until the next start unless the key is ignored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw_envkeys_" });
  const env = {
    KV_PATH: `${dir}/kv.sqlite3`,
    GEMINI_API_KEYS: `${fakeKey(1)},${fakeKey(2)}`,
    ADMIN_TOKEN: ADMIN_TOKEN,
    SYNC_INTERVAL_MS: "0",
    UPSTREAM_BASE_URL: "http://127.0.0.1:9",
  };
  const start = async () => {
    const gw = await createGateway({ env });
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await gw.app.request(`/admin/api${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return await r.json();
    };
    return { gw, call };
  };
  try {
    let { gw, call } = await start();
    await call("POST", "/keys", { text: fakeKey(3) });
    const listed = (await call("GET", "/keys")).keys as ApiKey[];
    assert.deepEqual(
      listed.map((k) => [k.masked, k.fromEnv]),
      [["AIza…xxx1", true], ["AIza…xxx2", true], ["AIza…xxx3", false]],
    );
    await call("POST", "/keys/delete", { ids: [keyId(fakeKey(1))] });
    await call("POST", "/keys/delete", { ids: [keyId(fakeKey(2))], ignoreEnv: true });
    assert.equal(gw.pool.size, 1);
    await gw.close();

    ({ gw, call } = await start());
    assert.ok(gw.pool.get(keyId(fakeKey(1))), "a plain delete lasts until the next start");
    assert.equal(gw.pool.get(keyId(fakeKey(2))), undefined, "an ignored key stays out");
    // Pasting the ignored key again brings it back for good.
    await call("POST", "/keys", { text: fakeKey(2) });
    await gw.close();
    ({ gw, call } = await start());
    assert.ok(gw.pool.get(keyId(fakeKey(2))));
    assert.equal(gw.pool.size, 3);
    await gw.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the panel and GEMINI_API_KEYS accept the same key shapes", () => {
  const samples = [
    fakeKey(1),
    EXAMPLE_KEY,
    "AIza" + "_-".repeat(17) + "Z",
    "AIzaTooShort",
    "AIza" + "x".repeat(36),
    "sk-proj-0123456789abcdefghijklmnopqrstuv",
    "ya29.a0AfH6SMBexample-oauth-token-not-a-key",
    "AIza" + "x".repeat(34) + "!",
    fakeVertexKey(1),
    `vertex:${fakeVertexKey(2)}`,
    `vertex:${fakeKey(3)}`,
    "vertex:AQ.short",
    "AQ." + "x".repeat(20),
  ];
  for (const sample of samples) {
    const pasted = extractKeys(sample).keys.length === 1;
    let fromEnv = true;
    try {
      readEnv(startSettingsSchema, { GEMINI_API_KEYS: sample });
    } catch (e) {
      assert.ok(e instanceof EnvError);
      assert.ok(!e.message.includes(sample), "the start error masks the key");
      fromEnv = false;
    }
    assert.equal(fromEnv, pasted, sample);
  }
  assert.throws(
    () =>
      readEnv(startSettingsSchema, {
        GEMINI_API_KEYS: `${fakeKey(1)},sk-proj-0123456789abcdefghijklmnopqrstuv`,
      }),
    /GEMINI_API_KEYS: sk-p…stuv does not start with AIza.*Example of a good value: GEMINI_API_KEYS=AIza/,
  );
});

Deno.test("Vertex AI express keys: exported, backed up and restored as Vertex keys, masked in every listing", async () => {
  const a = await startVertexHarness({ gemini: 1, vertex: 1, env: { KEY_KIND_ROUTING: "vertex_first" } });
  const b = await startHarness({ keys: [fakeKey(9)] });
  const adminA = adminApi(a);
  const adminB = adminApi(b);
  const vertexId = keyId(`vertex:${a.vertexKeys[0]}`);
  try {
    const listed = (await adminA("GET", "/keys")).json.keys as ApiKey[];
    assert.deepEqual(
      listed.map((k) => [k.id, k.kind, k.fromEnv]),
      [[keyId(a.geminiKeys[0]), "gemini", true], [vertexId, "vertex", true]],
    );
    // The request log names the key that served with its kind, masked.
    const served = await nativeGenerate(a, { token: a.token });
    assert.equal(served.status, 200, await served.text());
    const logged = (await adminA("GET", "/logs")).json.entries as Array<
      { keyId?: string; keyMasked?: string }
    >;
    assert.equal(logged.find((e) => e.keyId === vertexId)?.keyMasked, "vertex:AQ.A…vvv1");
    assert.ok(!JSON.stringify(logged).includes(a.vertexKeys[0]));
    const masked = (await adminA("POST", "/keys/export", { state: "all" })).json.text as string;
    assert.ok(!masked.includes(a.vertexKeys[0]), "the masked export has no full Vertex key");
    assert.match(masked, new RegExp(`^vertex:AQ\\.A…vvv1\\t${vertexId}\\tactive$`, "m"));
    const full = await adminA("POST", "/keys/export", { state: "all", full: true, adminToken: ADMIN_TOKEN });
    assert.deepEqual(full.json.text.trim().split("\n"), [a.geminiKeys[0], `vertex:${a.vertexKeys[0]}`]);
    // Imported elsewhere, the text gives the same keys of the same kinds.
    const imported = await adminB("POST", "/keys", { text: full.json.text });
    assert.equal(imported.json.added.length, 2);
    assert.equal(b.gw.pool.get(vertexId)?.kind, "vertex");
    assert.ok(!JSON.stringify(imported.json).includes(a.vertexKeys[0]), "the add answer is masked");

    await adminB("POST", "/keys/delete", { ids: [vertexId, keyId(a.geminiKeys[0])] });
    const backup = (await adminA("POST", "/backup", { adminToken: ADMIN_TOKEN })).json;
    const restored = await adminB("POST", "/restore", { backup });
    assert.equal(restored.status, 200, JSON.stringify(restored.json));
    assert.equal(restored.json.keys, 2);
    assert.equal(b.gw.pool.get(vertexId)?.kind, "vertex", "a restored Vertex key stays a Vertex key");
  } finally {
    await a.close();
    await b.close();
  }
});
