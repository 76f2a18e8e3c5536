/**
 * A client token with a model allow-list sees only those models in the OpenAI model list.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startHarness } from "./support/harness.ts";
import { adminApi } from "./support/admin_api.ts";

Deno.test("the OpenAI model list shows a restricted token only its allowed models", async () => {
  const h = await startHarness();
  try {
    const api = adminApi(h);
    const created = await api("POST", "/tokens", { name: "flash-only", models: ["gemini-2.5-flash*"] });
    assert.equal(created.status, 200);
    const restricted = new OpenAI({ apiKey: created.json.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const ids = (await restricted.models.list()).data.map((m) => m.id);
    assert.ok(ids.length > 0);
    assert.ok(ids.every((id) => id.startsWith("gemini-2.5-flash")), ids.join(", "));
    const open = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const all = (await open.models.list()).data.map((m) => m.id);
    assert.ok(all.includes("gemini-2.5-pro"), "an unrestricted token sees every model");
  } finally {
    await h.close();
  }
});
