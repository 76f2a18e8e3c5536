/**
 * Gateway features on the Gemini-native route, driven end to end by the official @google/genai SDK:
 * what Gemini receives (tools, thinkingConfig, model) and what the client gets back.
 */
import assert from "node:assert/strict";
import { GoogleGenAI, HarmBlockThreshold, HarmCategory } from "./support/sdk/genai.ts";
import { type Harness, startHarness } from "./support/harness.ts";

type Obj = Record<string, unknown>;

function sdk(h: Harness): GoogleGenAI {
  return new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
}

/** The last request the mock received: its model, path and JSON body. */
function lastUpstream(h: Harness): { model?: string; path: string; body: Obj } {
  const r = h.mock.requests.at(-1);
  assert.ok(r, "the mock received no request");
  return { model: r.model, path: r.path, body: r.json as Obj };
}

function thinkingOf(body: Obj): unknown {
  return (body.generationConfig as Obj | undefined)?.thinkingConfig;
}

async function withHarness(
  opts: Parameters<typeof startHarness>[0],
  fn: (h: Harness, ai: GoogleGenAI) => Promise<void>,
): Promise<void> {
  const h = await startHarness(opts);
  try {
    await fn(h, sdk(h));
  } finally {
    await h.close();
  }
}

Deno.test("-search adds the googleSearch tool; groundingMetadata comes back to the SDK", async () => {
  await withHarness({}, async (h, ai) => {
    const res = await ai.models.generateContent({ model: "gemini-2.5-flash-search", contents: "news today" });
    const up = lastUpstream(h);
    assert.equal(up.model, "gemini-2.5-flash", "the suffix is stripped before going upstream");
    assert.deepEqual(up.body.tools, [{ googleSearch: {} }]);
    assert.equal(res.text, "echo: news today");
    const gm = res.candidates?.[0]?.groundingMetadata;
    assert.ok(gm, "groundingMetadata reaches the client");
    assert.equal(gm.groundingChunks?.length, 2);
    assert.deepEqual(gm.webSearchQueries, ["news today"]);

    // Streaming too: the grounding rides on the last chunk.
    const stream = await ai.models.generateContentStream({
      model: "gemini-2.5-flash-search",
      contents: "more news",
    });
    let text = "";
    let grounded = false;
    for await (const c of stream) {
      text += c.text ?? "";
      grounded ||= !!c.candidates?.[0]?.groundingMetadata;
    }
    assert.equal(text, "echo: more news");
    assert.ok(grounded, "streamed groundingMetadata reaches the client");
    assert.deepEqual(lastUpstream(h).body.tools, [{ googleSearch: {} }]);
  });
});

Deno.test("-thinking / -nothinking set thinkingConfig; 2.5 Pro gets the minimal budget 128", async () => {
  await withHarness({}, async (h, ai) => {
    const on = await ai.models.generateContent({ model: "gemini-2.5-flash-thinking", contents: "think" });
    assert.equal(lastUpstream(h).model, "gemini-2.5-flash");
    assert.deepEqual(thinkingOf(lastUpstream(h).body), { thinkingBudget: -1, includeThoughts: true });
    const parts = on.candidates?.[0]?.content?.parts ?? [];
    assert.ok(parts.some((p) => p.thought === true), "thought parts reach the SDK");
    assert.equal(on.text, "echo: think", "res.text leaves thoughts out");

    await ai.models.generateContent({ model: "gemini-2.5-flash-nothinking", contents: "quick" });
    assert.deepEqual(thinkingOf(lastUpstream(h).body), { thinkingBudget: 0, includeThoughts: false });

    await ai.models.generateContent({ model: "gemini-2.5-pro-nothinking", contents: "quick" });
    assert.equal(lastUpstream(h).model, "gemini-2.5-pro");
    assert.deepEqual(thinkingOf(lastUpstream(h).body), { thinkingBudget: 128, includeThoughts: false });

    await ai.models.generateContent({ model: "gemini-3-pro-preview-nothinking", contents: "quick" });
    assert.deepEqual(thinkingOf(lastUpstream(h).body), { thinkingLevel: "LOW", includeThoughts: false });

    // The suffix wins over the client's own budget; other client fields survive.
    await ai.models.generateContent({
      model: "gemini-2.5-flash-nothinking",
      contents: "quick",
      config: { thinkingConfig: { thinkingBudget: 4000 }, temperature: 0.5 },
    });
    const body = lastUpstream(h).body;
    assert.deepEqual(thinkingOf(body), { thinkingBudget: 0, includeThoughts: false });
    assert.equal((body.generationConfig as Obj).temperature, 0.5);
  });
});

