/**
 * The model-family table (lib/gemini/model_families.ts) and the thinking rules that read it: one
 * assertion group per row, unknown future models, Google's `-latest` aliases, and the cases where the
 * two former copies of the thinking rules disagreed, driven through the OpenAI SDK, the Google SDK and
 * the mock upstream (which refuses thinking levels a model lacks with Google's 400).
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { GoogleGenAI, ThinkingLevel } from "./support/sdk/genai.ts";
import {
  MODEL_FAMILIES,
  type ModelFamily,
  modelFamily,
  type ThinkingControl,
} from "../lib/gemini/model_families.ts";
import { REASONING_EFFORTS, resolveThinkingConfig, thinkingForEffort } from "../lib/gemini/thinking.ts";
import { type Harness, startHarness } from "./support/harness.ts";

/** What Google's docs say per row (ids as Google names them; the row cites the page). */
interface Expected {
  ids: string[];
  kind: ModelFamily["kind"];
  thinking: ThinkingControl;
  imageOutput?: boolean;
  answersWhole?: boolean;
  functionCalling: boolean;
  thoughtSignatures: ModelFamily["thoughtSignatures"];
  signsImages?: boolean;
  /** [search, codeExecution, urlContext] */
  tools: readonly [boolean, boolean, boolean];
}

const NONE: ThinkingControl = { kind: "none" };
const ALL = ["minimal", "low", "medium", "high"] as const;
const NO_MINIMAL = ["low", "medium", "high"] as const;
const level = (levels: readonly (typeof ALL)[number][], canDisable = false): ThinkingControl => ({
  kind: "level",
  levels,
  canDisable,
});
/** No thinking control, no tools, no signatures. */
const PLAIN = {
  thinking: NONE,
  functionCalling: false,
  thoughtSignatures: "none",
  tools: [false, false, false],
} as const;
const MEDIA = { ...PLAIN, answersWhole: true } as const;
const TEXT25 = {
  kind: "text",
  functionCalling: true,
  thoughtSignatures: "optional",
  tools: [true, true, true],
} as const;
const TEXT3 = { ...TEXT25, thoughtSignatures: "required" } as const;
const IMAGE3 = {
  kind: "image",
  imageOutput: true,
  answersWhole: true,
  functionCalling: false,
  thoughtSignatures: "required",
  signsImages: true,
} as const;
const budget = (min: number, max: number, canDisable: boolean): ThinkingControl => ({
  kind: "budget",
  min,
  max,
  canDisable,
});

