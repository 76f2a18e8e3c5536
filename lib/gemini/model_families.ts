/**
 * One table of Gemini model families and what each supports: thinking control (budget or level, which
 * levels, whether thinking can be turned off), image output, whole answers, function calling, thought
 * signatures, Google Search, code execution and URL context, and whether those built-in tools may sit
 * next to function declarations. Every feature and every dialect asks
 * {@link modelFamily}; nothing else in the gateway guesses from model names.
 *
 * How a model id finds its row (documented decision; first step that answers wins):
 * 1. `models/` is stripped and the id lower-cased.
 * 2. Google's moving aliases `gemini-pro-latest`, `gemini-flash-latest`, `gemini-flash-lite-latest`
 *    get the newest text row of their tier (the alias always points at Google's newest model of it).
 * 3. Rows with a `match` pattern (TTS, Live / native audio, embeddings, Gemma, Imagen, Veo, computer
 *    use, robotics) are tried in table order.
 * 4. `gemini-{version}-{pro|flash|flash-lite}...` ids are parsed: an `image` word after the tier makes
 *    it an image-output id. The row of the same kind and tier with the highest version not above the
 *    id's version wins, so preview, dated and `-001` ids get their family's row and unknown newer
 *    versions (`gemini-3.9-flash`, `gemini-4-pro`) behave like the newest known family of their tier.
 *    An image id of a tier without an image row takes the newest image row not above its version.
 * 5. Any other `gemini-{N}...` with N >= 3 gets the Gemini 3 default (thinking levels LOW and HIGH,
 *    which every Gemini 3 text family accepts; thought signatures required); other `gemini-` ids get
 *    a Gemini default without thinking control; anything else gets a default with nothing assumed.
 *
 * Sources are cited per row. Thinking ranges and levels: https://ai.google.dev/gemini-api/docs/thinking
 * and Google's per-model thinking table at
 * https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/thinking.
 *
 * @module
 */
import { bareModel } from "./model_id.ts";

/** Thinking levels in increasing order (`thinkingConfig.thinkingLevel`, sent upper-case). */
export const THINKING_LEVELS = ["minimal", "low", "medium", "high"] as const;
/** One thinking level. */
export type ThinkingLevel = typeof THINKING_LEVELS[number];

/** How a family controls thinking. */
export type ThinkingControl =
  /** `thinkingBudget` in tokens, `min`..`max`; -1 is dynamic; 0 turns thinking off when `canDisable`. */
  | { kind: "budget"; min: number; max: number; canDisable: boolean }
  /** `thinkingLevel`, one of `levels` (ascending); `canDisable`: the smallest level turns thinking off. */
  | { kind: "level"; levels: readonly ThinkingLevel[]; canDisable: boolean }
  /** The gateway offers no thinking control (no thinking, or not adjustable). */
  | { kind: "none" };

/** What a family is for. */
export type ModelKind =
  | "text"
  | "image"
  | "tts"
  | "embedding"
  | "live"
  | "imagen"
  | "veo"
  | "gemma"
  | "other";

/** Gemini's size tiers. */
export type ModelTier = "pro" | "flash" | "flash-lite";

/** What a model family supports. */
export interface ModelFamily {
  /** e.g. `gemini-2.5-flash-lite`, `gemini-3-pro`, `gemini-tts`. */
  family: string;
  kind: ModelKind;
  /** Size tier of a versioned Gemini family. */
  tier?: ModelTier;
  /** `[major, minor]` of a versioned Gemini family (`gemini-3.1-pro` → `[3, 1]`). */
  version?: readonly [number, number];
  thinking: ThinkingControl;
  /** Answers `generateContent` with image parts (`responseModalities` IMAGE). */
  imageOutput: boolean;
  /** Streaming is not offered or makes no sense: the answer comes whole (image output, speech, media). */
  answersWhole: boolean;
  functionCalling: boolean;
  /**
   * `required`: Gemini 3 validates the signature of each function call in the current turn (400 without);
   * `optional`: signatures are returned and should go back, but are not enforced; `none`: not used.
   * Source: https://ai.google.dev/gemini-api/docs/thought-signatures
   */
  thoughtSignatures: "required" | "optional" | "none";
  /** Image parts carry signatures too and must go back signed (Gemini 3 image models). */
  signsImages: boolean;
  /** Grounding with Google Search. */
  search: boolean;
  codeExecution: boolean;
  urlContext: boolean;
  /**
   * Built-in tools (Google Search, code execution, URL context) in the same request as function
   * declarations, with `toolConfig.includeServerSideToolInvocations: true` (Gemini 3 and later; the
   * answer then also holds `toolCall` / `toolResponse` parts). Without it Gemini 3 answers 400 "Please
   * enable tool_config.include_server_side_tool_invocations to use Built-in tools with Function calling.";
   * Gemini 2.x refuses the mix ("Tool use with function calling is unsupported"), and the flag too ("Tool
   * call context circulation is not enabled for models/gemini-2.5-flash").
   * Source: https://ai.google.dev/gemini-api/docs/tool-combination
   */
  toolCombination: boolean;
  /** Google's docs page for the row. */
  source: string;
}