Deno.test("combined -search-nothinking; a real model ending in a suffix word is not misread", async () => {
  await withHarness({}, async (h, ai) => {
    const res = await ai.models.generateContent({
      model: "gemini-2.5-flash-search-nothinking",
      contents: "q",
    });
    let up = lastUpstream(h);
    assert.equal(up.model, "gemini-2.5-flash");
    assert.deepEqual(up.body.tools, [{ googleSearch: {} }]);
    assert.deepEqual(thinkingOf(up.body), { thinkingBudget: 0, includeThoughts: false });
    assert.ok(res.candidates?.[0]?.groundingMetadata);

    // Same words in the other order.
    await ai.models.generateContent({ model: "gemini-2.5-flash-nothinking-search", contents: "q" });
    assert.deepEqual(lastUpstream(h).body.tools, [{ googleSearch: {} }]);

    // gemini-2.5-flash-image is a real model: not "gemini-2.5-flash" + "-image".
    const img = await ai.models.generateContent({ model: "gemini-2.5-flash-image", contents: "a cat" });
    up = lastUpstream(h);
    assert.equal(up.model, "gemini-2.5-flash-image");
    assert.match(up.path, /models\/gemini-2\.5-flash-image:generateContent$/);
    assert.deepEqual((up.body.generationConfig as Obj).responseModalities, ["TEXT", "IMAGE"]);
    assert.equal(up.body.tools, undefined, "no search tool for the -image model");
    const parts = img.candidates?.[0]?.content?.parts ?? [];
    assert.ok(parts.some((p) => p.inlineData?.mimeType === "image/png"), "the image reaches the SDK");

    // ...and its -search variant strips only -search.
    await ai.models.generateContent({ model: "gemini-2.5-flash-image-search", contents: "a cat" });
    assert.equal(lastUpstream(h).model, "gemini-2.5-flash-image");
    assert.deepEqual(lastUpstream(h).body.tools, [{ googleSearch: {} }]);
  });
});

Deno.test("aliases and hidden models follow settings changed at run time", async () => {
  await withHarness(
    { env: { ALIASES: JSON.stringify({ "my-fast": "gemini-2.5-flash-nothinking" }) } },
    async (
      h,
      ai,
    ) => {
      const res = await ai.models.generateContent({ model: "my-fast", contents: "hi" });
      assert.equal(res.text, "echo: hi");
      assert.equal(lastUpstream(h).model, "gemini-2.5-flash");
      assert.deepEqual(thinkingOf(lastUpstream(h).body), { thinkingBudget: 0, includeThoughts: false });
      // An alias takes suffixes too.
      await ai.models.generateContent({ model: "my-fast-search", contents: "hi" });
      assert.deepEqual(lastUpstream(h).body.tools, [{ googleSearch: {} }]);

      const ids = async () => {
        const r = await fetch(`${h.url}/v1/models`, { headers: { authorization: `Bearer ${h.token}` } });
        assert.equal(r.status, 200);
        return ((await r.json()).data as Array<{ id: string }>).map((m) => m.id);
      };
      let list = await ids();
      assert.ok(list.includes("my-fast"), "aliases are listed");
      assert.ok(list.includes("gemini-2.5-pro") && list.includes("gemini-2.5-pro-search"));

      // aliases is pinned by the environment here; hiddenModels and a new alias list are not.
      await assert.rejects(() => h.gw.settings.update({ aliases: {} }), /ALIASES/);
      await h.gw.settings.update({ hiddenModels: ["gemini-2.5-pro", "gemini-2.0*"] });
      list = await ids();
      assert.ok(!list.includes("gemini-2.5-pro"), "hidden model left out");
      assert.ok(!list.includes("gemini-2.5-pro-search"), "its variants too");
      assert.ok(!list.some((m) => m.startsWith("gemini-2.0")), "prefix* hides a family");
      assert.ok(list.includes("gemini-2.5-flash"));
      // Hidden models can still be called.
      await ai.models.generateContent({ model: "gemini-2.5-pro", contents: "still works" });
      assert.equal(lastUpstream(h).model, "gemini-2.5-pro");
    },
  );
  await withHarness({}, async (h, ai) => {
    await h.gw.settings.update({ aliases: { "team-model": "gemini-2.5-pro-search" } });
    await ai.models.generateContent({ model: "team-model", contents: "x" });
    assert.equal(lastUpstream(h).model, "gemini-2.5-pro");
    assert.deepEqual(lastUpstream(h).body.tools, [{ googleSearch: {} }]);
  });
});

Deno.test("default safety settings are added only when the client sent none", async () => {
  await withHarness({}, async (h, ai) => {
    await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" });
    assert.equal(lastUpstream(h).body.safetySettings, undefined, "off by default");

    const defaults = [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }];
    await h.gw.settings.update({ defaultSafetySettings: defaults });
    await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" });
    assert.deepEqual(lastUpstream(h).body.safetySettings, defaults, "the next request follows the change");

    const own = [{
      category: HarmCategory.HARM_CATEGORY_HATE_SPEECH,
      threshold: HarmBlockThreshold.BLOCK_LOW_AND_ABOVE,
    }];
    await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "x",
      config: { safetySettings: own },
    });
    assert.deepEqual(lastUpstream(h).body.safetySettings, own, "the client's own list is kept as is");
  });
});
