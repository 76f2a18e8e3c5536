/**
 * Thinking controls, all read from the family table ({@link modelFamily}): the `-thinking` /
 * `-nothinking` suffix semantics, per-prefix defaults, repair of client values the model would refuse
 * (budget 0 on 2.5 Pro, a level the family lacks, budget and level together), and OpenAI's
 * `reasoning_effort` mapped to a budget or level by family.
 *
 * One rule for "off": thinking off where the family can turn it off (budget 0, or its smallest level when
 * that level means off), else the smallest setting it accepts. `-nothinking` and `reasoning_effort: none`
 * both use it, so they always give the same config for the same model.
 *
 * Sources: https://ai.google.dev/gemini-api/docs/thinking (budgets, levels, "cannot turn off"),
 * https://ai.google.dev/gemini-api/docs/openai#thinking (effort → budget: low 1,024, medium 8,192,
 * high 24,576; none disables where possible).
 *
 * @module
 */
import { badRequest } from "../http/errors.ts";
import { modelFamily, THINKING_LEVELS, type ThinkingControl, type ThinkingLevel } from "./model_families.ts";
import type { GeminiThinkingConfig } from "./types.ts";

/** OpenAI's `reasoning_effort` values the gateway accepts. */
export const REASONING_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"] as const;
/** One `reasoning_effort` value. */
export type ReasoningEffort = typeof REASONING_EFFORTS[number];

/** What each effort (and each level, for budget families) asks for: a level, or a budget in tokens. */
const EFFORTS: Record<Exclude<ReasoningEffort, "none">, { level: ThinkingLevel; budget: number }> = {
  minimal: { level: "minimal", budget: 1024 },
  low: { level: "low", budget: 1024 },
  medium: { level: "medium", budget: 8192 },
  high: { level: "high", budget: 24576 },
  xhigh: { level: "high", budget: 32768 },
  max: { level: "high", budget: 32768 },
};

type LevelControl = Extract<ThinkingControl, { kind: "level" }>;
type BudgetControl = Extract<ThinkingControl, { kind: "budget" }>;

const upper = (l: ThinkingLevel) => l.toUpperCase();

/**
 * The level of `control` closest to `wanted` (ties go to the higher level, so `medium` on a LOW/HIGH
 * family thinks more rather than less).
 */
export function nearestLevel(control: LevelControl, wanted: ThinkingLevel): ThinkingLevel {
  const rank = (l: ThinkingLevel) => THINKING_LEVELS.indexOf(l);
  let best = control.levels[0];
  for (const l of control.levels) {
    const d = Math.abs(rank(l) - rank(wanted)), bd = Math.abs(rank(best) - rank(wanted));
    if (d < bd || (d === bd && rank(l) > rank(best))) best = l;
  }
  return best;
}

const clampBudget = (c: BudgetControl, b: number) => Math.min(c.max, Math.max(c.min, b));

/**
 * The "off" setting of a family: budget 0 (or its minimum when it cannot turn thinking off), or its
 * smallest level. `off` is false when thinking still runs. Undefined for families without control.
 */
export function thinkingOff(
  control: ThinkingControl,
): { config: GeminiThinkingConfig; off: boolean } | undefined {
  if (control.kind === "budget") {
    return { config: { thinkingBudget: control.canDisable ? 0 : control.min }, off: control.canDisable };
  }
  if (control.kind === "level") {
    return { config: { thinkingLevel: upper(control.levels[0]) }, off: control.canDisable };
  }
  return undefined;
}

function toEffort(effort: string): ReasoningEffort {
  const e = effort.toLowerCase();
  if ((REASONING_EFFORTS as readonly string[]).includes(e)) return e as ReasoningEffort;
  throw badRequest(
    "reasoning_effort",
    `Invalid reasoning_effort '${effort}': use one of ${REASONING_EFFORTS.join(", ")}.`,
    { code: "invalid_value" },
  );
}

/**
 * Maps OpenAI's `reasoning_effort` to Gemini's `thinkingConfig` for `model` (bare or `models/...`):
 * a level on level families (a level the family lacks becomes the nearest one it has), a budget on
 * budget families (low 1,024, medium 8,192, high 24,576, xhigh/max 32,768, clamped to the family's range),
 * `none` as {@link thinkingOff}. Returns undefined when the family has no thinking control.
 *
 * @throws {GatewayError} 400 (`param: "reasoning_effort"`) for a value outside {@link REASONING_EFFORTS}.
 */
