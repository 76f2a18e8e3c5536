/**
 * Reads settings from environment variables. Each setting `fooBar` is read from `FOO_BAR`; the
 * string is converted by the setting's type (numbers, booleans, lists, JSON for objects; see
 * `describe.ts`) and then validated by the schema. A bad value stops the start with a message
 * naming the variable, the problem and an example of a good value (a secret's value is never quoted).
 *
 * @module
 */
import type { z } from "zod";
import { describeSettings, type SettingInfo, type SettingType } from "./describe.ts";
import { splitList } from "./schema.ts";

/** A problem with one environment variable; `main.ts` prints its message and exits without a stack. */
export class EnvError extends Error {
  constructor(readonly variable: string, problem: string, example: string) {
    super(`${variable}: ${problem}. Example of a good value: ${variable}=${example}`);
    this.name = "EnvError";
  }
}

const EXAMPLES: Record<SettingType, string> = {
  number: "30",
  boolean: "true",
  "string[]": "a,b,c",
  string: "value",
  enum: "value",
  json: '{"name":"value"}',
};

/**
 * A good value to show in an error: the setting's own example, else its default when it has a telling
 * one, else one of its type.
 */
export function exampleFor(info: SettingInfo): string {
  if (info.example !== undefined) return info.example;
  const d = info.default;
  if (d !== undefined && d !== null && d !== "" && !(Array.isArray(d) && d.length === 0)) {
    return Array.isArray(d) ? d.join(",") : typeof d === "object" ? JSON.stringify(d) : String(d);
  }
  return info.enumValues?.[0] ?? EXAMPLES[info.type];
}

/** Converts the variable's text by the setting's type; `shown` is how an error quotes the value. */
function convert(raw: string, type: SettingType, shown: string): unknown {
  switch (type) {
    case "number": {
      const n = Number(raw.trim());
      if (raw.trim() === "" || Number.isNaN(n)) throw new Error(`${shown} is not a number`);
      return n;
    }
    case "boolean": {
      const v = raw.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off"].includes(v)) return false;
      throw new Error(`${shown} is not true or false`);
    }
    case "string[]":
      return splitList(raw);
    case "json":
      try {
        return JSON.parse(raw);
      } catch {
        throw new Error(`${shown} is not valid JSON`);
      }
    default:
      return raw;
  }
}

/**
 * Reads every field of `schema` that has a variable set in `env`, converted and validated.
 * Returns only the fields that were set (the caller layers them over stored values and defaults).
 * Throws an {@link EnvError} for the first bad value.
 */
export function readEnv<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined>,
): Partial<z.infer<S>> {
  const shape = schema.shape as Record<string, z.ZodType>;
  const out: Record<string, unknown> = {};
  for (const info of describeSettings(schema)) {
    const raw = env[info.env];
    if (raw === undefined || raw === "") continue;
    const shown = info.secret ? "the value" : `"${raw}"`;
    let value: unknown;
    try {
      value = convert(raw, info.type, shown);
    } catch (e) {
      throw new EnvError(info.env, e instanceof Error ? e.message : String(e), exampleFor(info));
    }
    const parsed = shape[info.name].safeParse(value);
    if (!parsed.success) {
      throw new EnvError(info.env, parsed.error.issues.map((i) => i.message).join("; "), exampleFor(info));
    }
    out[info.name] = parsed.data;
  }
  return out as Partial<z.infer<S>>;
}