/** A table row: a family plus, for non-versioned families, the ids it covers. */
interface FamilyRow extends ModelFamily {
  /** Tested against the bare, lower-cased id (resolution step 3). */
  match?: RegExp;
}

const NO_THINKING: ThinkingControl = { kind: "none" };
const ALL_LEVELS: readonly ThinkingLevel[] = THINKING_LEVELS;
const LOW_TO_HIGH: readonly ThinkingLevel[] = ["low", "medium", "high"];
/** Thinking levels that cannot turn thinking off (every Gemini 3 family). */
const level = (levels: readonly ThinkingLevel[]): ThinkingControl => ({
  kind: "level",
  levels,
  canDisable: false,
});

/** Capabilities every row starts from (a text model without extras). */
const BASE = {
  thinking: NO_THINKING,
  imageOutput: false,
  answersWhole: false,
  functionCalling: true,
  thoughtSignatures: "none",
  signsImages: false,
  search: false,
  codeExecution: false,
  urlContext: false,
  toolCombination: false,
} as const satisfies Partial<ModelFamily>;

/** The grounding tools of current text models. */
const TOOLS = { search: true, codeExecution: true, urlContext: true } as const;

/** Gemini 3 text families: thinking levels, signatures required, all grounding tools, also next to functions. */
const GEMINI_3 = { ...BASE, ...TOOLS, thoughtSignatures: "required", toolCombination: true } as const;

/** Media-only families: no tools, the answer comes whole. */
const MEDIA = { ...BASE, functionCalling: false, answersWhole: true } as const;

const DOCS = "https://ai.google.dev/gemini-api/docs";
const MODELS = `${DOCS}/models`;
const BUDGETS = `${DOCS}/thinking#set-budget`;
const IMAGES = `${DOCS}/image-generation`;

/** Where a versioned row sits: tier, `[major, minor]`, and the docs page. */
interface Versioned {
  tier: ModelTier;
  version: readonly [number, number];
  source: string;
}

/** `gemini-{major}[.{minor}]-{tier}[-{suffix}]`, the family name of a versioned row. */
function familyName(o: Versioned, suffix?: string): string {
  const v = o.version[1] ? `${o.version[0]}.${o.version[1]}` : `${o.version[0]}`;
  return [`gemini-${v}-${o.tier}`, suffix].filter(Boolean).join("-");
}

/** A Gemini 2.5 text family: a thinking budget `min`..`max`; signatures returned, not enforced. */
function gemini25(o: Versioned & { min: number; max: number; canDisable: boolean }): FamilyRow {
  const { min, max, canDisable, ...at } = o;
  return {
    ...BASE,
    ...TOOLS,
    ...at,
    family: familyName(at),
    kind: "text",
    thinking: { kind: "budget", min, max, canDisable },
    thoughtSignatures: "optional",
  };
}

/** A Gemini 3 (or later) text family: thinking `levels` that cannot turn thinking off. */
function gemini3(o: Versioned & { levels: readonly ThinkingLevel[] }): FamilyRow {
  const { levels, ...at } = o;
  return { ...GEMINI_3, ...at, family: familyName(at), kind: "text", thinking: level(levels) };
}

