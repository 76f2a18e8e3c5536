/**
 * QA: a client token whose model allow-list names an alias (ALIASES `{"gpt-4o": "gemini-2.5-flash"}`,
 * token models `["gpt-4o"]`) sees `gpt-4o` in its model list, but every call with it is refused with
 * 403 "may not use model 'gemini-2.5-flash'": the list filters by the client's names, the pipeline's
 * check (`TokenLimits.admitModel`) only by the resolved real model. The two must agree.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { startHarness } from "./support/harness.ts";
import { adminApi } from "./support/admin_api.ts";

Deno.test("a token allowed only an alias can call the alias it sees in its model list (OpenAI and Google SDKs)", async () => {
  const h = await startHarness({ env: { ALIASES: JSON.stringify({ "gpt-4o": "gemini-2.5-flash" }) } });
  try {
    const created = await adminApi(h)("POST", "/tokens", { name: "alias-only", models: ["gpt-4o"] });
    assert.equal(created.status, 200);
    const token = created.json.token as string;
    const openai = new OpenAI({ apiKey: token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    assert.deepEqual((await openai.models.list()).data.map((m) => m.id), ["gpt-4o"]);
    const chat = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
    }).catch((e) => ({ error: String(e) }));
    assert.ok(!("error" in chat), JSON.stringify(chat));
    assert.equal(chat.choices[0].message.content, "echo: hi");

    const ai = new GoogleGenAI({ apiKey: token, httpOptions: { baseUrl: h.url } });
    const native = await ai.models.generateContent({ model: "gpt-4o", contents: "hi" })
      .catch((e) => ({ error: String(e) }));
    assert.ok(!("error" in native), JSON.stringify(native));
    assert.equal(native.text, "echo: hi");
  } finally {
    await h.close();
  }
});

Deno.test("allow-lists admit a model by any of its names: the list shows what the token may call, calls agree", async () => {
  const h = await startHarness({ env: { ALIASES: JSON.stringify({ "gpt-4o": "gemini-2.5-flash" }) } });
  try {
    const token = async (models: string[]) =>
      (await adminApi(h)("POST", "/tokens", { name: models.join("+"), models })).json.token as string;
    const aliasOnly = new OpenAI({ apiKey: await token(["gpt-4o"]), baseURL: `${h.url}/v1`, maxRetries: 0 });
    const refused = await aliasOnly.chat.completions.create({
      model: "gemini-2.5-pro",
      messages: [{ role: "user", content: "hi" }],
    }).then(() => 200, (e) => (e as { status?: number }).status);
    assert.equal(refused, 403, "the alias admits its own model only");

    // A token allowed the real model may call it by its aliases and suffixed names, and sees them listed.
    const real = new OpenAI({
      apiKey: await token(["gemini-2.5-flash"]),
      baseURL: `${h.url}/v1`,
      maxRetries: 0,
    });
    const ids = (await real.models.list()).data.map((m) => m.id);
    for (const id of ["gemini-2.5-flash", "gemini-2.5-flash-search", "gpt-4o"]) {
      assert.ok(ids.includes(id), `${id} missing from ${ids.join(", ")}`);
      const chat = await real.chat.completions.create({
        model: id,
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(chat.choices[0].message.content?.startsWith("echo: hi"), true, id);
    }
    assert.ok(!ids.includes("gemini-2.5-pro"));
  } finally {
    await h.close();
  }
});
