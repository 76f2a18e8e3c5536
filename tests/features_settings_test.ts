import assert from "node:assert/strict";
import { defaultFeatureSettings, featureSettingsSchema } from "../lib/features/settings.ts";
import { matchesModelList } from "../lib/gemini/model_id.ts";

Deno.test("defaults are sensible", () => {
  const s = defaultFeatureSettings();
  assert.equal(s.searchSuffix, true);
  assert.equal(s.searchLinks, true);
  assert.equal(s.smoother, false);
  assert.ok(s.smootherChunkChars > 0);
  assert.ok(s.smootherMaxDelayMs >= 0);
  assert.ok(s.keepAliveMs > 0);
  assert.deepEqual(s.aliases, {});
  assert.deepEqual(s.hiddenModels, []);
  assert.equal(s.defaultSafetySettings, null);
  assert.deepEqual(s.proxies, []);
});

Deno.test("every setting has a description", () => {
  for (const [key, field] of Object.entries(featureSettingsSchema.shape)) {
    assert.ok((field.description ?? "").length > 10, `${key} lacks .describe()`);
  }
});

Deno.test("schema rejects bad values with readable messages", () => {
  const r = featureSettingsSchema.safeParse({
    smootherChunkChars: 0,
    thinkingDefaults: { x: { thinkingLevel: "max" } },
  });
  assert.equal(r.success, false);
  const paths = r.error!.issues.map((i) => i.path.join("."));
  assert.ok(paths.includes("smootherChunkChars"));
  assert.ok(paths.includes("thinkingDefaults.x.thinkingLevel"));
  const ok = featureSettingsSchema.safeParse({
    defaultSafetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "OFF" }],
  });
  assert.equal(ok.success, true);
});

Deno.test("matchesModelList: exact ids and prefix*", () => {
  assert.ok(matchesModelList("gemini-2.5-flash", ["gemini-2.5-flash"]));
  assert.ok(!matchesModelList("gemini-2.5-flash-lite", ["gemini-2.5-flash"]));
  assert.ok(matchesModelList("gemini-2.5-flash-lite", ["gemini-2.5-*"]));
  assert.ok(!matchesModelList("gemini-2.0-flash", ["gemini-2.5-*"]));
});
