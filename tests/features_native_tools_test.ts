/**
 * Built-in tools and countTokens on the Gemini-native route, through the official @google/genai SDK:
 * code execution / URL context per model (never with function declarations), a client function named
 * googleSearch, and countTokens with a suffixed model.
 */
import assert from "node:assert/strict";
import { GoogleGenAI, Type } from "./support/sdk/genai.ts";
import { type Harness, startHarness } from "./support/harness.ts";

type Obj = Record<string, unknown>;

function lastBody(h: Harness): Obj {
  const r = h.mock.requests.at(-1);
  assert.ok(r, "the mock received no request");
  return r.json as Obj;
}

async function withHarness(fn: (h: Harness, ai: GoogleGenAI) => Promise<void>): Promise<void> {
  const h = await startHarness();
  try {
    await fn(h, new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } }));
  } finally {
    await h.close();
  }
}

const weather = {
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ["city"] },
};

Deno.test("code execution and URL context per model, never together with function declarations", async () => {
  await withHarness(async (h, ai) => {
    await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" });
    assert.equal(lastBody(h).tools, undefined, "nothing added while the lists are empty");

    await h.gw.settings.update({
      codeExecutionModels: ["gemini-2.5-flash"],
      urlContextModels: ["gemini-2.5*"],
    });
    await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" });
    assert.deepEqual(lastBody(h).tools, [{ codeExecution: {} }, { urlContext: {} }]);
    await ai.models.generateContent({ model: "gemini-2.5-pro", contents: "x" });
    assert.deepEqual(lastBody(h).tools, [{ urlContext: {} }], "prefix* matches; exact id does not");
    await ai.models.generateContent({ model: "gemini-2.0-flash", contents: "x" });
    assert.equal(lastBody(h).tools, undefined, "models outside both lists get nothing");

    // With -search, search comes first and the per-model tools follow.
    await ai.models.generateContent({ model: "gemini-2.5-flash-search", contents: "x" });
    assert.deepEqual(lastBody(h).tools, [{ googleSearch: {} }, { codeExecution: {} }, { urlContext: {} }]);

    // Function declarations: the built-ins are left out and the call still works.
    const res = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "weather in Paris",
      config: { tools: [{ functionDeclarations: [weather] }] },
    });
    const tools = lastBody(h).tools as Obj[];
    assert.equal(tools.length, 1);
    assert.deepEqual(Object.keys(tools[0]), ["functionDeclarations"]);
    assert.equal(res.functionCalls?.[0]?.name, "get_weather");

    // The next request follows a settings change.
    await h.gw.settings.update({ codeExecutionModels: [], urlContextModels: [] });
    await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" });
    assert.equal(lastBody(h).tools, undefined);
  });
});

Deno.test("a client function named googleSearch becomes the real search tool on the native route", async () => {
  await withHarness(async (h, ai) => {
    const search = { name: "googleSearch", description: "search the web", parameters: { type: Type.OBJECT } };
    const res = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "who won",
      config: { tools: [{ functionDeclarations: [search] }] },
    });
    assert.deepEqual(lastBody(h).tools, [{ googleSearch: {} }], "no function declaration left upstream");
    assert.equal(res.functionCalls, undefined, "the client is not asked to run googleSearch");
    assert.ok(res.candidates?.[0]?.groundingMetadata, "a grounded answer comes back");

    // Mixed with a real function on Gemini 3: that one stays, search is added with
    // includeServerSideToolInvocations, allowedFunctionNames is cleaned.
    const mixed = {
      tools: [{ functionDeclarations: [search, weather] }],
      toolConfig: { functionCallingConfig: { allowedFunctionNames: ["googleSearch", "get_weather"] } },
    };
    await ai.models.generateContent({ model: "gemini-3-flash-preview", contents: "weather", config: mixed });
    const body = lastBody(h);
    const tools = body.tools as Obj[];
    assert.deepEqual(
      tools.map((t) => Object.keys(t)[0]),
      ["functionDeclarations", "googleSearch"],
    );
    assert.deepEqual((tools[0].functionDeclarations as Obj[]).map((d) => d.name), ["get_weather"]);
    assert.deepEqual(
      ((body.toolConfig as Obj).functionCallingConfig as Obj).allowedFunctionNames,
      ["get_weather"],
    );
    assert.equal((body.toolConfig as Obj).includeServerSideToolInvocations, true);
    // Gemini 2.5 refuses Google Search next to functions: the client's functions go as they are.
    await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "weather", config: mixed });
    const as2 = lastBody(h);
    assert.deepEqual(
      ((as2.tools as Obj[])[0].functionDeclarations as Obj[]).map((d) => d.name),
      ["googleSearch", "get_weather"],
    );
    assert.equal((as2.tools as Obj[]).length, 1);

    // Streaming request, snake_case name over raw REST.
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({
        contents: [{ role: "user", parts: [{ text: "q" }] }],
        tools: [{ function_declarations: [{ name: "google_search" }] }],
      }),
    });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /groundingMetadata/);
    assert.deepEqual(lastBody(h).tools, [{ googleSearch: {} }]);
  });
});

Deno.test("a plain request without features goes upstream byte for byte", async () => {
  await withHarness(async (h) => {
    const raw = '{"contents":[{"role":"user","parts":[{"text":"same bytes"}]}],  "generationConfig":{}}';
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: raw,
    });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    assert.equal(h.mock.requests.at(-1)!.bodyText, raw);
  });
});

Deno.test("countTokens with a suffixed model: real model, no tools at the top level", async () => {
  await withHarness(async (h, ai) => {
    const count = await ai.models.countTokens({
      model: "gemini-2.5-flash-search-nothinking",
      contents: "a b c",
    });
    assert.equal(count.totalTokens, 3);
    const up = h.mock.requests.at(-1)!;
    assert.equal(up.model, "gemini-2.5-flash");
    assert.match(up.path, /models\/gemini-2\.5-flash:countTokens$/);
    assert.deepEqual(Object.keys(up.json as Obj), ["contents"], "only contents: countTokens refuses tools");

    // The generateContentRequest form gets the features inside, with the real model named there.
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-pro-search:countTokens`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({
        generateContentRequest: {
          model: "models/gemini-2.5-pro-search",
          contents: [{ role: "user", parts: [{ text: "one two" }] }],
        },
      }),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).totalTokens, 2);
    const body = lastBody(h);
    assert.deepEqual(Object.keys(body), ["generateContentRequest"]);
    const inner = body.generateContentRequest as Obj;
    assert.equal(inner.model, "models/gemini-2.5-pro");
    assert.deepEqual(inner.tools, [{ googleSearch: {} }]);
  });
});