/** A Gemini 3 image-output family: thinking `levels`, signed image parts, optional Search grounding. */
function gemini3Image(o: Versioned & { levels: readonly ThinkingLevel[]; search: boolean }): FamilyRow {
  const { levels, ...at } = o;
  return {
    ...MEDIA,
    ...at,
    family: familyName(at, "image"),
    kind: "image",
    thinking: level(levels),
    imageOutput: true,
    thoughtSignatures: "required",
    signsImages: true,
  };
}

/** The family table. Versioned rows are found by kind, tier and version; `match` rows by pattern. */
export const MODEL_FAMILIES: readonly FamilyRow[] = [
  // --- Families matched by pattern (resolution step 3), tried in this order ---
  {
    // gemini-2.5-flash-preview-tts, gemini-2.5-pro-preview-tts: audio out only, no tools.
    ...MEDIA,
    family: "gemini-tts",
    kind: "tts",
    match: /^gemini-.*-tts(?:-|$)/,
    source: `${DOCS}/speech-generation`,
  },
  {
    // gemini-2.5-flash-native-audio-*, gemini-live-2.5-flash-preview, gemini-2.0-flash-live-001: Live API
    // (WebSocket) models; function calling and Search work there, not through generateContent.
    ...BASE,
    family: "gemini-live",
    kind: "live",
    match: /^gemini-(?:.*-)?(?:native-audio|live(?:-|$))/,
    search: true,
    source: `${DOCS}/live`,
  },
  {
    // gemini-embedding-001, text-embedding-004, embedding-001: embedContent only.
    ...BASE,
    family: "gemini-embedding",
    kind: "embedding",
    match: /embedding/,
    functionCalling: false,
    source: `${DOCS}/embeddings`,
  },
  {
    // gemini-2.5-computer-use-preview-10-2025: the Computer Use tool model.
    ...BASE,
    family: "gemini-computer-use",
    kind: "other",
    match: /^gemini-.*computer-use/,
    thoughtSignatures: "optional",
    source: `${DOCS}/computer-use`,
  },
  {
    // gemini-robotics-er-1.5-preview: embodied reasoning; thinking budget like 2.5 Flash.
    ...BASE,
    family: "gemini-robotics",
    kind: "other",
    match: /^gemini-robotics/,
    thinking: { kind: "budget", min: 1, max: 24576, canDisable: true },
    thoughtSignatures: "optional",
    source: `${DOCS}/robotics-overview`,
  },
  {
    // gemma-4-31b-it, gemma-4-26b-a4b-it: thinking on ("high") or off ("minimal"), native function calling.
    ...BASE,
    family: "gemma-4",
    kind: "gemma",
    match: /^gemma-4/,
    thinking: { kind: "level", levels: ["minimal", "high"], canDisable: true },
    source: "https://ai.google.dev/gemma/docs/core/gemma_on_gemini_api",
  },
  {
    // gemma-3-27b-it, gemma-3n-e4b-it, ...: plain text generation; no function calling, no tools.
    ...BASE,
    family: "gemma",
    kind: "gemma",
    match: /^gemma-/,
    functionCalling: false,
    source: "https://ai.google.dev/gemma/docs/core/gemma_on_gemini_api",
  },
  {
    // imagen-4.0-generate-001, ...: images through :predict, not generateContent.
    ...MEDIA,
    family: "imagen",
    kind: "imagen",
    match: /^imagen-/,
    source: `${DOCS}/imagen`,
  },
  {
    // veo-3.0-generate-001, ...: videos through :predictLongRunning.
    ...MEDIA,
    family: "veo",
    kind: "veo",
    match: /^veo-/,
    source: `${DOCS}/video`,
  },

  // --- Gemini 2.0 ---
  {
    ...BASE,
    ...TOOLS,
    family: "gemini-2.0-flash",
    kind: "text",
    tier: "flash",
    version: [2, 0],
    source: `${DOCS}/models/gemini-2.0-flash`,
  },
  {
    // Function calling yes; Search, code execution and URL context not supported.
    ...BASE,
    family: "gemini-2.0-flash-lite",
    kind: "text",
    tier: "flash-lite",
    version: [2, 0],
    source: `${DOCS}/models/gemini-2.0-flash-lite`,
  },
  {
    // gemini-2.0-flash-preview-image-generation, gemini-2.0-flash-exp-image-generation.
    ...MEDIA,
    family: "gemini-2.0-flash-image",
    kind: "image",
    tier: "flash",
    version: [2, 0],
    imageOutput: true,
    source: `${DOCS}/image-generation`,
  },
  {
    // gemini-2.5-flash-image(-preview), "Nano Banana": no thinking control, no tools (its model page lists
    // Search grounding, function calling and code execution as not supported).
    ...MEDIA,
    family: "gemini-2.5-flash-image",
    kind: "image",
    tier: "flash",
    version: [2, 5],
    imageOutput: true,
    source: `${DOCS}/models/gemini-2.5-flash-image`,
  },

  // --- Gemini 2.5: budgets. Pro 128-32768 and cannot turn off; Flash 0 or 1-24576; Flash-Lite 0 or 512-24576 ---
  gemini25({ tier: "pro", version: [2, 5], min: 128, max: 32768, canDisable: false, source: BUDGETS }),
  gemini25({ tier: "flash", version: [2, 5], min: 1, max: 24576, canDisable: true, source: BUDGETS }),
  gemini25({ tier: "flash-lite", version: [2, 5], min: 512, max: 24576, canDisable: true, source: BUDGETS }),

  // --- Gemini 3 and later: levels, cannot turn thinking off, signatures required on function calls ---
  // gemini-3-pro-preview: LOW and HIGH only.
  gemini3({ tier: "pro", version: [3, 0], levels: ["low", "high"], source: `${DOCS}/gemini-3` }),
  // gemini-3-flash-preview: all four levels (default HIGH).
  gemini3({ tier: "flash", version: [3, 0], levels: ALL_LEVELS, source: `${MODELS}/gemini-3-flash-preview` }),
  // gemini-3.1-pro-preview(-customtools): LOW, MEDIUM, HIGH; no MINIMAL.
  gemini3({ tier: "pro", version: [3, 1], levels: LOW_TO_HIGH, source: `${MODELS}/gemini-3.1-pro-preview` }),
  // gemini-3.1-flash-lite(-preview): all four levels (default MINIMAL).
  gemini3({
    tier: "flash-lite",
    version: [3, 1],
    levels: ALL_LEVELS,
    source: `${MODELS}/gemini-3.1-flash-lite`,
  }),
  // Default MEDIUM for 3.5 / 3.6 Flash, MINIMAL for 3.5 Flash-Lite.
  gemini3({ tier: "flash", version: [3, 5], levels: ALL_LEVELS, source: `${MODELS}/gemini-3.5-flash` }),
  gemini3({
    tier: "flash-lite",
    version: [3, 5],
    levels: ALL_LEVELS,
    source: `${MODELS}/gemini-3.5-flash-lite`,
  }),
  gemini3({ tier: "flash", version: [3, 6], levels: ALL_LEVELS, source: `${MODELS}/gemini-3.6-flash` }),
  // 3.7 and 3.8 Flash: LOW, MEDIUM, HIGH (default MEDIUM); MINIMAL is refused with a 400.
  gemini3({ tier: "flash", version: [3, 7], levels: LOW_TO_HIGH, source: `${MODELS}/gemini-3.7-flash` }),
  gemini3({ tier: "flash", version: [3, 8], levels: LOW_TO_HIGH, source: `${MODELS}/gemini-3.8-flash` }),

  // --- Gemini 3 image output: thinking levels, signed image parts ---
  // gemini-3-pro-image-preview, "Nano Banana Pro": always thinks at HIGH; Search grounding.
  gemini3Image({ tier: "pro", version: [3, 0], levels: ["high"], search: true, source: IMAGES }),
  // gemini-3.1-flash-image-preview, "Nano Banana 2": MINIMAL (default) or HIGH; web and image search.
  gemini3Image({ tier: "flash", version: [3, 1], levels: ["minimal", "high"], search: true, source: IMAGES }),
  // gemini-3.1-flash-lite-image, "Nano Banana 2 Lite": MINIMAL or HIGH.
  gemini3Image({
    tier: "flash-lite",
    version: [3, 1],
    levels: ["minimal", "high"],
    search: false,
    source: IMAGES,
  }),
];

