import assert from "node:assert/strict";
import { applyRequestFeatures, featuresNeedBody } from "../lib/features/request_features.ts";
import { parseModelName } from "../lib/gemini/model_names.ts";
import { defaultFeatureSettings, type FeatureSettings } from "../lib/features/settings.ts";

const known = new Set([
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-3-flash-preview",
  "gemini-2.5-flash-image",
  "gemini-2.0-flash-exp",
]);
const contents = [{ role: "user", parts: [{ text: "hi" }] }];

/** The prepare step's two halves: resolve the model name, then apply the features to the body. */
function applyFeatures(input: {
  model: string;
  body: Record<string, unknown>;
  settings: FeatureSettings;
  knownModels: ReadonlySet<string>;
  kind?: "countTokens";
}) {
  const parsed = parseModelName({
    name: input.model,
    knownModels: input.knownModels,
    settings: input.settings,
  });
  const r = applyRequestFeatures({ parsed, settings: input.settings, body: input.body, method: input.kind });
  return { ...r, model: parsed.model, notes: r.notes.length ? r.notes : undefined };
}

function apply(
  model: string,
  body: Record<string, unknown> = { contents },
  settings = defaultFeatureSettings(),
) {
  const frozen = structuredClone(body);
  const out = applyFeatures({ model, body, settings, knownModels: known });
  assert.deepEqual(body, frozen, "input body must not be mutated");
  return out;
}

const gen = (b: Record<string, unknown>) => b.generationConfig as Record<string, unknown>;

Deno.test("plain model: body unchanged except nothing added", () => {
  const out = apply("gemini-2.5-flash", { contents, generationConfig: { temperature: 0.3 } });
  assert.deepEqual(out.body, { contents, generationConfig: { temperature: 0.3 } });
  assert.equal(out.model, "gemini-2.5-flash");
  assert.equal(out.notes, undefined);
});

Deno.test("-search adds googleSearch once and keeps client tools", () => {
  const out = apply("gemini-2.5-flash-search", { contents, tools: [{ googleSearch: {} }] });
  assert.deepEqual(out.body.tools, [{ googleSearch: {} }]);
  const out2 = apply("gemini-2.5-flash-search", { contents, tools: [{ urlContext: {} }] });
  assert.deepEqual(out2.body.tools, [{ urlContext: {} }, { googleSearch: {} }]);
  assert.equal(out2.search, true);
});

Deno.test("client function googleSearch becomes the real tool", () => {
  const body = {
    contents,
    tools: [{ functionDeclarations: [{ name: "googleSearch" }, { name: "get_weather" }] }],
    toolConfig: {
      functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["googleSearch", "get_weather"] },
    },
  };
  // Gemini 3 takes Google Search next to functions with includeServerSideToolInvocations.
  const out = apply("gemini-3-flash-preview", body);
  assert.deepEqual(out.body.tools, [{ functionDeclarations: [{ name: "get_weather" }] }, {
    googleSearch: {},
  }]);
  assert.deepEqual(out.body.toolConfig, {
    functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] },
    includeServerSideToolInvocations: true,
  });
  // Gemini 2.5 refuses the mix: the client's functions stay as they are.
  const kept = apply("gemini-2.5-flash", body);
  assert.deepEqual(kept.body.tools, body.tools);
  assert.deepEqual(kept.body.toolConfig, body.toolConfig);
  assert.match(kept.notes!.join(" "), /googleSearch was kept as a function/);
  const only = apply("gemini-2.5-flash", {
    contents,
    tools: [{ functionDeclarations: [{ name: "googleSearch" }] }],
    toolConfig: { functionCallingConfig: { mode: "AUTO" } },
  });
  assert.deepEqual(only.body.tools, [{ googleSearch: {} }]);
  assert.deepEqual(only.body.toolConfig, {}, "function calling config without functions is dropped");
  assert.equal(only.search, true);
});

Deno.test("image: -image suffix and real image models get TEXT+IMAGE", () => {
  const a = apply("gemini-2.0-flash-exp-image");
  assert.equal(a.model, "gemini-2.0-flash-exp");
  assert.deepEqual(gen(a.body).responseModalities, ["TEXT", "IMAGE"]);
  const b = apply("gemini-2.5-flash-image");
  assert.deepEqual(gen(b.body).responseModalities, ["TEXT", "IMAGE"]);
  const c = apply("gemini-2.5-flash-image", {
    contents,
    generationConfig: { responseModalities: ["IMAGE"] },
  });
  assert.deepEqual(gen(c.body).responseModalities, ["IMAGE"], "client modalities win for real image models");
  const d = apply("gemini-2.0-flash-exp-image", {
    contents,
    generationConfig: { responseModalities: ["TEXT"] },
  });
  assert.deepEqual(gen(d.body).responseModalities, ["TEXT", "IMAGE"], "explicit -image adds IMAGE");
});

