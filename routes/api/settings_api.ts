/**
 * Admin JSON API for run-time settings: `GET /settings` lists every field as the schema describes it
 * (`describeSettings`: type, description, default, section, secrecy) with its value and whether the
 * environment pins it; secret values are masked. `PATCH /settings` validates and stores a partial
 * change (400 with Google's BadRequest field violations; nothing is stored unless every field is
 * valid); a masked secret sent back keeps its stored value.
 *
 * @module
 */
import { Hono } from "hono";
import type { z } from "zod";
import type { SettingField } from "../../lib/admin/api_types.ts";
import { describeSettings } from "../../lib/config/describe.ts";
import { SettingsError, type SettingsStore } from "../../lib/config/settings_store.ts";
import { badRequestDetail, GatewayError, googleErrorResponse } from "../../lib/http/errors.ts";
import { maskSecret } from "../../lib/secrets/redact.ts";

/** A secret value (a string or a list of strings) with every string masked. */
function masked(value: unknown): unknown {
  if (typeof value === "string") return maskSecret(value);
  return Array.isArray(value) ? value.map((v) => typeof v === "string" ? maskSecret(v) : v) : value;
}

/** A value sent back by the panel, with masked secrets replaced by the stored values they stand for. */
function unmasked(sent: unknown, stored: unknown): unknown {
  const real = new Map<unknown, unknown>();
  for (const v of Array.isArray(stored) ? stored : [stored]) {
    if (typeof v === "string") real.set(maskSecret(v), v);
  }
  const back = (v: unknown) => real.get(v) ?? v;
  return Array.isArray(sent) ? sent.map(back) : back(sent);
}

/** Every field of the store's schema with its current value (secrets masked). */
function settingFields<S extends z.ZodObject>(store: SettingsStore<S>, schema: S): SettingField[] {
  const pinned = new Set(store.pinnedFields().map((p) => p.field));
  const current = store.current as Record<string, unknown>;
  return describeSettings(schema).map((info) => {
    const value = current[info.name] ?? null;
    return {
      ...info,
      default: info.default ?? null,
      value: info.secret ? masked(value) : value,
      pinned: pinned.has(info.name),
    };
  });
}

function badRequest(violations: Array<{ field: string; description: string }>): GatewayError {
  return new GatewayError(
    400,
    violations.map((v) => `${v.field}: ${v.description}`).join("; "),
    {
      param: violations[0]?.field,
      details: [badRequestDetail(violations)],
    },
  );
}

/** What the settings API needs. */
export interface SettingsApiDeps<S extends z.ZodObject> {
  settings: SettingsStore<S>;
  schema: S;
  /**
   * Checks beyond the schema's (values that parse but cannot work, e.g. an alias named like a real
   * model): the violations refuse the patch with a 400.
   */
  check?: (patch: Readonly<Record<string, unknown>>) => Array<{ field: string; description: string }>;
}

/** Builds the settings API (mount under the admin API prefix). */
export function createSettingsApi<S extends z.ZodObject>(deps: SettingsApiDeps<S>): Hono {
  const { settings, schema } = deps;
  const app = new Hono();
  app.onError((err) => googleErrorResponse(err));

  app.get("/settings", (c) => c.json({ fields: settingFields(settings, schema) }));
  app.patch("/settings", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      body = undefined;
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      throw badRequest([{
        field: "(body)",
        description: 'send a JSON object of settings, e.g. {"maxAttempts": 3}',
      }]);
    }
    const patch = { ...body as Record<string, unknown> };
    const violations = deps.check?.(patch) ?? [];
    if (violations.length) throw badRequest(violations);
    const current = settings.current as Record<string, unknown>;
    for (const info of describeSettings(schema)) {
      if (info.secret && info.name in patch) {
        patch[info.name] = unmasked(patch[info.name], current[info.name]);
      }
    }
    try {
      await settings.update(patch);
    } catch (e) {
      if (e instanceof SettingsError) {
        throw badRequest(e.issues.map((i) => ({ field: i.field, description: i.message })));
      }
      throw e;
    }
    return c.json({ fields: settingFields(settings, schema) });
  });
  return app;
}
