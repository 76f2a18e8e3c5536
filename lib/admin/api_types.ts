/**
 * The admin JSON API contract (`/admin/api/*`) as TypeScript types, shared by the server-rendered
 * pages and the islands. The server side lives in `routes/api/*`; the shapes come from the backend
 * modules as type-only imports (erased from the island bundles).
 *
 * @module
 */
import type { AddResult, KeyCooldown, VerifyReport } from "../pool/key_admin.ts";
import type { UsageTotals } from "../pool/usage.ts";
import type { KeyView } from "./deps.ts";
import type { SettingField } from "../../routes/api/settings_api.ts";
import type { TokenInfo } from "../../routes/api/tokens_api.ts";
import type { LogEntry as StoredLogEntry } from "../logs/log_store.ts";
import type { MetricsBucket, MetricsRange, MetricsReport, ModelStats } from "../metrics/metrics.ts";
import type { KeyStates } from "../../routes/api/metrics_api.ts";
import type { ProxyStatus } from "../features/proxy_pool.ts";

export type { MetricsBucket, MetricsRange, SettingField, TokenInfo };

/** Today's usage counters of a key. */
export type KeyUsageToday = UsageTotals;

/** One per-model cooldown as JSON: `until` is null when it never ends (`Infinity` does not survive JSON). */
export type ApiCooldown = Omit<KeyCooldown, "until"> & { until: number | null };

/** A key row of `GET /keys`. */
export type ApiKey = Omit<KeyView, "cooldowns"> & { cooldowns: ApiCooldown[] };

/** Key counts by state. */
export type KeyCounts = KeyStates;

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

/** `GET /settings` answer. */
export interface SettingsResponse {
  fields: SettingField[];
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

/** One upstream proxy of `GET /proxies`. */
export type ProxyInfo = ProxyStatus;

/** One field violation of a 400 answer. */
export interface FieldViolation {
  field: string;
  description: string;
}
