/**
 * Thinking controls: per-model ranges (budget for Gemini 2.5, level for Gemini 3+), the `-thinking` /
 * `-nothinking` suffix semantics, per-prefix defaults, and repair of client values the model would refuse
 * (e.g. budget 0 on 2.5 Pro becomes the smallest allowed budget instead of a 400).
 *
 * @module
 */

/** Thinking levels in increasing order (Gemini 3 `thinkingLevel`). */
export const THINKING_LEVELS = ["minimal", "low", "medium", "high"] as const;
/** One Gemini 3 thinking level. */
export type ThinkingLevel = typeof THINKING_LEVELS[number];

/** How a model family controls thinking. */
export type ThinkingProfile =
  | { kind: "budget"; min: number; max: number; canDisable: boolean }
  | { kind: "level"; smallest: ThinkingLevel; canDisable: false };

/** First matching pattern wins; `null` = no thinking control offered. */
const PROFILES: ReadonlyArray<{ pattern: RegExp; profile: ThinkingProfile | null }> = [
  { pattern: /-image|-tts|native-audio|embedding|-live/, profile: null },
  {
    pattern: /^gemini-([3-9]|\d\d)[\d.]*-flash/,
    profile: { kind: "level", smallest: "minimal", canDisable: false },
  },
  { pattern: /^gemini-([3-9]|\d\d)[\d.]*-/, profile: { kind: "level", smallest: "low", canDisable: false } },
  { pattern: /^gemini-2\.5-pro/, profile: { kind: "budget", min: 128, max: 32768, canDisable: false } },
  { pattern: /^gemini-2\.5-flash-lite/, profile: { kind: "budget", min: 512, max: 24576, canDisable: true } },
  { pattern: /^gemini-2\.5-flash/, profile: { kind: "budget", min: 1, max: 24576, canDisable: true } },
];

/** Budget used when a Gemini 2.5 model receives a `thinkingLevel` (Google's compat-layer mapping). */
const LEVEL_TO_BUDGET: Record<ThinkingLevel, number> = {
  minimal: 1024,
  low: 1024,
  medium: 8192,
  high: 24576,
};

/** The thinking profile of a real model id, or null when the gateway offers no thinking control for it. */
export function thinkingProfile(model: string): ThinkingProfile | null {
  return PROFILES.find((p) => p.pattern.test(model))?.profile ?? null;
}

/** A thinking default as configured per model prefix. */
export interface ThinkingDefault {
  thinkingBudget?: number;
  thinkingLevel?: ThinkingLevel;
  includeThoughts?: boolean;
}

/** Input of {@link resolveThinkingConfig}. */
export interface ThinkingInput {
  /** Real model id. */
  model: string;
  /** The client's `generationConfig.thinkingConfig`, if any. */
  client?: Record<string, unknown>;
  /** Suffix request: `on` (-thinking), `off` (-nothinking) or none. */
  mode?: "on" | "off";
  /** `thinkingDefaults` setting (keyed by model prefix). */
  defaults?: Record<string, ThinkingDefault>;
}

/** Longest-prefix lookup in the `thinkingDefaults` setting. */
export function thinkingDefaultFor(
  model: string,
  defaults: Record<string, ThinkingDefault> = {},
): ThinkingDefault | undefined {
  const key = Object.keys(defaults).filter((p) => model.startsWith(p)).sort((a, b) => b.length - a.length)[0];
  return key === undefined ? undefined : defaults[key];
}

function toLevel(v: unknown): ThinkingLevel | undefined {
  const s = typeof v === "string" ? v.toLowerCase() : "";
  return (THINKING_LEVELS as readonly string[]).includes(s) ? s as ThinkingLevel : undefined;
}

const upper = (l: ThinkingLevel) => l.toUpperCase();

/**
 * Decides the `thinkingConfig` to send. Precedence: an explicit suffix wins over the client's
 * thinkingConfig (the suffix is part of the model the client chose; other client fields such as
 * `includeThoughts` survive unless the suffix sets them), the client's config wins over the per-prefix
 * default. Values the model would refuse are repaired and a note says so. Returns `undefined` when no
 * thinkingConfig should be sent.
 */
export function resolveThinkingConfig(
  input: ThinkingInput,
): { config?: Record<string, unknown>; notes: string[] } {
  const notes: string[] = [];
  const profile = thinkingProfile(input.model);
  const client = input.client;
  const def = thinkingDefaultFor(input.model, input.defaults);
  if (!profile) {
    if (input.mode) {
      notes.push(
        `${input.model} has no thinking control; the -${suffixWord(input.mode)} suffix was ignored.`,
      );
    }
    return { config: client, notes };
  }
  if (input.mode) {
    const cfg: Record<string, unknown> = { ...client };
    delete cfg.thinkingBudget;
    delete cfg.thinkingLevel;
    if (input.mode === "on") {
      if (profile.kind === "budget") cfg.thinkingBudget = def?.thinkingBudget ? def.thinkingBudget : -1;
      else cfg.thinkingLevel = upper(def?.thinkingLevel ?? "high");
      cfg.includeThoughts = true;
    } else {
      if (profile.kind === "budget") cfg.thinkingBudget = profile.canDisable ? 0 : profile.min;
      else cfg.thinkingLevel = upper(profile.smallest);
      cfg.includeThoughts = false;
      if (!profile.canDisable) {
        notes.push(`${input.model} cannot turn thinking off; using the smallest setting instead.`);
      }
    }
    return { config: cfg, notes };
  }
  const source = client ??
    (def ? { ...def, ...(def.thinkingLevel ? { thinkingLevel: upper(def.thinkingLevel) } : {}) } : undefined);
  if (!source) return { notes };
  return { config: repair(input.model, profile, source, notes), notes };
}

/** Fixes budget/level values the model family would refuse; never mutates `cfg`. */
function repair(
  model: string,
  profile: ThinkingProfile,
  cfg: Record<string, unknown>,
  notes: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...cfg };
  const level = toLevel(out.thinkingLevel);
  const budget = typeof out.thinkingBudget === "number" ? out.thinkingBudget : undefined;
  if (profile.kind === "budget") {
    if (level && budget === undefined) {
      out.thinkingBudget = Math.min(profile.max, Math.max(profile.min, LEVEL_TO_BUDGET[level]));
      notes.push(`${model} takes a thinking budget; thinkingLevel ${level} became ${out.thinkingBudget}.`);
    }
    if (out.thinkingLevel !== undefined) delete out.thinkingLevel;
    const b = out.thinkingBudget;
    if (typeof b === "number" && b !== -1) {
      const fixed = b === 0 && profile.canDisable ? 0 : Math.min(profile.max, Math.max(profile.min, b));
      if (fixed !== b) {
        notes.push(`thinkingBudget ${b} is outside ${model}'s range; using ${fixed}.`);
        out.thinkingBudget = fixed;
      }
    }
  } else {
    if (budget === 0) {
      delete out.thinkingBudget;
      if (!level) out.thinkingLevel = upper(profile.smallest);
      notes.push(`${model} cannot turn thinking off; using thinkingLevel ${profile.smallest}.`);
    } else if (level && budget !== undefined) {
      delete out.thinkingBudget;
      notes.push(`${model} refuses thinkingBudget together with thinkingLevel; the budget was dropped.`);
    }
  }
  return out;
}

function suffixWord(mode: "on" | "off"): string {
  return mode === "on" ? "thinking" : "nothinking";
}
