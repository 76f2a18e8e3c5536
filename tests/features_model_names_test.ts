import assert from "node:assert/strict";
import { listModelVariants, parseModelName } from "../lib/gemini/model_names.ts";
import { defaultFeatureSettings, type FeatureSettings } from "../lib/features/settings.ts";
import { GatewayError } from "../lib/http/errors.ts";

const known = new Set([
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-2.5-flash-image",
  "gemini-2.0-flash-exp",
  "gemini-3-pro-preview",
  "text-embedding-004",
]);

function parse(name: string, settings: FeatureSettings = defaultFeatureSettings()) {
  return parseModelName({ name, knownModels: known, settings });
}

Deno.test("real model without suffix stays itself", () => {
  const p = parse("gemini-2.5-flash");
  assert.deepEqual({ m: p.model, s: p.search, i: p.image, t: p.thinking }, {
    m: "gemini-2.5-flash",
    s: false,
    i: false,
    t: undefined,
  });
  assert.deepEqual(p.notes, []);
});

Deno.test("each suffix is recognised", () => {
  assert.equal(parse("gemini-2.5-flash-search").search, true);
  assert.equal(parse("gemini-2.5-flash-thinking").thinking, "on");
  assert.equal(parse("gemini-2.5-flash-nothinking").thinking, "off");
  const img = parse("gemini-2.0-flash-exp-image");
  assert.equal(img.model, "gemini-2.0-flash-exp");
  assert.equal(img.image, true);
  assert.equal(parse("models/gemini-2.5-pro-search").model, "gemini-2.5-pro");
});

Deno.test("suffixes combine in any order", () => {
  for (const name of ["gemini-2.5-flash-search-nothinking", "gemini-2.5-flash-nothinking-search"]) {
    const p = parse(name);
    assert.equal(p.model, "gemini-2.5-flash");
    assert.equal(p.search, true);
    assert.equal(p.thinking, "off");
  }
});

Deno.test("a real model ending in a suffix word is never misread", () => {
  const real = parse("gemini-2.5-flash-image");
  assert.equal(real.model, "gemini-2.5-flash-image");
  assert.equal(real.image, false);
  const searched = parse("gemini-2.5-flash-image-search");
  assert.equal(searched.model, "gemini-2.5-flash-image");
  assert.equal(searched.search, true);
  // Without the real image model in the list, -image is a suffix.
  const p = parseModelName({
    name: "gemini-2.5-flash-image",
    knownModels: new Set(["gemini-2.5-flash"]),
    settings: defaultFeatureSettings(),
  });
  assert.equal(p.model, "gemini-2.5-flash");
  assert.equal(p.image, true);
});

Deno.test("unknown model: suffixes stripped, note added", () => {
  const p = parse("gemini-9-ultra-search");
  assert.equal(p.model, "gemini-9-ultra");
  assert.equal(p.search, true);
  assert.match(p.notes.join(" "), /not in the known model list/);
});

Deno.test("disabled suffix is not parsed", () => {
  const p = parse("gemini-2.5-flash-search", defaultFeatureSettings({ searchSuffix: false }));
  assert.equal(p.model, "gemini-2.5-flash-search");
  assert.equal(p.search, false);
});

Deno.test("-thinking with -nothinking is a 400", () => {
  assert.throws(() => parse("gemini-2.5-flash-thinking-nothinking"), (e) => {
    assert.ok(e instanceof GatewayError);
    assert.equal(e.status, 400);
    return true;
  });
});

Deno.test("aliases resolve, with suffixes on both sides", () => {
  const settings = defaultFeatureSettings({
    aliases: { "gpt-4o": "gemini-2.5-flash", fast: "gemini-2.5-flash-nothinking" },
  });
  const a = parse("gpt-4o", settings);
  assert.equal(a.model, "gemini-2.5-flash");
  assert.equal(a.alias, "gpt-4o");
  const b = parse("gpt-4o-search", settings);
  assert.equal(b.model, "gemini-2.5-flash");
  assert.equal(b.search, true);
  const c = parse("fast-search", settings);
  assert.deepEqual([c.model, c.search, c.thinking], ["gemini-2.5-flash", true, "off"]);
  const d = parse("fast-thinking", settings);
  assert.equal(d.thinking, "on", "the request's suffix overrides the alias target's");
});

Deno.test("listModelVariants shows variants, hides hidden models, adds aliases", () => {
  const settings = defaultFeatureSettings({
    hiddenModels: ["gemini-2.5-pro", "gemini-2.5-flash-nothinking"],
    aliases: { "gpt-4o": "gemini-2.5-flash" },
  });
  const list = listModelVariants(known, settings);
  for (
    const id of [
      "gemini-2.5-flash",
      "gemini-2.5-flash-search",
      "gemini-2.5-flash-thinking",
      "gemini-2.5-flash-search-nothinking",
      "gemini-2.5-flash-image",
      "gemini-2.0-flash-exp-image",
      "gemini-3-pro-preview-nothinking",
      "text-embedding-004",
      "gpt-4o",
    ]
  ) assert.ok(list.includes(id), `missing ${id}`);
  for (const id of ["gemini-2.5-pro", "gemini-2.5-pro-search", "gemini-2.5-flash-nothinking"]) {
    assert.ok(!list.includes(id), `should be hidden: ${id}`);
  }
  assert.ok(!list.includes("gemini-2.5-flash-thinking-nothinking"));
  assert.ok(!list.includes("gemini-2.5-flash-image-thinking"), "image models have no thinking control");
  // https://ai.google.dev/gemini-api/docs/models/gemini-2.5-flash-image: Search grounding not supported.
  assert.ok(!list.includes("gemini-2.5-flash-image-search"), "2.5 Flash Image has no Google Search");
  assert.ok(!list.includes("text-embedding-004-search"));
  assert.equal(new Set(list).size, list.length);
  // Every listed variant parses back to a real model.
  for (const id of list) assert.ok(known.has(parse(id, settings).model), id);
});

Deno.test("listVariants off lists only real models", () => {
  const list = listModelVariants(
    ["models/gemini-2.5-flash"],
    defaultFeatureSettings({ listVariants: false }),
  );
  assert.deepEqual(list, ["gemini-2.5-flash"]);
});

Deno.test("before the model list is known, an image model's own -image is not read as a suffix", () => {
  const settings = defaultFeatureSettings();
  const parse = (name: string) => parseModelName({ name, knownModels: new Set(), settings });
  assert.equal(parse("gemini-2.5-flash-image").model, "gemini-2.5-flash-image");
  assert.equal(parse("gemini-2.5-flash-image").image, false);
  const searched = parse("gemini-2.5-flash-image-search");
  assert.deepEqual([searched.model, searched.search], ["gemini-2.5-flash-image", true]);
  const suffixed = parse("gemini-2.5-flash-image-thinking");
  assert.deepEqual([suffixed.model, suffixed.thinking], ["gemini-2.5-flash-image", "on"]);
  const plain = parse("gemini-2.5-flash-search");
  assert.deepEqual([plain.model, plain.search], ["gemini-2.5-flash", true], "other suffixes are still read");
});
