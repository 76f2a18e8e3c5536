/**
 * Admin JSON API for run-time settings: `GET /settings` lists every field (derived from the zod
 * schema: type, description, default, value, whether the environment pins it) and `PATCH /settings`
 * validates and stores a partial change (400 with Google's BadRequest field violations; nothing is
 * stored unless every field is valid).
 *
 * @module
 */
import { Hono } from "hono";
import { redactProxyUrl } from "../../lib/features/proxy_pool.ts";
import type { z } from "zod";
import { envName } from "../../lib/config/env.ts";
import { SettingsError, type SettingsStore } from "../../lib/config/settings_store.ts";
import { GatewayError, googleErrorResponse } from "../../lib/http/errors.ts";

/** A setting as the panel's form shows it. */
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

type Def = { type: string; innerType?: z.ZodType; element?: z.ZodType; entries?: Record<string, string> };

const defOf = (s: z.ZodType) => (s as unknown as { def: Def }).def;

/** Strips default/optional/nullable wrappers; returns the core schema, its default and description. */
function unwrap(schema: z.ZodType): { core: z.ZodType; dflt: unknown; description?: string } {
  let s = schema;
  let dflt: unknown = undefined;
  let description = s.description;
  for (;;) {
    const d = defOf(s) as Def & { defaultValue?: unknown };
    if (d.type === "default") dflt = d.defaultValue;
    if (!["default", "optional", "nullable", "prefault", "readonly"].includes(d.type) || !d.innerType) break;
    s = d.innerType;
    description ??= s.description;
  }
  return { core: s, dflt, description };
}

/** The form type of a schema (declarative by zod type). */
function typeOf(core: z.ZodType): Pick<SettingField, "type" | "enumValues"> {
  const d = defOf(core);
  if (d.type === "enum") return { type: "enum", enumValues: Object.values(d.entries ?? {}) };
  if (d.type === "array" && d.element && defOf(unwrap(d.element).core).type === "string") {
    return { type: "string[]" };
  }
  const simple: Record<string, SettingField["type"]> = {
    number: "number",
    boolean: "boolean",
    string: "string",
  };
  return { type: simple[d.type] ?? "json" };
}

/** List settings holding secrets: shown masked, and a masked entry sent back keeps its stored value. */
const SECRET_LISTS: Partial<Record<string, (v: string) => string>> = {
  allowedTokens: (t) => `…${t.slice(-4)}`,
  proxies: (u) => redactProxyUrl(u),
};

function maskValue(name: string, value: unknown): unknown {
  const mask = SECRET_LISTS[name];
  return mask && Array.isArray(value) ? value.map((v) => mask(String(v))) : value;
}

/** Puts stored secrets back where the panel sent their masked form. */
function unmaskPatch(
  patch: Record<string, unknown>,
  current: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...patch };
  for (const [name, mask] of Object.entries(SECRET_LISTS)) {
    if (!mask) continue;
    const sent = out[name];
    const stored = current[name];
    if (!Array.isArray(sent) || !Array.isArray(stored)) continue;
    const byMask = new Map(stored.map((v) => [mask(String(v)), v]));
    out[name] = sent.map((v) => byMask.get(String(v)) ?? v);
  }
  return out;
}

/** Every field of the store's schema with its current value (secrets masked). */
export function describeSettings<S extends z.ZodObject>(store: SettingsStore<S>, schema: S): SettingField[] {
  const pinned = new Set(store.pinnedFields().map((p) => p.field));
  const current = store.current as Record<string, unknown>;
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const { core, dflt, description } = unwrap(field);
    return {
      name,
      env: envName(name),
      description: description ?? "",
      ...typeOf(core),
      default: dflt ?? null,
      value: maskValue(name, current[name] ?? null),
      pinned: pinned.has(name),
    };
  });
}

function badRequest(violations: Array<{ field: string; description: string }>): GatewayError {
  return new GatewayError(
    400,
    violations.map((v) => `${v.field}: ${v.description}`).join("; "),
    {
      param: violations[0]?.field,
      details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: violations }],
    },
  );
}

/** Builds the settings API (mount under the admin API prefix). */
export function createSettingsApi<S extends z.ZodObject>(
  deps: { settings: SettingsStore<S>; schema: S },
): Hono {
  const { settings, schema } = deps;
  const app = new Hono();
  app.onError((err) => googleErrorResponse(err));

  app.get("/settings", (c) => c.json({ fields: describeSettings(settings, schema) }));
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
    try {
      await settings.update(
        unmaskPatch(body as Record<string, unknown>, settings.current as Record<string, unknown>),
      );
    } catch (e) {
      if (e instanceof SettingsError) {
        throw badRequest(e.issues.map((i) => ({ field: i.field, description: i.message })));
      }
      throw e;
    }
    return c.json({ fields: describeSettings(settings, schema) });
  });
  return app;
}
