/**
 * Fixed-window request quotas of the mock Gemini upstream (per project-or-key and model), answering
 * Google's exact 429 bodies (wire reference D2/D3).
 *
 * @module
 */

import { noFreeTierError, quotaError, type QuotaViolation } from "./mock_gemini_http.ts";

/** A limit for every model, or per model id (models not listed are unlimited). */
export type ModelLimit = number | Record<string, number>;

/** The quota-related part of a key's behaviour. */
export interface QuotaSpec {
  /** Requests per "minute" (window of `minuteMs`). */
  rpm?: ModelLimit;
  /** Requests per day (never resets while the mock lives). */
  rpd?: ModelLimit;
  /** Models this project has no entitlement for (429 with quotaValue "0", the older shape). */
  noAccess?: string[];
  /** Models this project has no free tier for: 429 with `limit: 0` only in the message (today's shape). */
  noFreeTier?: string[];
}

/** One quota check. */
export interface QuotaCheck {
  /** Counter owner: the project name, or the key when it has none. */
  bucket: string;
  /** Bare model id. */
  model: string;
  /** Embedding calls use the embed quota ids. */
  embed: boolean;
  /** The limits. */
  spec: QuotaSpec;
}

function limitFor(limit: ModelLimit | undefined, model: string): number | undefined {
  if (limit === undefined) return undefined;
  return typeof limit === "number" ? limit : limit[model];
}

function quotaNames(embed: boolean) {
  return embed
    ? {
      metric: "generativelanguage.googleapis.com/embed_content_free_tier_requests",
      minute: "EmbedContentRequestsPerMinutePerUserPerProjectPerModel-FreeTier",
      day: "EmbedContentRequestsPerDayPerUserPerProjectPerModel-FreeTier",
    }
    : {
      metric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
      minute: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
      day: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
    };
}

/** Counts requests in fixed windows aligned to the epoch; requests that got a 429 are not counted. */
export class QuotaCounter {
  #minute = new Map<string, { window: number; count: number }>();
  #day = new Map<string, number>();

  /** `minuteMs`: length of a rate "minute" in ms; `now`: the clock (epoch ms). */
  constructor(private readonly o: { minuteMs: number; now: () => number }) {}

  /** Returns a 429 response when a limit is exhausted; otherwise counts the request and returns null. */
  take(check: QuotaCheck): Response | null {
    const names = quotaNames(check.embed);
    const now = this.o.now();
    const window = Math.floor(now / this.o.minuteMs);
    const retrySeconds = ((window + 1) * this.o.minuteMs - now) / 1000;
    const id = `${check.bucket}\u0000${check.model}`;
    const minute = this.#minute.get(id);
    const usedMinute = minute && minute.window === window ? minute.count : 0;
    const usedDay = this.#day.get(id) ?? 0;

    if (check.spec.noFreeTier?.includes(check.model)) {
      return noFreeTierError({ model: check.model, retrySeconds });
    }
    const violations: QuotaViolation[] = [];
    if (check.spec.noAccess?.includes(check.model)) {
      violations.push({ quotaId: names.day, quotaMetric: names.metric, limit: 0 });
      violations.push({ quotaId: names.minute, quotaMetric: names.metric, limit: 0 });
    } else {
      const rpm = limitFor(check.spec.rpm, check.model);
      const rpd = limitFor(check.spec.rpd, check.model);
      if (rpd !== undefined && usedDay >= rpd) {
        violations.push({ quotaId: names.day, quotaMetric: names.metric, limit: rpd });
      }
      if (rpm !== undefined && usedMinute >= rpm) {
        violations.push({ quotaId: names.minute, quotaMetric: names.metric, limit: rpm });
      }
    }
    if (violations.length > 0) return quotaError({ model: check.model, violations, retrySeconds });

    this.#minute.set(id, { window, count: usedMinute + 1 });
    this.#day.set(id, usedDay + 1);
    return null;
  }

  /** Forgets all counts. */
  reset(): void {
    this.#minute.clear();
    this.#day.clear();
  }
}
