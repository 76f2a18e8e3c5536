/**
 * Headers as plain records: which of the upstream's response headers a client sees, for the `Response`
 * the pipeline hands over (a record costs a third of a `Headers` object there), and the request
 * headers `fetch` sends upstream (it copies a record more cheaply than a `Headers` object).
 *
 * Iterating a `Headers` object sorts and joins its list on every pass, which costs more than the rest of
 * picking the few headers worth passing on; Deno keeps the list as it arrived under an internal symbol
 * (`header list`), so that list is read directly. When that symbol is not there (another runtime or
 * version), the headers are iterated as before.
 *
 * @module
 */

/**
 * Upstream response headers worth passing on (and every `x-goog-*`, the upload protocol's among them);
 * the rest (length, encoding, hop-by-hop, Google's own) are dropped. A set lookup per header, no regex.
 */
const KEEP_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  "content-type",
  "content-disposition",
  "server-timing",
  "retry-after",
  "location",
]);

const keep = (name: string) => KEEP_RESPONSE_HEADERS.has(name) || name.startsWith("x-goog-");

/** The `Headers` internals read here (Deno's), found once; null when this runtime has none. */
let listKey: symbol | null | undefined;
let lowerKey: symbol | null = null;

function findKeys(headers: Headers): symbol | null {
  const keys = Object.getOwnPropertySymbols(headers);
  lowerKey = keys.find((k) => k.description === "lowercase header names") ?? null;
  return listKey = keys.find((k) => k.description === "header list") ?? null;
}

/**
 * The header list a `Headers` object holds (name, value pairs as they arrived), or undefined when unknown.
 * A served request's list is fetched from the runtime only when first needed (`null` until then; `get`
 * asks for one header without it): `has` fetches it, as iterating would, without sorting it.
 */
function headerList(headers: Headers): ReadonlyArray<readonly [string, string]> | undefined {
  const key = listKey === undefined ? findKeys(headers) : listKey;
  if (key === null) return undefined;
  const own = headers as unknown as Record<symbol, unknown>;
  if (own[key] === null) headers.has("content-type");
  const list = own[key];
  return Array.isArray(list) ? list : undefined;
}

/**
 * The lower-case names Deno keeps beside a header list (index by index; built by `has`), or undefined
 * when it has none of this length.
 */
function lowerNames(headers: Headers, length: number): readonly string[] | undefined {
  if (lowerKey === null) return undefined;
  const names = (headers as unknown as Record<symbol, unknown>)[lowerKey];
  return Array.isArray(names) && names.length === length ? names : undefined;
}

/**
 * Every header of `from` as a plain record with lower-case names (a header that came more than once has
 * its values joined with `, `, as `Headers` joins them), or those `pick` accepts.
 */
export function headerRecord(from: Headers, pick?: (name: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const list = headerList(from);
  if (!list) {
    for (const [k, v] of from) if (!pick || pick(k)) out[k] = v;
    return out;
  }
  const lower = lowerNames(from, list.length);
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    const k = lower ? lower[i] : entry[0].toLowerCase();
    if (pick && !pick(k)) continue;
    const joined = out[k];
    out[k] = joined === undefined ? entry[1] : `${joined}, ${entry[1]}`;
  }
  return out;
}

/**
 * The upstream's response headers that a client should see, as a plain record with lower-case names
 * (a header that came more than once has its values joined with `, `, as `Headers` joins them).
 */
export function clientHeaders(from: Headers): Record<string, string> {
  return headerRecord(from, keep);
}
