/**
 * Anthropic's `thinking` and `output_config.effort` mapped to Gemini's `thinkingConfig` by model
 * family ({@link modelFamily}): a budget family takes the client's `budget_tokens` (the prepare step
 * clamps it to the family's range) or -1 (dynamic) for `adaptive`; a level family gets the level of
 * the effort the budget or `effort` stands for; `disabled` is the family's "off" (its smallest
 * setting where thinking cannot be turned off). Thought summaries are returned unless
 * `display: "omitted"`.
 *
 * Source: wire reference §G2, §G9; https://ai.google.dev/gemini-api/docs/thinking
 *
 * @module
 */
import { modelFamily } from "../gemini/model_families.ts";
import { type ReasoningEffort, thinkingForEffort } from "../gemini/thinking.ts";
import type { GeminiThinkingConfig } from "../gemini/types.ts";
import type { CountTokensRequest } from "./schemas.ts";

/** Budget ceilings (tokens) of the efforts a `budget_tokens` value stands for on level families. */
const BUDGET_EFFORTS: ReadonlyArray<{ upTo: number; effort: ReasoningEffort }> = [
  { upTo: 1024, effort: "low" },
  { upTo: 8192, effort: "medium" },
  { upTo: Infinity, effort: "high" },
];

function effortForBudget(budget: number): ReasoningEffort {
  return BUDGET_EFFORTS.find((b) => budget <= b.upTo)!.effort;
}

/**
 * The `thinkingConfig` for a request to `model` (real model id), or undefined to leave the model's
 * default.
 */
export function thinkingConfigFor(
  req: Pick<CountTokensRequest, "thinking" | "output_config">,
  model: string,
): GeminiThinkingConfig | undefined {
  const control = modelFamily(model).thinking;
  if (control.kind === "none") return undefined;
  const t = req.thinking;
  const effort = req.output_config?.effort ?? undefined;
  if (!t) return effort ? thinkingForEffort(model, effort) : undefined;
  if (t.type === "disabled" || t.type === "between_tools") return thinkingForEffort(model, "none");
  const includeThoughts = t.display !== "omitted";
  let config: GeminiThinkingConfig | undefined;
  if (t.type === "enabled") {
    const budget = t.budget_tokens as number;
    config = control.kind === "budget"
      ? { thinkingBudget: budget }
      : thinkingForEffort(model, effortForBudget(budget));
  } else {
    config = control.kind === "budget" ? { thinkingBudget: -1 } : thinkingForEffort(model, effort ?? "high");
  }
  return { ...config, includeThoughts };
}