Deno.test("thinking suffixes set thinkingConfig; suffix wins over client", () => {
  const on = apply("gemini-2.5-flash-thinking");
  assert.deepEqual(gen(on.body).thinkingConfig, { thinkingBudget: -1, includeThoughts: true });
  const off = apply("gemini-2.5-flash-nothinking", {
    contents,
    generationConfig: { thinkingConfig: { thinkingBudget: 4096, includeThoughts: true }, topK: 3 },
  });
  assert.deepEqual(gen(off.body), { thinkingConfig: { thinkingBudget: 0, includeThoughts: false }, topK: 3 });
});

Deno.test("pro -nothinking gets the minimal budget, not an error", () => {
  const out = apply("gemini-2.5-pro-nothinking");
  assert.deepEqual(gen(out.body).thinkingConfig, { thinkingBudget: 128, includeThoughts: false });
  assert.match(out.notes!.join(" "), /cannot turn thinking off/);
  const client0 = apply("gemini-2.5-pro", {
    contents,
    generationConfig: { thinkingConfig: { thinkingBudget: 0 } },
  });
  assert.deepEqual(gen(client0.body).thinkingConfig, { thinkingBudget: 128 });
});

Deno.test("thinkingDefaults apply only when the client sent no thinkingConfig", () => {
  const settings = defaultFeatureSettings({
    thinkingDefaults: { "gemini-2.5-flash": { thinkingBudget: 0 } },
  });
  const d = apply("gemini-2.5-flash", { contents }, settings);
  assert.deepEqual(gen(d.body).thinkingConfig, { thinkingBudget: 0 });
  const c = apply("gemini-2.5-flash", {
    contents,
    generationConfig: { thinkingConfig: { thinkingBudget: 99 } },
  }, settings);
  assert.deepEqual(gen(c.body).thinkingConfig, { thinkingBudget: 99 });
});

