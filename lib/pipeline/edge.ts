/**
 * What an edge (one API dialect: Gemini-native, OpenAI, ...) is to the composition root: its path
 * prefixes, how it recognises its requests on a shared prefix, how it formats errors, and its
 * routes. `routes/mod.ts` applies CORS, client auth and the error formatter around every edge the same
 * way. Adding a dialect is adding `routes/<dialect>.ts` (which exports an {@link Edge}), its
 * `lib/<dialect>/` mapping files, and a line in `routes/dialects.ts`.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { AuthVariables } from "../http/client_auth.ts";
import type { CallContext, GeminiClient } from "./gemini_client.ts";
import type { StreamDecorators } from "../features/stream_decorators.ts";
import type { Settings } from "../settings_schema.ts";
import type { ModelCatalog } from "./model_catalog.ts";
import type { ThoughtSignatures } from "../gemini/thought_signatures.ts";
import type { LiveSessions } from "../live/live_sessions.ts";

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
    { method: req.method, path: new URL(req.url).pathname, address: "unknown", time: Date.now() };
  return { route, tokenName: c.get("tokenName"), signal: req.signal, client, ...extra };
}

/** One API dialect. */
export interface Edge {
  /** The dialect's name, also the `route` of its log records: `gemini`, `openai`, ... */
  name: string;
  /** Path prefixes the edge serves, e.g. `/v1beta`. A prefix several edges list is shared. */
  prefixes: readonly string[];
  /** On a shared prefix: true when the request is in this dialect (the first edge that claims it wins; one without `claims` takes the rest). */
  claims?: (req: Request) => boolean;
  /** Formats any thrown value in the dialect's error envelope. */
  errorResponse(err: unknown): Response;
  /** The edge's routes, relative to each prefix. */
  routes(deps: EdgeDeps): EdgeApp;
}
