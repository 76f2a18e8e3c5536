/**
 * The path and query of a request's URL, as `new URL(req.url)` gives them, without a `new URL` per
 * request. A served request's `url` is its raw target behind `http://host` (Deno does not parse it), so
 * the path is still parsed once (dot segments resolved, characters percent-encoded as the URL parser
 * does: https://url.spec.whatwg.org/#concept-basic-url-parser) and remembered per URL without its query
 * (bounded: a client's query, which may carry a key, is never kept); the query is read off the text
 * unless it holds a character the parser would encode.
 *
 * @module
 */
import { memoize } from "../util/memo.ts";

/** Where the query or fragment starts (the URL parser ends the path and host there), or the length. */
function pathEnd(url: string): number {
  for (let i = url.indexOf("://") + 3; i < url.length; i++) {
    const ch = url.charCodeAt(i);
    if (ch === 63 /* ? */ || ch === 35 /* # */) return i;
  }
  return url.length;
}

const pathOf = memoize((base: string) => new URL(base).pathname);

/** `new URL(url).pathname` (`/v1/chat/completions`, still percent-encoded; Hono's `c.req.path` decodes it). */
export function urlPath(url: string): string {
  const end = pathEnd(url);
  return pathOf(end === url.length ? url : url.slice(0, end));
}

/** True when `query` holds a character the URL parser percent-encodes in a special URL's query (controls, space, `"#'<>`, non-ASCII). */
function encodedInQuery(query: string): boolean {
  for (let i = 0; i < query.length; i++) {
    const ch = query.charCodeAt(i);
    if (ch <= 0x20 || ch === 0x22 || ch === 0x23 || ch === 0x27 || ch === 0x3c || ch === 0x3e || ch >= 0x7f) {
      return true;
    }
  }
  return false;
}

/** `new URL(url).search`: `?a=1`, or `""` without a query (or an empty one). */
export function urlSearch(url: string): string {
  const q = pathEnd(url);
  if (q === url.length || url.charCodeAt(q) !== 63) return "";
  const hash = url.indexOf("#", q);
  const search = hash < 0 ? url.slice(q) : url.slice(q, hash);
  if (search.length === 1) return "";
  return encodedInQuery(search) ? new URL(url).search : search;
}