const EXPECTED: Record<string, Expected> = {
  "gemini-tts": {
    ...MEDIA,
    kind: "tts",
    ids: ["gemini-2.5-flash-preview-tts", "gemini-2.5-pro-preview-tts"],
  },
  "gemini-live": {
    ...PLAIN,
    kind: "live",
    ids: [
      "gemini-2.5-flash-native-audio-preview-09-2025",
      "gemini-live-2.5-flash-preview",
      "gemini-2.0-flash-live-001",
    ],
    functionCalling: true,
    tools: [true, false, false],
  },
  "gemini-embedding": {
    ...PLAIN,
    kind: "embedding",
    ids: ["gemini-embedding-001", "text-embedding-004", "models/embedding-001"],
  },
  "gemini-computer-use": {
    ...PLAIN,
    kind: "other",
    ids: ["gemini-2.5-computer-use-preview-10-2025"],
    functionCalling: true,
    thoughtSignatures: "optional",
  },
  "gemini-robotics": {
    ...PLAIN,
    kind: "other",
    ids: ["gemini-robotics-er-1.5-preview"],
    thinking: budget(1, 24576, true),
    functionCalling: true,
    thoughtSignatures: "optional",
  },
  "gemma-4": {
    ...PLAIN,
    kind: "gemma",
    ids: ["gemma-4-31b-it", "gemma-4-26b-a4b-it"],
    thinking: level(["minimal", "high"], true),
    functionCalling: true,
  },
  "gemma": { ...PLAIN, kind: "gemma", ids: ["gemma-3-27b-it", "gemma-3n-e4b-it"] },
  "imagen": { ...MEDIA, kind: "imagen", ids: ["imagen-4.0-generate-001"] },
  "veo": { ...MEDIA, kind: "veo", ids: ["veo-3.0-generate-001"] },
  "gemini-2.0-flash": {
    ...TEXT25,
    ids: [
      "gemini-2.0-flash",
      "gemini-2.0-flash-001",
      "gemini-2.0-flash-exp",
      "gemini-2.0-flash-thinking-exp-01-21",
    ],
    thinking: NONE,
    thoughtSignatures: "none",
  },
  "gemini-2.0-flash-lite": {
    ...PLAIN,
    kind: "text",
    ids: ["gemini-2.0-flash-lite", "gemini-2.0-flash-lite-001"],
    functionCalling: true,
  },
  "gemini-2.0-flash-image": {
    ...MEDIA,
    kind: "image",
    ids: ["gemini-2.0-flash-preview-image-generation", "gemini-2.0-flash-exp-image-generation"],
    imageOutput: true,
  },
  "gemini-2.5-pro": {
    ...TEXT25,
    ids: ["gemini-2.5-pro", "gemini-2.5-pro-preview-06-05"],
    thinking: budget(128, 32768, false),
  },
  "gemini-2.5-flash": {
    ...TEXT25,
    ids: ["gemini-2.5-flash", "gemini-2.5-flash-preview-09-2025", "MODELS/GEMINI-2.5-FLASH"],
    thinking: budget(1, 24576, true),
  },
  "gemini-2.5-flash-lite": {
    ...TEXT25,
    ids: ["gemini-2.5-flash-lite", "gemini-2.5-flash-lite-preview-06-17"],
    thinking: budget(512, 24576, true),
  },
  "gemini-2.5-flash-image": {
    ...MEDIA,
    kind: "image",
    ids: ["gemini-2.5-flash-image", "gemini-2.5-flash-image-preview"],
    imageOutput: true,
  },
  "gemini-3-pro": { ...TEXT3, ids: ["gemini-3-pro-preview"], thinking: level(["low", "high"]) },
  "gemini-3-flash": { ...TEXT3, ids: ["gemini-3-flash-preview"], thinking: level(ALL) },
  "gemini-3-pro-image": {
    ...IMAGE3,
    ids: ["gemini-3-pro-image-preview"],
    thinking: level(["high"]),
    tools: [true, false, false],
  },
  "gemini-3.1-pro": {
    ...TEXT3,
    ids: ["gemini-3.1-pro-preview", "gemini-3.1-pro-preview-customtools"],
    thinking: level(NO_MINIMAL),
  },
  "gemini-3.1-flash-lite": {
    ...TEXT3,
    ids: ["gemini-3.1-flash-lite", "gemini-3.1-flash-lite-preview"],
    thinking: level(ALL),
  },
  "gemini-3.1-flash-image": {
    ...IMAGE3,
    ids: ["gemini-3.1-flash-image-preview"],
    thinking: level(["minimal", "high"]),
    tools: [true, false, false],
  },
  "gemini-3.1-flash-lite-image": {
    ...IMAGE3,
    ids: ["gemini-3.1-flash-lite-image"],
    thinking: level(["minimal", "high"]),
    tools: [false, false, false],
  },
  "gemini-3.5-flash": { ...TEXT3, ids: ["gemini-3.5-flash"], thinking: level(ALL) },
  "gemini-3.5-flash-lite": { ...TEXT3, ids: ["gemini-3.5-flash-lite"], thinking: level(ALL) },
  "gemini-3.6-flash": { ...TEXT3, ids: ["gemini-3.6-flash"], thinking: level(ALL) },
  "gemini-3.7-flash": { ...TEXT3, ids: ["gemini-3.7-flash"], thinking: level(NO_MINIMAL) },
  "gemini-3.8-flash": {
    ...TEXT3,
    ids: ["gemini-3.8-flash", "models/gemini-3.8-flash"],
    thinking: level(NO_MINIMAL),
  },
};

for (const [family, e] of Object.entries(EXPECTED)) {
  Deno.test(`family ${family}: ${e.ids.join(", ")}`, () => {
    for (const id of e.ids) {
      const f = modelFamily(id);
      const got = {
        family: f.family,
        kind: f.kind,
        thinking: f.thinking,
        imageOutput: f.imageOutput,
        answersWhole: f.answersWhole,
        functionCalling: f.functionCalling,
        thoughtSignatures: f.thoughtSignatures,
        signsImages: f.signsImages,
        tools: [f.search, f.codeExecution, f.urlContext],
      };
      assert.deepEqual(got, {
        family,
        kind: e.kind,
        thinking: e.thinking,
        imageOutput: e.imageOutput ?? false,
        answersWhole: e.answersWhole ?? false,
        functionCalling: e.functionCalling,
        thoughtSignatures: e.thoughtSignatures,
        signsImages: e.signsImages ?? false,
        tools: e.tools,
      }, id);
    }
  });
}