/** Any other `gemini-{N}...` with N >= 3: the levels every Gemini 3 text family accepts. */
const GEMINI_3_DEFAULT: ModelFamily = {
  ...GEMINI_3,
  family: "gemini-3-default",
  kind: "text",
  thinking: level(["low", "high"]),
  source: `${DOCS}/gemini-3`,
};

/** Other `gemini-` ids (older or unparsable): function calling, nothing else assumed. */
const GEMINI_DEFAULT: ModelFamily = {
  ...BASE,
  family: "gemini-default",
  kind: "text",
  thoughtSignatures: "optional",
  source: `${DOCS}/models`,
};

/** Non-Gemini ids nobody knows: nothing assumed. */
const UNKNOWN: ModelFamily = {
  ...BASE,
  family: "unknown",
  kind: "other",
  functionCalling: false,
  source: `${DOCS}/models`,
};

/** Google's moving aliases; they point at the newest model of their tier. Source: https://ai.google.dev/gemini-api/docs/models#model-versions */
const LATEST_ALIAS = /^gemini-(pro|flash|flash-lite)-latest$/;
const VERSIONED = /^gemini-(\d+)(?:\.(\d+))?-(flash-lite|flash|pro)(?![a-z0-9])(.*)$/;
const MAJOR = /^gemini-(\d+)(?:\.\d+)?(?:-|$)/;