export function thinkingForEffort(model: string, effort: string): GeminiThinkingConfig | undefined {
  const e = toEffort(effort);
  const control = modelFamily(model).thinking;
  if (e === "none") return thinkingOff(control)?.config;
  if (control.kind === "level") return { thinkingLevel: upper(nearestLevel(control, EFFORTS[e].level)) };
  if (control.kind === "budget") return { thinkingBudget: clampBudget(control, EFFORTS[e].budget) };
  return undefined;
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

/**
 * Decides the `thinkingConfig` to send. Precedence: an explicit suffix wins over the client's
 * thinkingConfig (the suffix is part of the model the client chose; other client fields such as
 * `includeThoughts` survive unless the suffix sets them), the client's config wins over the per-prefix
 * default. Values the model would refuse are repaired and a note says so. `config` is undefined when
 * no thinkingConfig should be sent.
 */
export function resolveThinkingConfig(
  input: ThinkingInput,
): { config?: Record<string, unknown>; notes: string[] } {
  const notes: string[] = [];
  const control = modelFamily(input.model).thinking;
  const client = input.client;
  const def = thinkingDefaultFor(input.model, input.defaults);
  if (control.kind === "none") {
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
      if (control.kind === "budget") cfg.thinkingBudget = def?.thinkingBudget ? def.thinkingBudget : -1;
      else cfg.thinkingLevel = upper(nearestLevel(control, def?.thinkingLevel ?? "high"));
      cfg.includeThoughts = true;
    } else {
      const off = thinkingOff(control)!;
      Object.assign(cfg, off.config, { includeThoughts: false });
      if (!off.off) {
        notes.push(`${input.model} cannot turn thinking off; using the smallest setting instead.`);
      }
    }
    return { config: cfg, notes };
  }
  const source = client ??
    (def ? { ...def, ...(def.thinkingLevel ? { thinkingLevel: upper(def.thinkingLevel) } : {}) } : undefined);
  if (!source) return { notes };
  return { config: repair(input.model, control, source, notes), notes };
}

/** Fixes budget/level values the model family would refuse; never mutates `cfg`. */
function repair(
  model: string,
  control: LevelControl | BudgetControl,
  cfg: Record<string, unknown>,
  notes: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...cfg };
  const level = toLevel(out.thinkingLevel);
  const budget = typeof out.thinkingBudget === "number" ? out.thinkingBudget : undefined;
  if (control.kind === "budget") {
    if (level && budget === undefined) {
      out.thinkingBudget = clampBudget(control, EFFORTS[level].budget);
      notes.push(`${model} takes a thinking budget; thinkingLevel ${level} became ${out.thinkingBudget}.`);
    }
    if (out.thinkingLevel !== undefined) delete out.thinkingLevel;
    const b = out.thinkingBudget;
    if (typeof b === "number" && b !== -1) {
      const fixed = b === 0 && control.canDisable ? 0 : clampBudget(control, b);
      if (fixed !== b) {
        notes.push(`thinkingBudget ${b} is outside ${model}'s range; using ${fixed}.`);
        out.thinkingBudget = fixed;
      }
    }
    return out;
  }
  if (budget === 0) {
    delete out.thinkingBudget;
    if (!level) out.thinkingLevel = upper(control.levels[0]);
    if (!control.canDisable) {
      notes.push(`${model} cannot turn thinking off; using thinkingLevel ${control.levels[0]}.`);
    }
  } else if (level && budget !== undefined) {
    delete out.thinkingBudget;
    notes.push(`${model} refuses thinkingBudget together with thinkingLevel; the budget was dropped.`);
  }
  if (level && !control.levels.includes(level)) {
    const near = nearestLevel(control, level);
    out.thinkingLevel = upper(near);
    notes.push(`${model} has no thinkingLevel ${level}; using ${near}.`);
  }
  return out;
}

function suffixWord(mode: "on" | "off"): string {
  return mode === "on" ? "thinking" : "nothinking";
}
