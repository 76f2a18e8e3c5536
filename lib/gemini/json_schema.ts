/**
 * JSON Schemas from clients (OpenAI tools and `response_format`, Anthropic `input_schema`, MCP servers)
 * made acceptable to Gemini's `parametersJsonSchema` / `responseJsonSchema`.
 *
 * Gemini takes a JSON Schema subset and refuses a `$ref` that stands next to other keywords, and
 * references it cannot resolve. This inlines every local reference (`#/$defs/X`, `#/definitions/X`,
 * `#` and JSON-pointer paths into the schema itself), cutting recursive ones at a depth limit (the
 * cut is an open schema `{}` with a description saying so), and drops the keywords that only serve
 * references (`$defs`, `definitions`, `$id`, `$schema`, `$anchor`, `$comment`).
 *
 * Source: https://ai.google.dev/api/caching#FunctionDeclaration (`parametersJsonSchema`) and
 * https://ai.google.dev/gemini-api/docs/structured-output#json-schema-support
 *
 * @module
 */

/** Options of {@link toGeminiJsonSchema}. */
export interface GeminiSchemaOptions {
  /** How many times one reference may be expanded inside itself before it is cut (default 3). */
  maxRecursion?: number;
}

type Json = unknown;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Keywords that exist only to define or name references; gone once references are inlined. */
const REFERENCE_ONLY = new Set([
  "$defs",
  "definitions",
  "$id",
  "$schema",
  "$anchor",
  "$comment",
  "$dynamicAnchor",
]);

/** Keywords whose value maps names to schemas. */
const NAMED_SCHEMAS = new Set(["properties", "patternProperties", "dependentSchemas"]);

/** Resolves a local JSON pointer (`#/$defs/Item`) in `root`; undefined when it points nowhere. */
function resolvePointer(root: Obj, ref: string): Json | undefined {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let node: Json = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObj(node)) node = node[key];
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/**
 * A copy of `schema` with local `$ref`s inlined and reference-only keywords removed. Never mutates
 * its input; non-object schemas (booleans) are returned as they are. A reference that points nowhere
 * becomes an open schema with a description naming it, so Gemini never sees a dangling `$ref`.
 */
export function toGeminiJsonSchema(schema: Json, options: GeminiSchemaOptions = {}): Json {
  if (!isObj(schema)) return schema;
  const max = options.maxRecursion ?? 3;
  const root = schema;
  const walk = (node: Json, active: Map<string, number>): Json => {
    if (Array.isArray(node)) return node.map((n) => walk(n, active));
    if (!isObj(node)) return node;
    let base: Obj = node;
    const ref = typeof node.$ref === "string" ? node.$ref : undefined;
    if (ref !== undefined) {
      const { $ref: _ref, ...siblings } = node;
      const depth = active.get(ref) ?? 0;
      const target = resolvePointer(root, ref);
      if (!isObj(target)) {
        return {
          ...walk(siblings, active) as Obj,
          description: describe(siblings, `unresolved reference ${ref}`),
        };
      }
      if (depth >= max) {
        return { description: describe(siblings, `recursive ${ref} cut after ${max} levels`) };
      }
      const inner = new Map(active).set(ref, depth + 1);
      // Siblings of a $ref (description, nullable, ...) refine the referenced schema: merge them over it.
      base = { ...walk(target, inner) as Obj, ...walk(siblings, active) as Obj };
      return base;
    }
    const out: Obj = {};
    for (const [k, v] of Object.entries(base)) {
      if (REFERENCE_ONLY.has(k)) continue;
      // Under these keywords the keys are names chosen by the client (a property may be called
      // "definitions"): keep every name, walk the schemas.
      out[k] = NAMED_SCHEMAS.has(k) && isObj(v)
        ? Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, walk(sub, active)]))
        : walk(v, active);
    }
    return out;
  };
  return walk(schema, new Map());
}

function describe(siblings: Obj, note: string): string {
  return typeof siblings.description === "string" ? `${siblings.description} (${note})` : note;
}
