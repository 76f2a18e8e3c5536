/**
 * The optional cost estimate: today's tokens (Pacific day, the usage counters of `lib/pool/usage.ts`)
 * priced with the `PRICES` setting (per model, per million input and output tokens), per model, per
 * key and per client token. An estimate only: Google bills by its own rules (free tiers, cached
 * tokens, long-context prices).
 *
 * @module
 */
import type { UsageCounter, UsageTotals } from "../pool/usage.ts";

/** A model's price per million tokens. */
export interface Price {
  input: number;
  output: number;
}

/** The price table: exact model ids or `prefix*` patterns. */
export type PriceTable = Record<string, Price>;

/** Tokens and their estimated cost. */
export interface CostLine {
  inputTokens: number;
  outputTokens: number;
  /** Estimated cost; 0 for tokens of models without a price. */
  cost: number;
}

/** `GET /costs`: today's estimate. */
export interface CostReport {
  /** The Pacific day counted, `YYYY-MM-DD`. */
  day: string;
  /** False when no prices are set (the dashboard then hides the estimate). */
  priced: boolean;
  total: CostLine;
  byModel: Array<CostLine & { model: string }>;
  byKey: Array<CostLine & { keyId: string }>;
  byToken: Array<CostLine & { token: string }>;
  /** Models with tokens today but no price. */
  unpriced: string[];
}

/** The price of `model`: an exact entry, else the longest `prefix*` entry that matches. */
export function priceFor(model: string, prices: PriceTable): Price | undefined {
  if (prices[model]) return prices[model];
  let best: { len: number; price: Price } | undefined;
  for (const [pattern, price] of Object.entries(prices)) {
    if (!pattern.endsWith("*")) continue;
    const prefix = pattern.slice(0, -1);
    if (model.startsWith(prefix) && (!best || prefix.length > best.len)) best = { len: prefix.length, price };
  }
  return best?.price;
}

/** The cost of some tokens at `price` (per million). */
export function costOf(tokens: { inputTokens: number; outputTokens: number }, price?: Price): number {
  if (!price) return 0;
  return (tokens.inputTokens * price.input + tokens.outputTokens * price.output) / 1_000_000;
}

function add(into: CostLine, t: UsageTotals, price?: Price): void {
  into.inputTokens += t.inputTokens;
  into.outputTokens += t.outputTokens;
  into.cost += costOf(t, price);
}

const empty = (): CostLine => ({ inputTokens: 0, outputTokens: 0, cost: 0 });

/** Groups `key|model` totals by the part before the bar, pricing each by its model. */
function group(
  totals: Map<string, UsageTotals>,
  prices: PriceTable,
  each?: (model: string, t: UsageTotals, price?: Price) => void,
): Map<string, CostLine> {
  const out = new Map<string, CostLine>();
  for (const [k, t] of totals) {
    const bar = k.lastIndexOf("|");
    const [owner, model] = [k.slice(0, bar), k.slice(bar + 1)];
    const price = priceFor(model, prices);
    let line = out.get(owner);
    if (!line) out.set(owner, line = empty());
    add(line, t, price);
    each?.(model, t, price);
  }
  return out;
}

const byCost = <T extends CostLine>(a: T, b: T) => b.cost - a.cost || b.inputTokens - a.inputTokens;

/** Today's estimate from the usage counters. */
export async function costReport(
  o: { usage: UsageCounter; prices: PriceTable; day: string },
): Promise<CostReport> {
  const models = new Map<string, CostLine>();
  const unpriced = new Set<string>();
  const total = empty();
  const perKey = group(await o.usage.perKeyAndModel(o.day), o.prices, (model, t, price) => {
    let line = models.get(model);
    if (!line) models.set(model, line = empty());
    add(line, t, price);
    add(total, t, price);
    if (!price && (t.inputTokens || t.outputTokens) && model !== "-") unpriced.add(model);
  });
  const perToken = group(await o.usage.perTokenAndModel(o.day), o.prices);
  return {
    day: o.day,
    priced: Object.keys(o.prices).length > 0,
    total,
    byModel: [...models].map(([model, l]) => ({ model, ...l })).filter((l) => l.inputTokens || l.outputTokens)
      .sort(byCost),
    byKey: [...perKey].map(([keyId, l]) => ({ keyId, ...l })).filter((l) => l.inputTokens || l.outputTokens)
      .sort(byCost),
    byToken: [...perToken].map(([token, l]) => ({ token, ...l })).sort(byCost),
    unpriced: [...unpriced].sort(),
  };
}
