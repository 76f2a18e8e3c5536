/**
 * A client token with a model allow-list sees only those models in the OpenAI and Gemini model lists.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { GoogleGenAI } from "./support/sdk/genai.ts";
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

Deno.test("the Gemini model list (Google SDK) shows a restricted token only its allowed models", async () => {
  const h = await startHarness();
  try {
    const api = adminApi(h);
    const created = await api("POST", "/tokens", { name: "pro-only", models: ["gemini-2.5-pro"] });
    assert.equal(created.status, 200);
    const names = async (apiKey: string) => {
      const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: h.url } });
      const out: string[] = [];
      // Small pages: the allowed model is on a later page than the first.
      for await (const m of await ai.models.list({ config: { pageSize: 2 } })) out.push(String(m.name));
      return out;
    };
    h.mock.reset();
    assert.deepEqual(await names(created.json.token), ["models/gemini-2.5-pro"]);
    const listings = h.mock.requests.filter((r) => /\/models$/.test(r.path)).length;
    assert.ok(listings > 1, `the gateway followed Google's pages (${listings} listings)`);
    const all = await names(h.token);
    assert.ok(
      all.length > 1 && all.includes("models/gemini-2.5-flash"),
      "an unrestricted token sees every model",
    );
    const one = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash`, {
      headers: { "x-goog-api-key": created.json.token },
    });
    assert.equal(one.status, 403, "a model outside the allow-list is refused by name too");
    assert.equal((await one.json()).error.status, "PERMISSION_DENIED");
  } finally {
    await h.close();
  }
});
