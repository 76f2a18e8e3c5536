/**
 * Enforces a client token's limits on the request path, synchronously: requests per minute (a sliding
 * one-minute window in memory), tokens per Pacific day (usage counted in memory from finished
 * requests, seeded from KV at start and refreshed from KV now and then so other workers' usage
 * counts too), and the model allow-list.
 *
 * @module
 */
import { matchesModelList } from "../gemini/model_id.ts";
import type { ClientToken } from "../http/client_auth.ts";
import { permissionDenied, rateLimited } from "../http/errors.ts";
import type { RequestRecord } from "../pipeline/request_record.ts";
import { nextPacificMidnight, pacificDay } from "../pool/quota_clock.ts";
import type { UsageCounter } from "../pool/usage.ts";

/** Today's usage of one token. */
export interface TokenUsage {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/** Options for {@link TokenLimits}. */
export interface TokenLimitsOptions {
  /** Stored tokens by name (for the model allow-list). */
  byName: (name: string) => ClientToken | undefined;
  /** Today's stored usage per token (seeding from KV). */
  usage?: UsageCounter;
  /** Told once per token and day when a token's usage reaches its daily token quota. */
  onQuotaReached?: (info: { token: string; dailyTokens: number; used: number }) => void;
  /** Clock, for tests. */
  now?: () => number;
}

const MINUTE = 60_000;

/** Per-token rate and quota checks, all in memory. */
export class TokenLimits {
  #windows = new Map<string, number[]>();
  #day = "";
  #used = new Map<string, TokenUsage>();
  #now: () => number;

  constructor(private readonly o: TokenLimitsOptions) {
    this.#now = o.now ?? Date.now;
  }

  /** Seeds (or refreshes) today's usage from KV; keeps the larger of memory and KV per token. */
  async seed(): Promise<void> {
    if (!this.o.usage) return;
    const day = this.#rollDay();
    const stored = await this.o.usage.perToken(day);
    if (day !== this.#day) return;
    for (const [name, t] of stored) {
      const u = this.#usage(name);
      u.requests = Math.max(u.requests, t.requests); // KV counts upstream attempts: close enough
      u.inputTokens = Math.max(u.inputTokens, t.inputTokens);
      u.outputTokens = Math.max(u.outputTokens, t.outputTokens);
    }
  }

  /** Today's usage of a token (zeros when none). */
  usageToday(name: string): TokenUsage {
    this.#rollDay();
    return { ...(this.#used.get(name) ?? { requests: 0, inputTokens: 0, outputTokens: 0 }) };
  }

  /** Counts a finished request (a record sink). */
  record(rec: RequestRecord): void {
    if (!rec.tokenName) return;
    this.#rollDay();
    const u = this.#usage(rec.tokenName);
    const before = u.inputTokens + u.outputTokens;
    u.requests++;
    u.inputTokens += rec.inputTokens ?? 0;
    u.outputTokens += rec.outputTokens ?? 0;
    const quota = this.o.byName(rec.tokenName)?.dailyTokens;
    const used = u.inputTokens + u.outputTokens;
    if (quota !== undefined && before < quota && used >= quota) {
      this.o.onQuotaReached?.({ token: rec.tokenName, dailyTokens: quota, used });
    }
  }

  /** The `admit` hook for client auth: refuses (429) when the rpm or the daily token quota is used up. */
  admit(token: ClientToken): void {
    const now = this.#now();
    if (token.dailyTokens !== undefined) {
      const u = this.usageToday(token.name);
      const used = u.inputTokens + u.outputTokens;
      if (used >= token.dailyTokens) {
        const secs = Math.max(1, Math.ceil((nextPacificMidnight(now) - now) / 1000));
        throw rateLimited(
          `The client token '${token.name}' used its ${token.dailyTokens} tokens for today (${used} used); ` +
            `the quota resets at midnight Pacific time, or ask the admin to raise it.`,
          secs,
          "token_quota",
        );
      }
    }
    if (token.rpm !== undefined) {
      let w = this.#windows.get(token.name);
      if (!w) this.#windows.set(token.name, w = []);
      while (w.length && w[0] <= now - MINUTE) w.shift();
      if (w.length >= token.rpm) {
        const secs = Math.max(1, Math.ceil((w[0] + MINUTE - now) / 1000));
        throw rateLimited(
          `The client token '${token.name}' is limited to ${token.rpm} requests per minute; retry in ${secs} s.`,
          secs,
          "token_rate_limit",
        );
      }
      w.push(now);
    }
  }

  /**
   * True when the token may use a model (no allow-list means every model). `names` are the names of
   * one model: the client's, the alias it resolved through and the real model (`ModelNames`); any of
   * them on the list admits it, so a token allowed an alias may call it, and one allowed a real model
   * may call it by an alias or with a suffix.
   */
  allowsModel(tokenName: string, names: string | readonly string[]): boolean {
    const allowed = this.o.byName(tokenName)?.models;
    if (!allowed?.length) return true;
    // Each entry is an exact id or a prefix ending in `*`.
    return typeof names === "string"
      ? matchesModelList(names, allowed)
      : names.some((n) => matchesModelList(n, allowed));
  }

  /**
   * The model check of every call: refuses (403) a model outside the token's allow-list.
   *
   * @param names the model's names, the client's first (see {@link allowsModel}).
   * @throws {GatewayError} 403 `model_not_allowed`.
   */
  admitModel(tokenName: string | undefined, names: string | readonly string[]): void {
    if (!tokenName || !names.length || this.allowsModel(tokenName, names)) return;
    const allowed = this.o.byName(tokenName)?.models ?? [];
    const model = typeof names === "string" ? names : names[0];
    throw permissionDenied(
      `The client token '${tokenName}' may not use model '${model}'; allowed models: ${allowed.join(", ")}.`,
      { code: "model_not_allowed", param: "model", refusal: "model_not_allowed" },
    );
  }

  #usage(name: string): TokenUsage {
    let u = this.#used.get(name);
    if (!u) this.#used.set(name, u = { requests: 0, inputTokens: 0, outputTokens: 0 });
    return u;
  }

  #rollDay(): string {
    const day = pacificDay(this.#now());
    if (day !== this.#day) {
      this.#day = day;
      this.#used.clear();
    }
    return day;
  }
}