Deno.test("every row is covered above and cites a Google docs page", () => {
  for (const row of MODEL_FAMILIES) {
    assert.ok(EXPECTED[row.family], `no expectations for ${row.family}`);
    assert.match(row.source, /^https:\/\/(ai\.google\.dev|docs\.cloud\.google\.com)\//, row.family);
  }
  assert.equal(new Set(MODEL_FAMILIES.map((r) => r.family)).size, MODEL_FAMILIES.length, "unique names");
});

Deno.test("unknown future models behave like the newest family of their tier", () => {
  const cases: Array<[string, string]> = [
    ["gemini-4-pro", "gemini-3.1-pro"],
    ["gemini-4-pro-preview-01-2027", "gemini-3.1-pro"],
    ["gemini-3.9-flash", "gemini-3.8-flash"],
    ["gemini-4-flash", "gemini-3.8-flash"],
    ["gemini-3.10-flash", "gemini-3.8-flash"], // versions compare as numbers, not decimals
    ["gemini-4-flash-lite", "gemini-3.5-flash-lite"],
    ["gemini-4-flash-image", "gemini-3.1-flash-image"],
    ["gemini-4-pro-image-preview", "gemini-3-pro-image"],
    ["gemini-3.2-flash-lite-image", "gemini-3.1-flash-lite-image"],
    ["gemini-5-flash-preview-tts", "gemini-tts"],
    // Between known versions: the nearest older one of the tier.
    ["gemini-3.4-flash", "gemini-3-flash"],
  ];
  for (const [id, family] of cases) assert.equal(modelFamily(id).family, family, id);
  // gemini-N with an unknown tier: the levels every Gemini 3 text family accepts, signatures required.
  const ultra = modelFamily("gemini-4-ultra");
  assert.equal(ultra.family, "gemini-3-default");
  assert.deepEqual(ultra.thinking, level(["low", "high"]));
  assert.equal(ultra.thoughtSignatures, "required");
  // Older or unparsable Gemini ids: no thinking control, function calling, nothing else assumed.
  for (const id of ["gemini-1.5-pro", "gemini-exp-1206", "gemini-pro"]) {
    const f = modelFamily(id);
    assert.deepEqual([f.family, f.thinking.kind, f.functionCalling], ["gemini-default", "none", true], id);
  }
  const other = modelFamily("gpt-4o");
  assert.deepEqual([other.family, other.kind, other.thinking.kind, other.functionCalling], [
    "unknown",
    "other",
    "none",
    false,
  ]);
});

Deno.test("Google's -latest aliases get the newest family of their tier", () => {
  assert.equal(modelFamily("gemini-flash-latest").family, "gemini-3.8-flash");
  assert.equal(modelFamily("models/gemini-pro-latest").family, "gemini-3.1-pro");
  assert.equal(modelFamily("gemini-flash-lite-latest").family, "gemini-3.5-flash-lite");
  // Thinking control and the Gemini 3 signature fallback come with the family.
  assert.deepEqual(thinkingForEffort("gemini-flash-latest", "none"), { thinkingLevel: "LOW" });
  assert.deepEqual(thinkingForEffort("gemini-pro-latest", "medium"), { thinkingLevel: "MEDIUM" });
  assert.equal(modelFamily("gemini-pro-latest").thoughtSignatures, "required");
});

/** Every row (plus the defaults) through one id each. */
const ONE_ID_PER_FAMILY = [
  ...Object.values(EXPECTED).map((e) => e.ids[0]),
  "gemini-4-ultra",
  "gemini-exp-1206",
  "gpt-4o",
  "gemini-flash-latest",
];

Deno.test("-nothinking and reasoning_effort none give the same config for every family", () => {
  for (const model of ONE_ID_PER_FAMILY) {
    const suffix = resolveThinkingConfig({ model, mode: "off" }).config;
    const effort = thinkingForEffort(model, "none");
    if (effort === undefined) {
      assert.equal(suffix, undefined, model);
      continue;
    }
    assert.deepEqual(suffix, { ...effort, includeThoughts: false }, model);
  }
});

Deno.test("every effort gives a level the family has, or a budget in its range", () => {
  for (const model of ONE_ID_PER_FAMILY) {
    const t = modelFamily(model).thinking;
    for (const effort of REASONING_EFFORTS) {
      const cfg = thinkingForEffort(model, effort);
      if (t.kind === "none") assert.equal(cfg, undefined, `${model} ${effort}`);
      if (t.kind === "level") {
        assert.ok(t.levels.includes(cfg?.thinkingLevel?.toLowerCase() as never), `${model} ${effort}`);
      }
      if (t.kind === "budget") {
        const b = cfg?.thinkingBudget ?? -2;
        assert.ok(
          b === 0 ? t.canDisable && effort === "none" : b >= t.min && b <= t.max,
          `${model} ${effort}`,
        );
      }
    }
  }
  assert.throws(() => thinkingForEffort("gemini-2.0-flash", "extreme"), /Invalid reasoning_effort 'extreme'/);
});

Deno.test("former disagreements now follow Google's docs", () => {
  // gemini-3.1-pro has no MINIMAL: minimal and none become LOW, like -nothinking.
  assert.deepEqual(thinkingForEffort("gemini-3.1-pro-preview", "minimal"), { thinkingLevel: "LOW" });
  assert.deepEqual(thinkingForEffort("gemini-3.1-pro-preview", "none"), { thinkingLevel: "LOW" });
  assert.deepEqual(thinkingForEffort("gemini-3.1-pro-preview", "medium"), { thinkingLevel: "MEDIUM" });
  // Gemini 3 Pro: LOW and HIGH only; medium rounds up.
  assert.deepEqual(thinkingForEffort("gemini-3-pro-preview", "medium"), { thinkingLevel: "HIGH" });
  // Image models: 3 Pro Image thinks at HIGH only, 3.1 Flash Image has MINIMAL and HIGH, 2.5 none.
  assert.deepEqual(thinkingForEffort("gemini-3-pro-image-preview", "minimal"), { thinkingLevel: "HIGH" });
  assert.deepEqual(thinkingForEffort("gemini-3.1-flash-image-preview", "low"), { thinkingLevel: "MINIMAL" });
  assert.equal(thinkingForEffort("gemini-2.5-flash-image", "high"), undefined);
  // Newer than 3: levels of the newest family of the tier (3.7 and 3.8 Flash refuse MINIMAL).
  assert.deepEqual(thinkingForEffort("gemini-4-flash", "minimal"), { thinkingLevel: "LOW" });
  assert.deepEqual(resolveThinkingConfig({ model: "gemini-3.8-flash", mode: "off" }).config, {
    thinkingLevel: "LOW",
    includeThoughts: false,
  });
  // A client level the family lacks is repaired to the nearest one it has.
  const r = resolveThinkingConfig({ model: "gemini-3.1-pro-preview", client: { thinkingLevel: "MINIMAL" } });
  assert.deepEqual(r.config, { thinkingLevel: "LOW" });
  assert.match(r.notes[0], /no thinkingLevel minimal/);
});

function openai(h: Harness): OpenAI {
  return new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 });
}

