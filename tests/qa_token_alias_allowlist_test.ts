/**
 * QA: a client token whose model allow-list names an alias (ALIASES `{"gpt-4o": "gemini-2.5-flash"}`,
 * token models `["gpt-4o"]`) sees `gpt-4o` in its model list, but every call with it is refused with
 * 403 "may not use model 'gemini-2.5-flash'": the list filters by the client's names, the pipeline's
 * check (`TokenLimits.admitModel`) only by the resolved real model. The two must agree.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { GoogleGenAI } from "@google/genai";
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
