/**
 * What the settings schemas say about each setting, read in one place. Every field of a settings
 * schema carries its {@link SettingMeta} (its section, and whether it holds secrets) in the
 * {@link settingMeta} zod registry, next to its type, default and `.describe()` text. The describer
 * turns a schema into one {@link SettingInfo} per field; environment parsing (`env.ts`), the
 * settings API (`routes/api/settings_api.ts`), the admin form and the README table all read it.
 *
 * Source: zod 4 metadata and registries, https://zod.dev/metadata
 *
 * @module
 */
import { z } from "zod";

/**
 * A settings section (titles and order for the admin form: `lib/admin/settings_groups.ts`).
 * `server` holds the start settings, read once from the environment.
 */
export type SettingGroup =
  | "access"
  | "upstream"
  | "keys"
  | "models"
  | "streaming"
  | "live"
  | "logs"
  | "reporting"
  | "server";

/** What a settings field carries besides its type, default and description. */
export interface SettingMeta {
  /** Its section (the admin form's sections follow these). */
  group: SettingGroup;
  /**
   * Holds secrets (tokens, credentials): shown masked by the settings API, hidden in the admin
   * form until asked for, never quoted in start-up errors.
   */
  secret?: boolean;
  /**
   * A good value as the environment takes it, shown in start-up errors (needed when the default is
   * empty or not itself a telling example; a test checks every example is valid).
   */
  example?: string;
}

/**
 * The registry of settings metadata. Register each field of a settings schema as its last step:
 * `z.number().default(5).describe("…").register(settingMeta, { group: "upstream" })`.
 */
export const settingMeta: z.core.$ZodRegistry<SettingMeta> = z.registry<SettingMeta>();

/** How a setting is written in the environment and edited in the admin form. */
export type SettingType = "number" | "boolean" | "string" | "string[]" | "json" | "enum";

/** One setting as its schema describes it. */
export interface SettingInfo {
  /** Field name, e.g. `maxAttempts`. */
  name: string;
  /** Environment variable, e.g. `MAX_ATTEMPTS`. */
  env: string;
  /** Label for people, e.g. `Max attempts`, `CORS origins`, `Request timeout (ms)`. */
  label: string;
  /** The field's `.describe()` text. */
  description: string;
  type: SettingType;
  /** The allowed values (`enum` only). */
  enumValues?: string[];
  /** The default; undefined when the field has none. */
  default?: unknown;
  group: SettingGroup;
  secret: boolean;
  /** A good value for the environment, when the schema gives one (see {@link SettingMeta.example}). */
  example?: string;
}

/** Words labels write as acronyms. */
const ACRONYMS: Readonly<Record<string, string>> = {
  api: "API",
  cors: "CORS",
  hd: "HD",
  kv: "KV",
  ttl: "TTL",
  tts: "TTS",
  url: "URL",
};

/** A last word that is the setting's unit, which labels show in parentheses. */
const UNITS: ReadonlySet<string> = new Set(["ms", "hours", "bytes"]);

/**
 * The label of a setting field: `maxAttempts` -> `Max attempts`, `corsOrigins` -> `CORS origins`,
 * `requestTimeoutMs` -> `Request timeout (ms)`.
 */
export function settingLabel(field: string): string {
  const words = field.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(" ");
  const unit = words.length > 1 && UNITS.has(words.at(-1)!) ? ` (${words.pop()})` : "";
  const text = words.map((w) => ACRONYMS[w] ?? w).join(" ");
  return text[0].toUpperCase() + text.slice(1) + unit;
}

/** `maxAttempts` -> `MAX_ATTEMPTS`. */
export function envName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();
}

type Def = { type: string; innerType?: z.ZodType; element?: z.ZodType; entries?: Record<string, string> };

const defOf = (s: z.ZodType) => (s as unknown as { def: Def }).def;
const WRAPPERS = new Set(["default", "optional", "nullable", "prefault", "readonly"]);

/** The schemas from `schema` in to the one that says the value's type (default/optional/nullable stripped). */
function layers(schema: z.ZodType): z.ZodType[] {
  const out = [schema];
  for (let d = defOf(schema); WRAPPERS.has(d.type) && d.innerType; d = defOf(d.innerType)) {
    out.push(d.innerType);
  }
  return out;
}

const core = (schema: z.ZodType) => layers(schema).at(-1)!;

/** The setting type of a schema (declarative by zod type; anything else is edited as JSON). */
function typeOf(schema: z.ZodType): Pick<SettingInfo, "type" | "enumValues"> {
  const d = defOf(core(schema));
  if (d.type === "enum") return { type: "enum", enumValues: Object.values(d.entries ?? {}) };
  if (d.type === "array" && d.element && defOf(core(d.element)).type === "string") {
    return { type: "string[]" };
  }
  const simple: Record<string, SettingType> = { number: "number", boolean: "boolean", string: "string" };
  return { type: simple[d.type] ?? "json" };
}

const described = new WeakMap<z.ZodObject, SettingInfo[]>();

/**
 * One {@link SettingInfo} per field of `schema`, in field order. Throws when a field has no
 * {@link settingMeta} entry (a new setting must say its section).
 */
export function describeSettings(schema: z.ZodObject): SettingInfo[] {
  const known = described.get(schema);
  if (known) return known;
  const out = Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const meta = settingMeta.get(field);
    if (!meta) {
      throw new Error(
        `Setting ${name} has no section: end its schema with .register(settingMeta, { group: "…" }).`,
      );
    }
    const d = field.safeParse(undefined);
    return {
      name,
      env: envName(name),
      label: settingLabel(name),
      description: layers(field).find((s) => s.description)?.description ?? "",
      ...typeOf(field),
      default: d.success ? d.data : undefined,
      group: meta.group,
      secret: meta.secret ?? false,
      ...(meta.example === undefined ? {} : { example: meta.example }),
    };
  });
  described.set(schema, out);
  return out;
}
