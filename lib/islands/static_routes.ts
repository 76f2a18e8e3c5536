/**
 * Serves `static/` at `/static`: bundles under `/static/build/<buildId>/` with a one-year immutable
 * cache (their folder name changes with every build), other files (CSS, favicon) with ETag
 * revalidation. Everything is local; no CDN.
 *
 * @module
 */
import { Hono } from "hono";
import { PROJECT_ROOT, STATIC_BASE } from "./build_info.ts";

/** Options for {@link createStaticRoutes}. */
export interface StaticRoutesOptions {
  /** Folder with the files; default `<project>/static/`. Must end with `/`. */
  root?: URL;
}

/** Content types by file extension. */
export const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  json: "application/json; charset=utf-8",
  map: "application/json; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  woff2: "font/woff2",
};

const IMMUTABLE = "public, max-age=31536000, immutable";
const SAFE_SEGMENT = /^[\w][\w.-]*$/;

/** A Hono sub-app serving static files; mount it with `app.route("/static", createStaticRoutes())`. */
export function createStaticRoutes(opts: StaticRoutesOptions = {}): Hono {
  const root = opts.root ?? new URL("static/", PROJECT_ROOT);
  const app = new Hono();
  app.on(["GET", "HEAD"], "*", async (c) => {
    const rel = c.req.path.startsWith(`${STATIC_BASE}/`) ? c.req.path.slice(STATIC_BASE.length + 1) : null;
    const segments = rel?.split("/").map(safeDecode);
    if (!segments || segments.some((s) => s === null || !SAFE_SEGMENT.test(s))) return c.notFound();
    const path = segments.join("/");
    const type = CONTENT_TYPES[path.split(".").pop() ?? ""];
    if (!type) return c.notFound();
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(new URL(path, root));
    } catch {
      return c.notFound();
    }
    if (!info.isFile) return c.notFound();
    const immutable = segments[0] === "build" && segments.length > 2;
    const etag = `W/"${info.size.toString(36)}-${(info.mtime?.getTime() ?? 0).toString(36)}"`;
    const headers: Record<string, string> = {
      "content-type": type,
      "cache-control": immutable ? IMMUTABLE : "no-cache",
      "x-content-type-options": "nosniff",
      etag,
    };
    if (!immutable && c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    headers["content-length"] = String(info.size);
    if (c.req.method === "HEAD") return c.body(null, 200, headers);
    return c.body(await Deno.readFile(new URL(path, root)), 200, headers);
  });
  return app;
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
