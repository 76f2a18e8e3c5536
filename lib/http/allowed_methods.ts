/**
 * 405 Method Not Allowed for an edge's own paths: a request to a path the edge serves, with a method
 * that path does not serve (`GET /v1/chat/completions`), is answered 405 with an `Allow` header
 * listing the methods it does serve, in the edge's error envelope, instead of the 404 of an unknown
 * path. `HEAD` is served wherever `GET` is (Hono answers it with the `GET` route).
 *
 * Source: RFC 9110 §15.5.6 (405 Method Not Allowed: the server MUST send an `Allow` header),
 * https://www.rfc-editor.org/rfc/rfc9110#status.405
 *
 * @module
 */
import type { Env, Hono } from "hono";
import { GatewayError } from "./errors.ts";

/** Each path of an edge (a Hono pattern, relative to the edge's prefix) and the methods it serves. */
export type PathMethods = Readonly<Record<string, readonly string[]>>;

/** The `Allow` header's value for `methods` (`HEAD` added where `GET` is served). */
export function allowHeader(methods: readonly string[]): string {
  const all = methods.includes("GET") && !methods.includes("HEAD") ? [...methods, "HEAD"] : methods;
  return all.join(", ");
}

/**
 * The 405 for `method` on `path`, which serves `methods`: OpenAI's own wording ("Invalid method for
 * URL (GET /v1/chat/completions)"), with the methods that work, and the `Allow` header.
 */
export function methodNotAllowed(
  o: { method: string; path: string; methods: readonly string[] },
): GatewayError {
  const allow = allowHeader(o.methods);
  return new GatewayError(
    405,
    `Invalid method for URL (${o.method} ${o.path}): this endpoint accepts ${allow}.`,
    { headers: { allow } },
  );
}

/**
 * Adds, after an edge's routes, a route per path of `paths` that answers every other method with
 * {@link methodNotAllowed} (thrown: the edge's error envelope formats it). Register it after the
 * routes themselves: Hono runs the first route that matches.
 */
export function refuseOtherMethods<E extends Env>(app: Hono<E>, paths: PathMethods): void {
  for (const [pattern, methods] of Object.entries(paths)) {
    app.all(pattern, (c) => {
      throw methodNotAllowed({ method: c.req.method, path: c.req.path, methods });
    });
  }
}
