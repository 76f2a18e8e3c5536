/**
 * Enforces a client token's limits on the request path, synchronously, and so that they hold in
 * total across every gateway serving from the same KV (workers, processes, instances):
 *
 * - requests per minute: a sliding one-minute window in memory, against this gateway's share of
 *   the token's rpm (the rpm split between the active gateways, `lib/cluster/members.ts`);
 * - tokens per Pacific day: the day's usage of every gateway as last read from KV (refreshed in the
 *   background every few seconds for tokens with a daily quota), plus this gateway's own usage since;
 * - the model allow-list.
 *
 * @module
 */
import { matchesModelList } from "../gemini/model_id.ts";
import type { ClientToken } from "../http/client_auth.ts";
import { permissionDenied, rateLimited } from "../http/errors.ts";
import type { RequestRecord } from "../pipeline/request_record.ts";
import { nextPacificMidnight, pacificDay } from "../pool/quota_clock.ts";
import type { UsageCounter } from "../pool/usage.ts";
import { type MemberShare, saltOf, shareOf } from "../cluster/members.ts";

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
  /** The gateways sharing the limits (default: alone). `touch` marks this one as serving. */
  members?: { share(): MemberShare; touch(): void };
  /** Told once per token and day when a token's usage reaches its daily token quota. */
  onQuotaReached?: (info: { token: string; dailyTokens: number; used: number }) => void;
  /** Clock, for tests. */
  now?: () => number;
}

const MINUTE = 60_000;

const zero = (): TokenUsage => ({ requests: 0, inputTokens: 0, outputTokens: 0 });

/** Per-token rate and quota checks, all in memory. */
export class TokenLimits {
  #windows = new Map<string, number[]>();
  #day = "";
  /** Every gateway's usage per token as last read from KV (plus this one's writes still queued then). */
  #base = new Map<string, TokenUsage>();
  /** This gateway's usage per token since that read. */
  #since = new Map<string, TokenUsage>();
  #now: () => number;

  constructor(private readonly o: TokenLimitsOptions) {
    this.#now = o.now ?? Date.now;
  }

  /**
   * Reads today's usage of every token (or of `names` only) from KV: every gateway's flushed usage
   * plus this gateway's usage still waiting to be flushed; this gateway counts on from there.
   */
  async seed(names?: readonly string[]): Promise<void> {
    const usage = this.o.usage;
    if (!usage) return;
    const day = this.#rollDay();
    const stored = await usage.perToken(day, names);
    if (day !== this.#day) return;
    for (const name of names ?? new Set([...stored.keys(), ...this.#since.keys()])) {
      const t = stored.get(name) ?? zero();
      const queued = usage.pendingForToken(day, name);
      this.#base.set(name, {
        requests: t.requests + (queued.requests ?? 0), // KV counts upstream attempts: close enough
        inputTokens: t.inputTokens + (queued.inputTokens ?? 0),
        outputTokens: t.outputTokens + (queued.outputTokens ?? 0),
      });
      this.#since.delete(name);
    }
  }

  /** Today's usage of a token by every gateway (zeros when none). */
  usageToday(name: string): TokenUsage {
    this.#rollDay();
    const b = this.#base.get(name) ?? zero();
    const s = this.#since.get(name) ?? zero();
    return {
      requests: b.requests + s.requests,
      inputTokens: b.inputTokens + s.inputTokens,
      outputTokens: b.outputTokens + s.outputTokens,
    };
  }

  /** Counts a finished request (a record sink). */
  record(rec: RequestRecord): void {
    const name = rec.tokenName;
    if (!name) return;
    this.#rollDay();
    const total = (u: TokenUsage) => u.inputTokens + u.outputTokens;
    // Every gateway's usage counts toward the quota: the notice goes out when the total reaches it.
    const quota = this.o.byName(name)?.dailyTokens;
    const before = quota === undefined ? 0 : total(this.usageToday(name));
    let u = this.#since.get(name);
    if (!u) this.#since.set(name, u = zero());
    u.requests++;
    u.inputTokens += rec.inputTokens ?? 0;
    u.outputTokens += rec.outputTokens ?? 0;
    if (quota === undefined) return;
    const used = total(this.usageToday(name));
    if (before < quota && used >= quota) this.o.onQuotaReached?.({ token: name, dailyTokens: quota, used });
  }

  /** The `admit` hook for client auth: refuses (429) when the rpm or the daily token quota is used up. */
  admit(token: ClientToken): void {
    this.o.members?.touch();
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
      const share = this.o.members?.share();
      const allowed = share ? shareOf(token.rpm, share, saltOf(token.name)) : token.rpm;
      if (w.length >= allowed) {
        const secs = Math.max(1, Math.ceil(((w[0] ?? now) + MINUTE - now) / 1000));
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

  #rollDay(): string {
    const day = pacificDay(this.#now());
    if (day !== this.#day) {
      this.#day = day;
      this.#base.clear();
      this.#since.clear();
    }
    return day;
  }
}