function lastThinking(h: Harness): unknown {
  const r = h.mock.requests.filter((x) => /:(stream)?[gG]enerateContent$/.test(x.path)).at(-1)!;
  return ((r.json as Record<string, Record<string, unknown>>).generationConfig ?? {}).thinkingConfig;
}

Deno.test("OpenAI SDK: reasoning_effort minimal and none on gemini-3.1-pro-preview are accepted upstream", async () => {
  const h = await startHarness();
  try {
    for (const effort of ["minimal", "none"] as const) {
      const res = await openai(h).chat.completions.create({
        model: "gemini-3.1-pro-preview",
        messages: [{ role: "user", content: "hi" }],
        reasoning_effort: effort,
      });
      assert.equal(res.choices[0].message.content, "echo: hi");
      assert.equal((lastThinking(h) as Record<string, unknown>).thinkingLevel, "LOW", effort);
    }
  } finally {
    await h.close();
  }
});

Deno.test("OpenAI SDK: gemini-flash-latest keeps thinking control and the Gemini 3 history fallback", async () => {
  const h = await startHarness();
  try {
    const res = await openai(h).chat.completions.create({
      model: "gemini-flash-latest",
      messages: [{ role: "user", content: "hi" }],
      reasoning_effort: "none",
    });
    assert.equal(res.choices[0].message.content, "echo: hi");
    assert.deepEqual(lastThinking(h), { thinkingLevel: "LOW" });
    // History with a tool call the gateway never saw (no signature): Gemini 3 needs the documented dummy.
    const follow = await openai(h).chat.completions.create({
      model: "gemini-flash-latest",
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "foreign_1",
            type: "function",
            function: { name: "get_weather", arguments: "{}" },
          }],
        },
        { role: "tool", tool_call_id: "foreign_1", content: "sunny" },
      ],
    });
    assert.match(follow.choices[0].message.content ?? "", /^result: /);
  } finally {
    await h.close();
  }
});

Deno.test("Google SDK: -nothinking on gemini-flash-latest and MINIMAL on gemini-3.1-pro-preview reach Google as LOW", async () => {
  const h = await startHarness();
  try {
    const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
    const off = await ai.models.generateContent({ model: "gemini-flash-latest-nothinking", contents: "hi" });
    assert.equal(off.text, "echo: hi");
    assert.deepEqual(lastThinking(h), { thinkingLevel: "LOW", includeThoughts: false });
    const minimal = await ai.models.generateContent({
      model: "gemini-3.1-pro-preview",
      contents: "hi",
      config: { thinkingConfig: { thinkingLevel: ThinkingLevel.MINIMAL } },
    });
    assert.equal(minimal.text, "echo: hi");
    assert.deepEqual(lastThinking(h), { thinkingLevel: "LOW" });
  } finally {
    await h.close();
  }
});