Deno.test("default safety settings only when the client sent none", () => {
  const safety = [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }];
  const settings = defaultFeatureSettings({ defaultSafetySettings: safety });
  assert.deepEqual(apply("gemini-2.5-flash", { contents }, settings).body.safetySettings, safety);
  const own = [{ category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_ONLY_HIGH" }];
  assert.deepEqual(
    apply("gemini-2.5-flash", { contents, safetySettings: own }, settings).body.safetySettings,
    own,
  );
  assert.equal(
    apply("gemini-2.5-flash", { contents }).body.safetySettings,
    undefined,
    "null default adds none",
  );
});

Deno.test("code execution and url context by setting, never with function declarations", () => {
  const settings: FeatureSettings = defaultFeatureSettings({
    codeExecutionModels: ["gemini-2.5-*"],
    urlContextModels: ["gemini-2.5-flash"],
  });
  const plain = apply("gemini-2.5-flash-search", { contents }, settings);
  assert.deepEqual(plain.body.tools, [{ googleSearch: {} }, { codeExecution: {} }, { urlContext: {} }]);
  const pro = apply("gemini-2.5-pro", { contents }, settings);
  assert.deepEqual(pro.body.tools, [{ codeExecution: {} }]);
  const fns = { contents, tools: [{ functionDeclarations: [{ name: "f" }] }] };
  const out = apply("gemini-2.5-flash", fns, settings);
  assert.deepEqual(out.body.tools, fns.tools);
  assert.match(out.notes!.join(" "), /codeExecution was not added/);
});

Deno.test("built-in tools next to functions on Gemini 3 come with includeServerSideToolInvocations", () => {
  const settings: FeatureSettings = defaultFeatureSettings({ codeExecutionModels: ["gemini-3-*"] });
  const fns = {
    contents,
    tools: [{ functionDeclarations: [{ name: "f" }] }],
    toolConfig: { functionCallingConfig: { mode: "AUTO" } },
  };
  const out = apply("gemini-3-flash-preview-search", fns, settings);
  assert.deepEqual(out.body.tools, [...fns.tools, { googleSearch: {} }, { codeExecution: {} }]);
  assert.deepEqual(out.body.toolConfig, {
    functionCallingConfig: { mode: "AUTO" },
    includeServerSideToolInvocations: true,
  });
  // A client's own built-in tool next to its functions is left as the client sent it.
  const own = { contents, tools: [{ functionDeclarations: [{ name: "f" }] }, { googleSearch: {} }] };
  assert.equal(apply("gemini-3-flash-preview-search", own).body.toolConfig, undefined);
});

Deno.test("aliases resolve to the real model in the prepare step", () => {
  const settings = defaultFeatureSettings({ aliases: { "gpt-4o-mini": "gemini-2.5-flash-search" } });
  const out = apply("gpt-4o-mini", { contents }, settings);
  assert.equal(out.model, "gemini-2.5-flash");
  assert.deepEqual(out.body.tools, [{ googleSearch: {} }]);
});

Deno.test("featuresNeedBody: plain models pass through untouched", () => {
  const settings = defaultFeatureSettings({ aliases: { a: "gemini-2.5-flash" } });
  const needs = (model: string, s = settings, body?: unknown) =>
    featuresNeedBody(
      { parsed: parseModelName({ name: model, knownModels: known, settings: s }), settings: s },
      body === undefined ? null : new TextEncoder().encode(JSON.stringify(body)),
    );
  assert.equal(needs("gemini-2.5-flash"), false);
  assert.equal(needs("models/gemini-2.5-flash"), false);
  assert.equal(needs("gemini-2.5-flash-search"), true);
  assert.equal(needs("gemini-2.5-flash-image"), true);
  const budget0 = { contents, generationConfig: { thinkingConfig: { thinkingBudget: 0 } } };
  assert.equal(needs("gemini-2.5-pro", settings, budget0), true, "budget 0 must be repaired for pro");
  assert.equal(needs("gemini-2.5-pro", settings, { contents }), false, "nothing to repair without a config");
  assert.equal(
    needs("gemini-2.5-flash", defaultFeatureSettings({ codeExecutionModels: ["gemini-2.5-flash"] })),
    true,
  );
  assert.equal(
    needs(
      "gemini-2.5-flash",
      defaultFeatureSettings({ defaultSafetySettings: [{ category: "c", threshold: "t" }] }),
    ),
    true,
  );
});

Deno.test("countTokens: features go inside generateContentRequest, bare contents untouched", () => {
  const settings = defaultFeatureSettings({ defaultSafetySettings: [{ category: "c", threshold: "t" }] });
  const bare = applyFeatures({
    model: "gemini-2.5-flash-search",
    body: { contents },
    settings,
    knownModels: known,
    kind: "countTokens",
  });
  assert.deepEqual([bare.model, bare.body], ["gemini-2.5-flash", { contents }]);
  const wrapped = applyFeatures({
    model: "gemini-2.5-flash-search",
    body: { generateContentRequest: { model: "models/gemini-2.5-flash-search", contents } },
    settings,
    knownModels: known,
    kind: "countTokens",
  });
  assert.deepEqual(wrapped.body, {
    generateContentRequest: {
      model: "models/gemini-2.5-flash",
      contents,
      safetySettings: [{ category: "c", threshold: "t" }],
      tools: [{ googleSearch: {} }],
    },
  });
});

Deno.test("snake_case request fields are understood (no duplicate tools, client values kept)", () => {
  const body = {
    contents: [{ role: "user", parts: [{ text: "hi" }], some_user_key: 1 }],
    tools: [{ google_search: {} }],
    generation_config: { thinking_config: { thinking_budget: 0 }, max_output_tokens: 5 },
    safety_settings: [{ category: "x", threshold: "y" }],
  };
  const settings = defaultFeatureSettings({ defaultSafetySettings: [{ category: "c", threshold: "t" }] });
  const out = apply("gemini-2.5-pro-search", body, settings);
  assert.deepEqual(out.body, {
    contents: body.contents,
    tools: [{ googleSearch: {} }],
    generationConfig: {
      thinkingConfig: { thinkingBudget: 128 },
      maxOutputTokens: 5,
    },
    safetySettings: [{ category: "x", threshold: "y" }],
  });
});

Deno.test("a client googleSearch function (camel/snake, countTokens form) is the only body that changes", () => {
  const settings = defaultFeatureSettings();
  const changes = (body: Record<string, unknown>, kind?: "countTokens") =>
    applyFeatures({ model: "gemini-3-flash-preview", body, settings, knownModels: known, kind }).changed;
  const fn = (name: string) => ({ tools: [{ functionDeclarations: [{ name: "get_weather" }, { name }] }] });
  assert.equal(changes(fn("googleSearch")), true);
  assert.equal(changes(fn("google_search")), true);
  assert.equal(changes({ tools: [{ function_declarations: [{ name: "googleSearch" }] }] }), true);
  assert.equal(
    changes(
      { generateContentRequest: { model: "models/gemini-3-flash-preview", ...fn("googleSearch") } },
      "countTokens",
    ),
    true,
  );
  assert.equal(
    applyFeatures({ model: "gemini-2.5-flash", body: fn("googleSearch"), settings, knownModels: known })
      .changed,
    false,
    "Gemini 2.5 takes no Google Search next to other functions: the body goes as it is",
  );
  assert.equal(changes(fn("search_web")), false);
  assert.equal(changes({ tools: [{ googleSearch: {} }] }), false, "the real tool needs nothing");
  assert.equal(changes({ contents: [] }), false);
  // The raw-body pre-check lets the parse happen only when a marker is there.
  const plain = {
    parsed: parseModelName({ name: "gemini-2.5-flash", knownModels: known, settings }),
    settings,
  };
  const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  assert.equal(featuresNeedBody(plain, bytes(fn("googleSearch"))), true);
  assert.equal(featuresNeedBody(plain, bytes(fn("search_web"))), false);
  assert.equal(featuresNeedBody(plain, null), false);
});
