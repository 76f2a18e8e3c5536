/**
 * Admin operations on the key pool: list with state per model (paged, searchable, sortable), add many
 * from pasted text, delete, enable, disable, verify, reset cooldowns, set labels and limits. The full
 * key is never returned. A change is acknowledged only once it is stored: when KV fails, the call
 * throws (a 503 from the tracked store) and key records are put back as they were.
 *
 * @module
 */
import type { KeyPool, PairView } from "./key_pool.ts";
import type { PoolStore } from "./pool_store.ts";
import {
  extractKeys,
  KEY_KINDS,
  keyEntry,
  type KeyKind,
  type KeyRecord,
  kindOf,
  maskedEntry,
  type ModelLimits,
  newKeyRecord,
} from "./key_record.ts";
import { maskKey } from "../secrets/redact.ts";
import { emptyUsage, type UsageCounter, type UsageTotals } from "./usage.ts";
import { pacificDay } from "./quota_clock.ts";
import { verifyKey, withConcurrency } from "./verify.ts";

/** Reason recorded when an admin disables a key (rechecks leave such keys alone). */
export const ADMIN_DISABLED = "disabled by admin";

/** One per-model cooldown of a key. */
export interface KeyCooldown {
  /** Bare model id, e.g. `gemini-2.5-flash` (or `*` for all models). */
  model: string;
  /** Epoch milliseconds when the cooldown ends (`Infinity` when it never ends, e.g. no access). */
  until: number;
  /** Why: per-minute quota, daily quota, no access to the model, or error backoff. */
  kind: "minute" | "day" | "no_access" | "backoff";
  /** Human-readable reason (upstream message, shortened). */
  reason: string;
}

/** What the pool knows about a key's quota for one model: limits, use, and when it frees. */
export interface KeyQuota {
  /** Bare model id. */
  model: string;
  /** Requests per minute: the admin's limit, or the one learned from Google's 429s. */
  rpm?: number;
  /** Requests per Pacific day, likewise. */
  rpd?: number;
  /** Where each limit comes from. */
  rpmSource?: "configured" | "learned";
  rpdSource?: "configured" | "learned";
  /** Requests this window / today (by the key's project when it has one). */
  usedThisMinute: number;
  usedToday: number;
  /** Epoch ms when the pair is usable again (<= now: usable now; null: not until a re-check). */
  freeAt: number | null;
}

/** The quota view of one pair. */
export function keyQuota(v: PairView): KeyQuota {
  const pick = (k: "rpm" | "rpd") =>
    v.configured[k] !== undefined
      ? { value: v.configured[k], source: "configured" as const }
      : v.learned[k] !== undefined
      ? { value: v.learned[k], source: "learned" as const }
      : undefined;
  const rpm = pick("rpm");
  const rpd = pick("rpd");
  return {
    model: v.model,
    rpm: rpm?.value,
    rpmSource: rpm?.source,
    rpd: rpd?.value,
    rpdSource: rpd?.source,
    usedThisMinute: v.usedThisMinute,
    usedToday: v.usedToday,
    freeAt: Number.isFinite(v.freeAt) ? v.freeAt : null,
  };
}

/** A key as admin views show it: never the full secret. */
export interface KeyView {
  /** Stable key id. */
  id: string;
  /** Masked key, e.g. `AIza…x9Qk`. */
  masked: string;
  /** Gemini API key or Vertex AI express key (absent: a Gemini API key). */
  kind?: KeyKind;
  label?: string;
  project?: string;
  state: "active" | "cooling" | "disabled";
  disabledReason?: string;
  cooldowns: KeyCooldown[];
  lastError?: string;
  /** The key is in `GEMINI_API_KEYS`: deleting it lasts only until the next start, unless ignored. */
  fromEnv: boolean;
  limits?: Record<string, ModelLimits>;
  /** Per model: the limits in force (configured or learned), use, and when the pair frees. */
  quota: KeyQuota[];
  addedAt: number;
  usageToday: UsageTotals;
}

/** Query for {@link KeyAdmin.list}. */
export interface KeyQuery {
  search?: string;
  state?: "active" | "cooling" | "disabled";
  sort?: "added" | "state" | "label" | "requests";
  offset?: number;
  limit?: number;
}

/** Result of adding keys. */
export interface AddResult {
  added: Array<{ id: string; masked: string }>;
  rejected: Array<{ value: string; reason: string }>;
}

/** Progress of a verification run. */
export interface VerifyReport {
  checked: number;
  valid: number;
  disabled: Array<{ id: string; reason: string }>;
  enabled: string[];
  failed: number;
}

/** Options for {@link KeyAdmin}. */
export interface KeyAdminOptions {
  pool: KeyPool;
  store: PoolStore;
  usage: UsageCounter;
  /** Where checks of a key of `kind` go (the Gemini API's or Vertex AI's base URL). */
  baseUrl: (kind: KeyKind) => string;
  clientFor?: (keyId: string) => Deno.HttpClient | undefined;
  /** Ids of the keys in `GEMINI_API_KEYS` at this start. */
  envKeyIds?: ReadonlySet<string>;
}

