/**
 * The admin JSON API contract (`/admin/api/*`) as TypeScript types, shared by the server-rendered
 * pages, the islands and the API routes (`routes/api/*` import their answer types from here). The
 * shapes come from the backend modules as type-only imports (erased from the island bundles).
 *
 * @module
 */
import type { AddResult, KeyCooldown, KeyView, VerifyReport } from "../pool/key_admin.ts";
import type { SettingInfo } from "../config/describe.ts";
import type { TokenRecord } from "../tokens/token_store.ts";
import type { TokenUsage } from "../tokens/token_limits.ts";
import type { LogEntry as StoredLogEntry } from "../logs/log_store.ts";
import type { MetricsBucket, MetricsRange, MetricsReport, ModelStats } from "../metrics/metrics.ts";
import type { ProxyStatus } from "../features/proxy_pool.ts";
import type { ModelCapacity } from "../pool/capacity.ts";
import type { PoolCapacityReport } from "../cluster/capacity_board.ts";
import type { CostReport } from "../metrics/costs.ts";
import type { AuditEntry, AuditPage } from "../logs/audit_log.ts";

export type { AuditEntry };

/** `GET /audit` answer. */
export type AuditListResponse = AuditPage;

export type { MetricsBucket, MetricsRange };

/** One per-model cooldown as JSON: `until` is null when it never ends (`Infinity` does not survive JSON). */
export type ApiCooldown = Omit<KeyCooldown, "until"> & { until: number | null };

/** A key row of `GET /keys` (the panel tolerates rows without the newer `quota` and `fromEnv`). */
export type ApiKey = Omit<KeyView, "cooldowns" | "quota" | "fromEnv"> & {
  cooldowns: ApiCooldown[];
  quota?: KeyView["quota"];
  fromEnv?: boolean;
};

/** Key counts by state. */
export interface KeyCounts {
  active: number;
  cooling: number;
  disabled: number;
}

/** `GET /keys` answer. */
export interface KeyListResponse {
  total: number;
  keys: ApiKey[];
  counts: KeyCounts;
}

/** `GET /keys` query. */
export interface KeyListQuery {
  search: string;
  state: "" | "active" | "cooling" | "disabled";
  sort: "added" | "state" | "label" | "requests";
  offset: number;
  limit: number;
}

/** `POST /keys` answer. */
export type AddKeysResponse = AddResult;

/** `POST /keys/verify` answer. */
export type VerifyResponse = VerifyReport;

/** A setting as the panel's form shows it: its description plus the value in force (secrets masked). */
export interface SettingField extends SettingInfo {
  value: unknown;
  /** Set by the environment: read-only in the panel. */
  pinned: boolean;
}

/** `GET /settings` answer. */
export interface SettingsResponse {
  fields: SettingField[];
}

/** A token as the API lists it: the stored record without its hash, plus today's usage. */
export interface TokenInfo extends Omit<TokenRecord, "hash" | "revokedAt" | "previousHash"> {
  usageToday: TokenUsage;
}

/** `GET /tokens` answer. */
export interface TokenListResponse {
  tokens: TokenInfo[];
}

/** `POST /tokens` answer: the secret, shown once. */
export interface CreatedToken {
  token: string;
  info: TokenInfo;
}

/** One log entry of `GET /logs` (the storage-only expiry left out). */
export type LogEntry = Omit<StoredLogEntry, "expiresAt">;

/** `GET /logs` answer. */
export interface LogListResponse {
  entries: LogEntry[];
  next?: string;
}

/** Per-model totals of `GET /metrics`. */
export type ModelTotals = { model: string } & ModelStats;

/** `GET /metrics` answer. */
export interface MetricsResponse extends MetricsReport {
  keys: KeyCounts;
}

/**
 * `GET /capacity` answer: summed over the gateways sharing the KV, with how many it covers (`members`);
 * `nextFreeAt` null when a key is usable now or none will be.
 */
export type CapacityResponse = PoolCapacityReport;

/** One model of `GET /capacity`. */
export type ApiModelCapacity = ModelCapacity;

/** `GET /costs` answer: today's estimate; keys named as the panel shows them. */
export interface CostsResponse extends CostReport {
  byKey: Array<CostReport["byKey"][number] & { masked?: string; label?: string }>;
}

/** One upstream proxy of `GET /proxies`. */
export type ProxyInfo = ProxyStatus;

/** One field violation of a 400 answer. */
export interface FieldViolation {
  field: string;
  description: string;
}
