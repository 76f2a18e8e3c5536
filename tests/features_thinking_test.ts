import assert from "node:assert/strict";
import { resolveThinkingConfig } from "../lib/gemini/thinking.ts";
import { modelFamily } from "../lib/gemini/model_families.ts";
import { extractMarkdownImages, imagePartToMarkdown } from "../lib/features/images.ts";

Deno.test("profiles per model family", () => {
  const thinking = (model: string) => modelFamily(model).thinking;
  assert.deepEqual(thinking("gemini-2.5-pro"), {
    kind: "budget",
    min: 128,
    max: 32768,
    canDisable: false,
  });
  assert.equal(thinking("gemini-2.5-flash-lite").kind, "budget");
  assert.equal(thinking("gemini-3-pro-preview").kind, "level");
  assert.equal(thinking("gemini-2.5-flash-image").kind, "none");
  assert.equal(thinking("gemini-2.0-flash").kind, "none");
});

Deno.test("-nothinking per family: flash 0, flash-lite 0, pro 128, gemini-3 smallest level", () => {
  const off = (model: string) => resolveThinkingConfig({ model, mode: "off" }).config;
  assert.deepEqual(off("gemini-2.5-flash"), { thinkingBudget: 0, includeThoughts: false });
  assert.deepEqual(off("gemini-2.5-flash-lite"), { thinkingBudget: 0, includeThoughts: false });
  assert.deepEqual(off("gemini-2.5-pro"), { thinkingBudget: 128, includeThoughts: false });
  assert.deepEqual(off("gemini-3-pro-preview"), { thinkingLevel: "LOW", includeThoughts: false });
  assert.deepEqual(off("gemini-3-flash-preview"), { thinkingLevel: "MINIMAL", includeThoughts: false });
});

Deno.test("-thinking uses the per-prefix default when set", () => {
  const r = resolveThinkingConfig({
    model: "gemini-3-flash-preview",
    mode: "on",
    client: { thinkingBudget: 100, includeThoughts: false },
    defaults: { "gemini-3": { thinkingLevel: "medium" } },
  });
  assert.deepEqual(r.config, { thinkingLevel: "MEDIUM", includeThoughts: true });
  // Gemini 3 Pro has only LOW and HIGH (https://ai.google.dev/gemini-api/docs/gemini-3): the nearest, HIGH.
  const pro = resolveThinkingConfig({
    model: "gemini-3-pro-preview",
    mode: "on",
    defaults: { "gemini-3": { thinkingLevel: "medium" } },
  });
  assert.deepEqual(pro.config, { thinkingLevel: "HIGH", includeThoughts: true });
});

Deno.test("client values the model refuses are repaired", () => {
  const lite = resolveThinkingConfig({ model: "gemini-2.5-flash-lite", client: { thinkingBudget: 100 } });
  assert.deepEqual(lite.config, { thinkingBudget: 512 });
  assert.equal(lite.notes.length, 1);
  const big = resolveThinkingConfig({ model: "gemini-2.5-flash", client: { thinkingBudget: 99999 } });
  assert.deepEqual(big.config, { thinkingBudget: 24576 });
  const dyn = resolveThinkingConfig({ model: "gemini-2.5-pro", client: { thinkingBudget: -1 } });
  assert.deepEqual(dyn.config, { thinkingBudget: -1 });
  assert.deepEqual(dyn.notes, []);
  const lvl = resolveThinkingConfig({ model: "gemini-2.5-flash", client: { thinkingLevel: "high" } });
  assert.deepEqual(lvl.config, { thinkingBudget: 24576 });
  const g3 = resolveThinkingConfig({ model: "gemini-3-pro-preview", client: { thinkingBudget: 0 } });
  assert.deepEqual(g3.config, { thinkingLevel: "LOW" });
  const both = resolveThinkingConfig({
    model: "gemini-3-pro-preview",
    client: { thinkingBudget: 5, thinkingLevel: "high" },
  });
  assert.deepEqual(both.config, { thinkingLevel: "high" });
});

Deno.test("suffix on a model without thinking control is ignored with a note", () => {
  const r = resolveThinkingConfig({ model: "gemini-2.0-flash", mode: "on" });
  assert.equal(r.config, undefined);
  assert.match(r.notes[0], /no thinking control/);
});

Deno.test("extractMarkdownImages splits text and data-URL images", () => {
  const text = "Here:\n![cat](data:image/png;base64,iVBO\nRw0K)\nand ![x](data:image/JPEG;base64,/9j/)done" +
    " ![web](https://example.com/a.png)";
  assert.deepEqual(extractMarkdownImages(text), [
    { text: "Here:\n" },
    { inlineData: { mimeType: "image/png", data: "iVBORw0K" } },
    { text: "\nand " },
    { inlineData: { mimeType: "image/jpeg", data: "/9j/" } },
    { text: "done ![web](https://example.com/a.png)" },
  ]);
  assert.deepEqual(extractMarkdownImages("no images"), [{ text: "no images" }]);
  assert.deepEqual(extractMarkdownImages(""), []);
  const md = imagePartToMarkdown({ mimeType: "image/png", data: "AAAA" });
  assert.deepEqual(extractMarkdownImages(md), [{ inlineData: { mimeType: "image/png", data: "AAAA" } }]);
});