/** Which keys an export takes: every key, the enabled ones, or the disabled ones. */
export type ExportState = "all" | "valid" | "disabled";

/** An export: the keys, one per line. */
export interface KeyExport {
  count: number;
  /** Full key list entries (`AIza…`, `vertex:…`; one per line) or, for a masked export, `masked<TAB>id<TAB>state<TAB>label` lines. */
  text: string;
}

/** Admin operations on keys. */
export class KeyAdmin {
  #usage = new Map<string, UsageTotals>();
  #usageDay = "";

  constructor(private readonly o: KeyAdminOptions) {}

  /** Re-reads today's usage per key from KV (called by the panel every few seconds, not per request). */
  async refreshUsage(): Promise<void> {
    const day = pacificDay(Date.now());
    this.#usage = await this.o.usage.perKey(day);
    this.#usageDay = day;
  }

  /** One key's view. */
  view(r: KeyRecord): KeyView {
    const cooldowns = this.o.pool.cooldownsOf(r.id);
    return {
      id: r.id,
      masked: maskKey(r.key),
      kind: kindOf(r),
      label: r.label,
      project: r.project,
      state: this.o.pool.stateOf(r.id),
      disabledReason: r.disabledReason,
      cooldowns,
      lastError: r.lastError,
      fromEnv: this.o.envKeyIds?.has(r.id) ?? false,
      limits: r.limits,
      quota: this.o.pool.modelsOf(r.id).flatMap((m) => {
        const v = this.o.pool.pairView(r.id, m);
        return v ? [keyQuota(v)] : [];
      }),
      addedAt: r.addedAt,
      usageToday: (this.#usageDay === pacificDay(Date.now()) && this.#usage.get(r.id)) || emptyUsage(),
    };
  }

  /**
   * Keys filtered, sorted and paged. Only the page's keys get a full view (cooldowns, usage), so a
   * page stays cheap with 10,000 keys.
   */
  list(q: KeyQuery = {}): { total: number; keys: KeyView[]; counts: Record<KeyView["state"], number> } {
    const search = q.search?.toLowerCase();
    const counts: Record<KeyView["state"], number> = { active: 0, cooling: 0, disabled: 0 };
    type Row = { r: KeyRecord; state: KeyView["state"]; masked: string };
    let rows: Row[] = this.o.pool.records().map((r) => {
      const state = this.o.pool.stateOf(r.id);
      counts[state]++;
      return { r, state, masked: maskKey(r.key) };
    });
    if (q.state) rows = rows.filter((x) => x.state === q.state);
    if (search) {
      rows = rows.filter(({ r, masked }) =>
        [r.id, masked, r.label, r.project, r.disabledReason, KEY_KINDS[kindOf(r)].label].some((s) =>
          s?.toLowerCase().includes(search)
        )
      );
    }
    const order = { disabled: 0, cooling: 1, active: 2 };
    const requests = (x: Row) => this.#usage.get(x.r.id)?.requests ?? 0;
    const sorters: Record<string, (a: Row, b: Row) => number> = {
      added: (a, b) => a.r.addedAt - b.r.addedAt,
      state: (a, b) => order[a.state] - order[b.state],
      label: (a, b) => (a.r.label ?? "").localeCompare(b.r.label ?? ""),
      requests: (a, b) => requests(b) - requests(a),
    };
    if (q.sort && sorters[q.sort]) rows.sort(sorters[q.sort]);
    const offset = q.offset ?? 0;
    const page = rows.slice(offset, offset + (q.limit ?? 50));
    return { total: rows.length, keys: page.map((x) => this.view(x.r)), counts };
  }

  /**
   * Adds keys found in pasted text (`vertex:<key>` marks a Vertex AI express key); reports what was
   * added and what was rejected and why.
   */
  async add(text: string, meta: { label?: string; project?: string } = {}): Promise<AddResult> {
    const { keys, rejected } = extractKeys(text);
    const fresh: KeyRecord[] = [];
    for (const entry of keys) {
      const r = newKeyRecord(entry, meta);
      if (this.o.pool.get(r.id)) rejected.push({ value: maskKey(r.key), reason: "already in the pool" });
      else fresh.push(r);
    }
    const ids = new Set(await this.o.store.addKeys(fresh));
    // A key pasted again is no longer ignored in GEMINI_API_KEYS.
    const envIds = fresh.map((r) => r.id).filter((id) => this.o.envKeyIds?.has(id));
    if (envIds.length) await this.o.store.setEnvKeysIgnored(envIds, false);
    for (const r of fresh) {
      if (!ids.has(r.id)) rejected.push({ value: maskKey(r.key), reason: "already in the pool" });
    }
    return {
      added: fresh.filter((r) => ids.has(r.id)).map((r) => ({ id: r.id, masked: maskKey(r.key) })),
      rejected,
    };
  }

  /**
   * Deletes keys; returns how many existed. Keys from `GEMINI_API_KEYS` come back at the next start
   * unless `ignoreEnv` is set (then the start skips them until they are pasted again).
   */
  async remove(ids: string[], opts: { ignoreEnv?: boolean } = {}): Promise<number> {
    const n = await this.o.store.deleteKeys(ids);
    const envIds = ids.filter((id) => this.o.envKeyIds?.has(id));
    if (opts.ignoreEnv && envIds.length) await this.o.store.setEnvKeysIgnored(envIds, true);
    return n;
  }

  /** The keys in `state` as text: full keys (for another instance) or masked lines (a listing). */
  export(state: ExportState, full: boolean): KeyExport {
    const keys = this.o.pool.records().filter((r) =>
      state === "all" || (state === "valid" ? r.enabled : !r.enabled)
    );
    // Key list entries keep the kind (`vertex:<key>`), so an import elsewhere adds the same keys.
    const lines = keys.map((r) => {
      if (full) return keyEntry({ key: r.key, kind: kindOf(r) });
      return [maskedEntry(r), r.id, this.o.pool.stateOf(r.id), r.label ?? ""].join("\t").trimEnd();
    });
    return { count: keys.length, text: lines.length ? `${lines.join("\n")}\n` : "" };
  }

  /** Enables or disables keys; answers how many exist. Throws (nothing changed) when KV fails. */
  async setEnabled(ids: string[], enabled: boolean): Promise<number> {
    return await this.#changeRecords(ids, (id) => {
      this.o.pool.setEnabled(id, enabled, enabled ? undefined : ADMIN_DISABLED);
    });
  }

  /** Clears cooldowns of keys (all models, or one). Throws (nothing changed) when KV fails. */
  async reset(ids: string[], model?: string): Promise<number> {
    const known = ids.filter((id) => this.o.pool.get(id));
    const undo = known.map((id) => this.o.pool.reset(id, model));
    try {
      await this.o.store.persistPending();
    } catch (e) {
      // The 503 says nothing was changed: the cooldowns come back (a later retry stores them as they were).
      for (const u of undo) u();
      throw e;
    }
    return known.length;
  }

  /** Sets label, project or limits on keys. Throws (nothing changed) when KV fails. */
  async update(
    ids: string[],
    patch: { label?: string; project?: string; limits?: Record<string, ModelLimits> },
  ): Promise<number> {
    return await this.#changeRecords(ids, (id) => this.o.pool.patch(id, patch));
  }

  /**
   * Applies `change` to each known key and stores the records; when a write fails, the keys not yet
   * stored get their old records back and the store's error is thrown (with how many were stored).
   */
  async #changeRecords(ids: string[], change: (id: string) => void): Promise<number> {
    const before = ids.map((id) => this.o.pool.get(id)).filter((r): r is KeyRecord => !!r);
    for (const r of before) change(r.id);
    for (let i = 0; i < before.length; i++) {
      try {
        await this.o.store.persistKey(before[i].id);
      } catch (e) {
        for (const r of before.slice(i)) this.o.pool.upsert(r);
        if (i === 0 || !(e instanceof Error)) throw e;
        e.message = `${i} of ${before.length} keys were changed, the others were not. ${e.message}`;
        throw e;
      }
    }
    return before.length;
  }

  /**
   * Verifies keys against Google (no generation quota used; each with a call of its own kind),
   * `concurrency` at a time. Invalid keys
   * are disabled with Google's reason; valid keys disabled by Google come back. Admin-disabled keys
   * stay disabled. `onProgress` is called after each key.
   */
  async verify(
    ids: string[],
    opts: { concurrency?: number; onProgress?: (r: VerifyReport) => void } = {},
  ): Promise<VerifyReport> {
    const report: VerifyReport = { checked: 0, valid: 0, disabled: [], enabled: [], failed: 0 };
    await withConcurrency(ids.filter((id) => this.o.pool.get(id)), opts.concurrency ?? 8, async (id) => {
      const r = this.o.pool.get(id)!;
      const kind = kindOf(r);
      const v = await verifyKey({
        baseUrl: this.o.baseUrl(kind),
        kind,
        key: r.key,
        client: this.o.clientFor?.(id),
      });
      report.checked++;
      if (v.kind === "ok" || v.kind === "cooldown" || v.kind === "no_access") {
        report.valid++;
        if (!r.enabled && r.disabledReason !== ADMIN_DISABLED) {
          this.o.pool.setEnabled(id, true);
          report.enabled.push(id);
        }
      } else if (v.kind === "disable") {
        if (r.enabled) this.o.pool.report(id, "*", v);
        this.o.pool.patch(id, { lastError: v.reason });
        report.disabled.push({ id, reason: v.reason });
      } else {
        report.failed++;
      }
      opts.onProgress?.({ ...report });
    });
    return report;
  }
}
