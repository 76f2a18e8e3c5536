/**
 * What an edge (one API dialect: Gemini-native, OpenAI, ...) is to the composition root: its path
 * prefixes, how it recognises its requests on a shared prefix, how it formats errors, and its
 * routes. `routes/mod.ts` applies CORS, client auth and the error formatter around every edge the same
 * way. Adding a dialect is adding `routes/<dialect>.ts` (which exports an {@link Edge}), its
 * `lib/<dialect>/` mapping files, and a line in `routes/dialects.ts`.
 *
 * @module
 */
import type { Context, Hono, MiddlewareHandler, Next } from "hono";
import type { AuthVariables } from "../http/client_auth.ts";
import type { CallContext, GeminiClient } from "./gemini_client.ts";
import type { StreamDecorators } from "../features/stream_decorators.ts";
import type { Settings } from "../settings_schema.ts";
import type { ModelCatalog } from "./model_catalog.ts";
import type { ThoughtSignatures } from "../gemini/thought_signatures.ts";
import type { LiveSessions } from "../live/live_sessions.ts";
import { urlPath } from "../http/url_parts.ts";

/** What every edge gets. */
export interface EdgeDeps {
  /** The pipeline with its prepare step; bind it to a request with `gemini.for(ctx)`. */
  gemini: GeminiClient;
  /** Current settings (read per request: admin edits apply at once). */
  settings: () => Settings;
  /** Google's model list, cached, with the gateway's variants and aliases. */
  catalog: ModelCatalog;
  /** Smoother and keep-alive, for the edge to place around its streams. */
  decorators: StreamDecorators;
  /** Thought signatures of translated answers, kept server-side (KV) for the next turn. */
  signatures: ThoughtSignatures;
  /**
   * The gateway's Deno KV, for edges that keep state of their own (stored OpenAI Responses); absent
   * in edge tests, where such state lives in memory.
   */
  kv?: Deno.Kv;
  /** The Live API's WebSocket sessions (`routes/live.ts`, mounted next to the edges); absent: no Live routes. */
  live?: LiveSessions;
}

/** The Hono app type of an edge's routes (client auth runs before them and sets these variables). */
export type EdgeApp = Hono<{ Variables: AuthVariables }>;

/** The Hono context of an edge's route. */
export type EdgeContext = Context<{ Variables: AuthVariables }>;

/**
 * The call context of the request `c` for the edge named `route`: the client's token name, method,
 * path and address (logged with every record) and its abort signal. Every edge binds the pipeline
 * with `deps.gemini.for(callContext(c, name))`.
 */
export function callContext(c: EdgeContext, route: string, extra: Partial<CallContext> = {}): CallContext {
  const req = c.req.raw;
  const client = c.get("client") ??
    { method: req.method, path: urlPath(req.url), address: "unknown", time: Date.now() };
  return { route, tokenName: c.get("tokenName"), signal: req.signal, client, ...extra };
}

/** One API dialect. */
export interface Edge {
  /** The dialect's name, also the `route` of its log records: `gemini`, `openai`, ... */
  name: string;
  /** Path prefixes the edge serves, e.g. `/v1beta`. A prefix several edges list is shared. */
  prefixes: readonly string[];
  /**
   * On a shared prefix: true when the request is in this dialect (the first edge that claims it wins; one
   * without `claims` takes the rest). `path` is the request's path (`new URL(req.url).pathname`, read once
   * for all the edges that are asked).
   */
  claims?: (req: Request, path: string) => boolean;
  /** Formats any thrown value in the dialect's error envelope. */
  errorResponse(err: unknown): Response;
  /** The edge's routes, relative to each prefix. */
  routes(deps: EdgeDeps): EdgeApp;
}

/**
 * One step of what every request to an edge passes before the edge's route: noting the client, CORS,
 * client auth. Guards are plain objects, run in order by {@link guardRoute} without a middleware chain
 * (no `next` closure per guard and request).
 */
export interface EdgeGuard {
  /**
   * Checks the request before the route: returns nothing to let it pass, a Response that answers it
   * here (a CORS preflight), or throws (a `GatewayError` that refuses it, answered in the edge's
   * envelope).
   */
  enter(c: EdgeContext): Response | undefined | Promise<Response | undefined>;
  /** Adjusts the answer of everything after this guard (the route's, or an error's), e.g. CORS headers. */
  leave?(c: EdgeContext, res: Response): Response;
}

/** A Hono middleware that only checks the request and sets variables before `next()` (a test's stand-in auth), as a guard. */
export function middlewareGuard(middleware: MiddlewareHandler<{ Variables: AuthVariables }>): EdgeGuard {
  return {
    async enter(c) {
      let passed = false;
      const res = await middleware(c, () => {
        passed = true;
        return Promise.resolve();
      });
      return passed ? undefined : res ?? c.res;
    },
  };
}

/** An edge's route handler (it answers every request it matches). */
export type EdgeRoute = (c: EdgeContext, next: Next) => Promise<Response | void>;

/** Options of {@link guardRoute}. */
export interface GuardRouteOptions {
  /** Run in order before the route; their `leave` in reverse order after it. */
  guards: readonly EdgeGuard[];
  /** The route. */
  route: EdgeRoute;
  /** Formats an error thrown by a guard or the route (the edge's envelope). Values that are no `Error` are rethrown, as Hono does. */
  onError: (err: Error, c: EdgeContext) => Response;
}

/**
 * `route` behind `guards`, as one handler: each guard's `enter` in order (a Response from one answers
 * the request), then the route; whatever is thrown goes to `onError`; then the `leave` of every guard
 * whose `enter` passed, innermost first, so an error's answer gets CORS headers too.
 */
export function guardRoute(o: GuardRouteOptions): EdgeRoute {
  const { guards, route, onError } = o;
  const count = guards.length;
  return async function guardedRoute(c, next) {
    let res: Response | void | undefined;
    let passed = 0;
    try {
      for (; passed < count; passed++) {
        const early = guards[passed].enter(c);
        res = early instanceof Promise ? await early : early;
        if (res) break;
      }
      if (!res) res = (await route(c, next)) ?? (c.finalized ? c.res : undefined);
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      res = onError(err, c);
    }
    if (!res) return res;
    for (let i = passed - 1; i >= 0; i--) {
      const leave = guards[i].leave;
      if (leave) res = leave(c, res);
    }
    return res;
  };
}
