/**
 * QA: the model list offers suffixed variants only where the family table says the feature exists.
 * `variantWords` (lib/gemini/model_names.ts) asks the table for thinking and image output but lists
 * `-search` for every text and image family, so `/v1/models` advertises `gemini-2.5-flash-image-search`
 * although `modelFamily("gemini-2.5-flash-image").search` is false (Google: Search grounding is not
 * supported by Gemini 2.5 Flash Image, https://ai.google.dev/gemini-api/docs/models/gemini-2.5-flash-image).
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { startHarness } from "./support/harness.ts";
import { modelFamily } from "../lib/gemini/model_families.ts";

Deno.test("the OpenAI model list has no -search variant of a family without Google Search", async () => {
  const h = await startHarness();
  try {
    const openai = new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const ids = (await openai.models.list()).data.map((m) => m.id);
    assert.ok(ids.includes("gemini-2.5-flash-image"), ids.join(", "));
    assert.ok(ids.includes("gemini-2.5-flash-search"), "families with Search keep the variant");
    const searchless = ids.filter((id) => id.endsWith("-search") && !modelFamily(id.slice(0, -7)).search);
    assert.deepEqual(searchless, []);
  } finally {
    await h.close();
  }
});