const compare = (a: readonly [number, number], b: readonly [number, number]) => a[0] - b[0] || a[1] - b[1];

/** The row with the highest version not above `version` among `rows` (any version when omitted). */
function newest(rows: readonly FamilyRow[], version?: readonly [number, number]): FamilyRow | undefined {
  let best: FamilyRow | undefined;
  for (const r of rows) {
    if (!r.version || (version && compare(r.version, version) > 0)) continue;
    if (!best || compare(r.version, best.version!) > 0) best = r;
  }
  return best;
}

const byKindTier = (kind: ModelKind, tier?: ModelTier) =>
  MODEL_FAMILIES.filter((r) => r.kind === kind && (tier === undefined || r.tier === tier));

/**
 * The family of a model id (bare or `models/...`, any case), following the resolution order in the
 * module docs. Never throws; unknown ids get a default row (`gemini-3-default`, `gemini-default` or
 * `unknown`).
 */
export function modelFamily(model: string): ModelFamily {
  let row = FAMILY_CACHE.get(model);
  if (!row) {
    row = lookupFamily(model);
    // Bounded: ids come from clients; the table's answer for an id never changes.
    if (FAMILY_CACHE.size >= 10_000) FAMILY_CACHE.clear();
    FAMILY_CACHE.set(model, row);
  }
  return row;
}

const FAMILY_CACHE = new Map<string, ModelFamily>();

function lookupFamily(model: string): ModelFamily {
  const id = bareModel(model.trim().toLowerCase());
  const alias = LATEST_ALIAS.exec(id);
  if (alias) return newest(byKindTier("text", alias[1] as ModelTier))!;
  const matched = MODEL_FAMILIES.find((r) => r.match?.test(id));
  if (matched) return matched;
  const v = VERSIONED.exec(id);
  if (v) {
    const version = [Number(v[1]), Number(v[2] ?? 0)] as const;
    const tier = v[3] as ModelTier;
    const kind: ModelKind = /(?:^|-)image(?:-|$)/.test(v[4]) ? "image" : "text";
    const row = newest(byKindTier(kind, tier), version) ??
      (kind === "image" ? newest(byKindTier("image"), version) : undefined);
    if (row) return row;
  }
  const major = MAJOR.exec(id);
  if (major && Number(major[1]) >= 3) return GEMINI_3_DEFAULT;
  return id.startsWith("gemini-") ? GEMINI_DEFAULT : UNKNOWN;
}

/**
 * True when a family offers a thinking choice worth a `-thinking` / `-nothinking` variant: a budget, or
 * more than one level.
 */
export function offersThinkingChoice(family: ModelFamily): boolean {
  const t = family.thinking;
  return t.kind === "budget" || (t.kind === "level" && t.levels.length > 1);
}
