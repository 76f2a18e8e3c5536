/**
 * Backup and restore: one JSON document with the settings saved in the admin panel, every key with
 * its label, project, limits and state, the client tokens (their hashes only: the secrets keep working
 * after a restore) and the `GEMINI_API_KEYS` keys the admin chose to ignore. A restore on another
 * instance merges: missing keys and tokens are added, existing keys take the backup's label, project
 * and limits, and saved settings are applied except where the environment pins them.
 *
 * The backup holds full keys: the API hands it out only after the admin token is entered again, and
 * records that in the audit log.
 *
 * @module
 */
import { z } from "zod";
import type { SettingsStore } from "../config/settings_store.ts";
import type { settingsSchema } from "../settings_schema.ts";
import type { KeyPool } from "../pool/key_pool.ts";
import type { PoolStore } from "../pool/pool_store.ts";
import { KEY_KINDS, keyEntry, keyId, type KeyKind, type KeyRecord } from "../pool/key_record.ts";
import type { TokenRecord, TokenStore } from "../tokens/token_store.ts";
import { storedTokenName, tokenFields } from "../tokens/token_fields.ts";
import { keyLimitsSchema } from "../pool/key_limits_schema.ts";

/** The `format` of a backup document. */
export const BACKUP_FORMAT = "gemini-gateway-backup";

/** A backup document (version 1). */
export interface Backup {
  format: typeof BACKUP_FORMAT;
  version: 1;
  /** Epoch ms. */
  createdAt: number;
  /** Settings saved in the admin panel (environment pins are not part of a backup). */
  settings: Record<string, unknown>;
  keys: KeyRecord[];
  tokens: TokenRecord[];
  /** Ids of `GEMINI_API_KEYS` keys deleted and ignored. */
  ignoredEnvKeys: string[];
}

/** What a restore did. */
export interface RestoreReport {
  /** Keys added. */
  keys: number;
  /** Existing keys whose label, project or limits were restored. */
  updatedKeys: number;
  tokens: number;
  settings: number;
  /** What was left out, and why. */
  skipped: string[];
}

/** What backup and restore read and write. */
export interface BackupDeps {
  settings: SettingsStore<typeof settingsSchema>;
  pool: KeyPool;
  store: PoolStore;
  tokens: TokenStore;
}

const keySchema = z.object({
  id: z.string(),
  key: z.string().min(1),
  kind: z.enum(Object.keys(KEY_KINDS) as [KeyKind, ...KeyKind[]]).optional(),
  label: z.string().optional(),
  project: z.string().optional(),
  enabled: z.boolean(),
  disabledReason: z.string().optional(),
  disabledAt: z.number().optional(),
  addedAt: z.number(),
  limits: keyLimitsSchema.optional(),
  lastError: z.string().optional(),
}).refine(
  (k) => keyId(keyEntry({ key: k.key, kind: k.kind ?? "gemini" })) === k.id,
  "the key's id does not match the key",
);

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be a SHA-256 hex digest");
// The same rules as the tokens API: a token the panel would refuse must not reach the request path.
const tokenSchema = z.object({
  id: z.string().min(1),
  name: storedTokenName,
  hash: sha256,
  prefix: z.string(),
  createdAt: z.number(),
  revoked: z.boolean(),
  revokedAt: z.number().optional(),
  models: tokenFields.models.optional(),
  rpm: tokenFields.rpm.optional(),
  dailyTokens: tokenFields.dailyTokens.optional(),
  expiresAt: tokenFields.expiresAt.optional(),
  previousHash: sha256.optional(),
  previousUntil: z.number().optional(),
  rotatedAt: z.number().optional(),
  earlierSecrets: z.array(z.object({ hash: sha256, until: z.number() })).optional(),
});

/** The shape a restore accepts. */
export const backupSchema = z.object({
  format: z.literal(BACKUP_FORMAT, "this is not a Gemini Gateway backup (format)"),
  version: z.literal(1, "this backup version is not supported"),
  createdAt: z.number(),
  settings: z.record(z.string(), z.unknown()),
  keys: z.array(keySchema),
  tokens: z.array(tokenSchema),
  ignoredEnvKeys: z.array(z.string()).default([]),
});

/** Builds a backup of this instance. */
export async function createBackup(deps: BackupDeps): Promise<Backup> {
  return {
    format: BACKUP_FORMAT,
    version: 1,
    createdAt: Date.now(),
    settings: deps.settings.storedValues(),
    keys: deps.pool.records().map((r) => structuredClone(r)),
    tokens: deps.tokens.list().map((t) => structuredClone(t)),
    ignoredEnvKeys: [...await deps.store.ignoredEnvKeys()],
  };
}

/** Restores a backup into this instance (merging; see the module docs). */
export async function restoreBackup(
  deps: BackupDeps,
  backup: z.infer<typeof backupSchema>,
): Promise<RestoreReport> {
  const report: RestoreReport = { keys: 0, updatedKeys: 0, tokens: 0, settings: 0, skipped: [] };
  const fresh = backup.keys.filter((k) => !deps.pool.get(k.id));
  report.keys = (await deps.store.addKeys(fresh as KeyRecord[])).length;
  for (const k of backup.keys) {
    const mine = deps.pool.get(k.id);
    if (!mine || fresh.includes(k)) continue;
    const patch = { label: k.label, project: k.project, limits: k.limits };
    if (
      JSON.stringify(patch) ===
        JSON.stringify({ label: mine.label, project: mine.project, limits: mine.limits })
    ) {
      continue;
    }
    deps.pool.patch(k.id, patch);
    report.updatedKeys++;
  }
  await deps.store.flush();
  const tokens = await deps.tokens.importRecords(backup.tokens as TokenRecord[]);
  report.tokens = tokens.added;
  report.skipped.push(...tokens.skipped);
  const pinned = new Set(deps.settings.pinnedFields().map((p) => p.field));
  const settings: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(backup.settings)) {
    if (pinned.has(name)) report.skipped.push(`setting ${name}: set by the environment here`);
    else settings[name] = value;
  }
  // Apply each setting on its own, so one that no longer validates does not stop the rest.
  for (const [name, value] of Object.entries(settings)) {
    try {
      await deps.settings.update({ [name]: value });
      report.settings++;
    } catch (e) {
      report.skipped.push(`setting ${name}: ${e instanceof Error ? e.message : e}`);
    }
  }
  if (backup.ignoredEnvKeys.length) await deps.store.setEnvKeysIgnored(backup.ignoredEnvKeys, true);
  return report;
}
