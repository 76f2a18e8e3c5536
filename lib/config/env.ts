/**
 * Reads settings from environment variables. Each setting `fooBar` is read from `FOO_BAR`; the
 * string is converted by the field's type (numbers, booleans, lists, JSON for objects) and then
 * validated by the schema. A bad value stops the start with a message naming the variable, the
 * problem and an example of a good value.
 *
 * @module
 */
import { z } from "zod";
import { splitList } from "./schema.ts";

/** `maxAttempts` -> `MAX_ATTEMPTS`. */
export function envName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();
}

/** A problem with one environment variable. */
export class EnvError extends Error {
  constructor(readonly variable: string, problem: string, example: string) {
    super(`${variable}: ${problem}. Example of a good value: ${variable}=${example}`);
    this.name = "EnvError";
  }
}

type Def = { type: string; innerType?: z.ZodType; element?: z.ZodType };

function baseType(schema: z.ZodType): { type: string; element?: string } {
  let s = schema;
  for (;;) {
    const def = (s as unknown as { _zod: { def: Def } })._zod.def;
    if ((def.type === "default" || def.type === "optional" || def.type === "nullable") && def.innerType) {
      s = def.innerType;
      continue;
    }
    if (def.type === "array" && def.element) return { type: "array", element: baseType(def.element).type };
    return { type: def.type };
  }
}

const EXAMPLES: Record<string, string> = {
  number: "30",
  boolean: "true",
  array: "a,b,c",
  string: "value",
  object: '{"name":"value"}',
  record: '{"name":"value"}',
};

/** A good value to show in an error: the field's default when it has a telling one, else one of its type. */
function exampleFor(schema: z.ZodType, type: string): string {
  const d = schema.safeParse(undefined);
  if (d.success && d.data !== undefined && !(Array.isArray(d.data) && d.data.length === 0)) {
    return Array.isArray(d.data)
      ? d.data.join(",")
      : typeof d.data === "object"
      ? JSON.stringify(d.data)
      : String(d.data);
  }
  return EXAMPLES[type] ?? "value";
}

function convert(raw: string, type: { type: string; element?: string }): unknown {
  switch (type.type) {
    case "number": {
      const n = Number(raw.trim());
      if (raw.trim() === "" || Number.isNaN(n)) throw new Error(`"${raw}" is not a number`);
      return n;
    }
    case "boolean": {
      const v = raw.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off"].includes(v)) return false;
      throw new Error(`"${raw}" is not true or false`);
    }
    case "array":
      if (type.element === "string") return splitList(raw);
      return JSON.parse(raw);
    case "object":
    case "record":
      return JSON.parse(raw);
    default:
      return raw;
  }
}

/**
 * Reads every field of `schema` that has a variable set in `env`, converted and validated.
 * Returns only the fields that were set (the caller layers them over stored values and defaults).
 */
export function readEnv<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined>,
): Partial<z.infer<S>> {
  const out: Record<string, unknown> = {};
  for (const [field, fieldSchema] of Object.entries(schema.shape)) {
    const variable = envName(field);
    const raw = env[variable];
    if (raw === undefined || raw === "") continue;
    const type = baseType(fieldSchema as z.ZodType);
    const example = exampleFor(fieldSchema as z.ZodType, type.type);
    let value: unknown;
    try {
      value = convert(raw, type);
    } catch (e) {
      throw new EnvError(variable, e instanceof Error ? e.message : String(e), example);
    }
    const parsed = (fieldSchema as z.ZodType).safeParse(value);
    if (!parsed.success) {
      throw new EnvError(variable, parsed.error.issues.map((i) => i.message).join("; "), example);
    }
    out[field] = parsed.data;
  }
  return out as Partial<z.infer<S>>;
}
