/**
 * The admin JSON API contract (`/admin/api/*`) as TypeScript types, shared by the server-rendered
 * pages and the islands. The server side lives in `routes/api/*`.
 *
 * @module
 */

/** Today's usage counters of a key. */
export interface KeyUsageToday {
  requests: number;
  ok: number;
  rateLimited: number;
  errors?: number;
  inputTokens: number;
  outputTokens: number;
}

/** One per-model cooldown (`until` is null when it never ends, e.g. no access). */
export interface ApiCooldown {
  model: string;
  until: number | null;
  kind: "minute" | "day" | "no_access" | "backoff";
  reason: string;
}

/** A key row of `GET /keys`. */
export interface ApiKey {
  id: string;
  masked: string;
  label?: string;
  project?: string;
  state: "active" | "cooling" | "disabled";
  disabledReason?: string;
  cooldowns: ApiCooldown[];
  lastError?: string;
  limits?: Record<string, { rpm?: number; rpd?: number }>;
  addedAt?: number;
  usageToday?: KeyUsageToday;
}

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
export interface AddKeysResponse {
  added: Array<{ id: string; masked: string }>;
  rejected: Array<{ value: string; reason: string }>;
}

/** `POST /keys/verify` answer. */
export interface VerifyResponse {
  checked: number;
  valid: number;
  disabled: Array<{ id: string; reason: string }>;
  enabled: string[];
  failed: number;
}

/** One settings field of `GET /settings`. */
export interface SettingField {
  name: string;
  env: string;
  description: string;
  type: "number" | "boolean" | "string" | "string[]" | "json" | "enum";
  enumValues?: string[];
  default: unknown;
  value: unknown;
  pinned: boolean;
}

/** `GET /settings` answer. */
export interface SettingsResponse {
  fields: SettingField[];
}

/** A client token of `GET /tokens` (never the secret). */
export interface TokenInfo {
  id: string;
  name: string;
  prefix: string;
  models?: string[];
  rpm?: number;
  dailyTokens?: number;
  expiresAt?: number;
  createdAt: number;
  revoked: boolean;
  usageToday?: { requests: number; inputTokens: number; outputTokens: number };
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

/** One log entry of `GET /logs`. */
export interface LogEntry {
  id: string;
  time: number;
  route?: string;
  method?: string;
  path?: string;
  model?: string;
  keyId?: string;
  keyMasked?: string;
  tokenName?: string;
  status: number;
  latencyMs?: number;
  attempts?: number;
  stream?: boolean;
  inputTokens?: number;
  outputTokens?: number;
  error?: unknown;
}

/** `GET /logs` answer. */
export interface LogListResponse {
  entries: LogEntry[];
  next?: string;
}

/** Chart ranges of `GET /metrics`. */
export type MetricsRange = "1h" | "24h" | "7d";

/** One time bucket of `GET /metrics`. */
export interface MetricsBucket {
  t: number;
  requests: number;
  ok: number;
  errors: number;
  rateLimited: number;
  inputTokens: number;
  outputTokens: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** Per-model totals of `GET /metrics`. */
export interface ModelTotals {
  model: string;
  requests: number;
  ok: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
}

/** `GET /metrics` answer. */
export interface MetricsResponse {
  range: MetricsRange;
  bucketMs: number;
  buckets: MetricsBucket[];
  byModel: ModelTotals[];
  keys: KeyCounts;
}

/** One upstream proxy of `GET /proxies`. */
export interface ProxyInfo {
  proxy: string;
  up: boolean;
  downUntil?: number;
  failures: number;
  lastError?: string;
}

/** One field violation of a 400 answer. */
export interface FieldViolation {
  field: string;
  description: string;
}
