/**
 * QA: a client token with a model allow-list sees only its models in both model lists, and the native
 * `GET /v1beta/models/{id}` refuses other models (403). The OpenAI edge's `GET /v1/models/{id}` does not
 * check the allow-list at all: the restricted token retrieves `gemini-2.5-pro` (200) although its list
 * leaves it out and a call with it is refused.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { startHarness } from "./support/harness.ts";
import { adminApi } from "./support/admin_api.ts";

Deno.test("OpenAI models.retrieve refuses a model outside the token's allow-list, as the list and the native route do", async () => {
  const h = await startHarness();
  try {
    const created = await adminApi(h)("POST", "/tokens", {
      name: "flash-only",
      models: ["gemini-2.5-flash"],
    });
    assert.equal(created.status, 200);
    const openai = new OpenAI({ apiKey: created.json.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    assert.ok(!(await openai.models.list()).data.some((m) => m.id === "gemini-2.5-pro"));
    assert.equal((await openai.models.retrieve("gemini-2.5-flash")).id, "gemini-2.5-flash");
    const other = await openai.models.retrieve("gemini-2.5-pro").then(
      (m) => ({ status: 200, id: m.id }),
      (e) => ({ status: (e as { status?: number }).status }),
    );
    assert.ok(other.status === 403 || other.status === 404, JSON.stringify(other));
  } finally {
    await h.close();
  }
});
