/**
 * Gemini's REST API accepts proto field names in snake_case too (`generation_config`, `google_search`,
 * Google's own curl examples use them). The feature code reads camelCase, so the few object levels it
 * touches are normalised first. User data (contents, schemas, function args) is never renamed.
 *
 * @module
 */

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Shallow copy of `obj` with snake_case keys renamed to camelCase (a camelCase key present wins). */
export function camelKeys(obj: Record<string, unknown>): Record<string, unknown> {
  if (!Object.keys(obj).some((k) => k.includes("_"))) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!k.includes("_")) out[k] = v;
  for (const [k, v] of Object.entries(obj)) if (k.includes("_") && !(camel(k) in out)) out[camel(k)] = v;
  return out;
}

/** Nested object levels the features touch: parent key → child keys to normalise too. */
const LEVELS: Record<string, Record<string, Record<string, never>>> = {
  generationConfig: { thinkingConfig: {} },
  toolConfig: { functionCallingConfig: {} },
};

/**
 * Returns a copy of a GenerateContentRequest whose feature-relevant keys are camelCase: the top level,
 * `generationConfig`(+`thinkingConfig`), `toolConfig`(+`functionCallingConfig`) and each `tools[]` entry (or a single `tools` object).
 * Returns the same object when nothing needed renaming.
 */
export function camelizeRequestKeys(body: Record<string, unknown>): Record<string, unknown> {
  let out = camelKeys(body);
  for (const [key, children] of Object.entries(LEVELS)) {
    const level = out[key];
    if (!isObj(level)) continue;
    let next = camelKeys(level);
    for (const child of Object.keys(children)) {
      const c = next[child];
      if (isObj(c) && camelKeys(c) !== c) next = { ...next, [child]: camelKeys(c) };
    }
    if (next !== level) out = { ...out, [key]: next };
  }
  if (Array.isArray(out.tools) && out.tools.some((t) => isObj(t) && camelKeys(t) !== t)) {
    out = { ...out, tools: out.tools.map((t) => isObj(t) ? camelKeys(t) : t) };
  } else if (isObj(out.tools) && camelKeys(out.tools) !== out.tools) {
    out = { ...out, tools: camelKeys(out.tools) }; // a single Tool, which Google takes as a one-item list
  }
  return out;
}
