/**
 * Mounts every route group on one Hono app: health, each API dialect's edge (with the same client
 * auth and its own error envelope), the admin panel with its JSON API, and static files.
 *
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { SettingsStore } from "../lib/config/settings_store.ts";
import { settingsSchema } from "../lib/settings_schema.ts";
import type { AdminSecrets } from "../lib/config/admin_secrets.ts";
import {
  type AuthVariables,
  clientAuthGuard,
  type ClientAuthOptions,
  type ClientToken,
} from "../lib/http/client_auth.ts";
import { clientAddress, clientInfoGuard, trustedProxies } from "../lib/http/client_address.ts";
import { corsGuard } from "../lib/http/cors.ts";
import { urlPath } from "../lib/http/url_parts.ts";
import { GatewayError, googleErrorResponse, notFound, unauthenticated } from "../lib/http/errors.ts";
import { type AffinityMap, uploadSessionId } from "../lib/pipeline/affinity.ts";
import type { AuditLog } from "../lib/logs/audit_log.ts";
import { describeSettings } from "../lib/config/describe.ts";
import { AuthFailureThrottle } from "../lib/http/auth_throttle.ts";
import { outcomeOfStatus } from "../lib/http/refusal.ts";
import { redactKeys } from "../lib/secrets/redact.ts";
import type { RecordSink, RequestRecord } from "../lib/pipeline/request_record.ts";
import type { KeyPool } from "../lib/pool/key_pool.ts";
import type { PoolCapacityReport } from "../lib/cluster/capacity_board.ts";
import { costReport } from "../lib/metrics/costs.ts";
import type { UsageCounter } from "../lib/pool/usage.ts";
import { pacificDay } from "../lib/pool/quota_clock.ts";
import { maskedEntry } from "../lib/pool/key_record.ts";
import type { KeyAdmin } from "../lib/pool/key_admin.ts";
import type { GeminiClient } from "../lib/pipeline/gemini_client.ts";
import type { ModelCatalog } from "../lib/pipeline/model_catalog.ts";
import { streamDecorators } from "../lib/features/stream_decorators.ts";
import { createStaticRoutes } from "../lib/islands/static_routes.ts";
import { DIALECTS } from "./dialects.ts";
import { shadowedAliases } from "../lib/gemini/model_names.ts";
import { createHealthRoute } from "./health.ts";
import { createPrometheusRoute } from "./metrics.ts";
import type { PrometheusMetrics } from "../lib/metrics/prometheus.ts";
import { createAdminRoutes } from "./admin/admin_routes.tsx";
import { createKeysApi } from "./api/keys_api.ts";
import { createTokensApi } from "./api/tokens_api.ts";
import { createLogsApi } from "./api/logs_api.ts";
import { createSettingsApi } from "./api/settings_api.ts";
import { createMetricsApi } from "./api/metrics_api.ts";
import { createBackupApi } from "./api/backup_api.ts";
import type { PoolStore } from "../lib/pool/pool_store.ts";
import type { TokenStore } from "../lib/tokens/token_store.ts";
import type { TokenLimits } from "../lib/tokens/token_limits.ts";
import type { LogStore } from "../lib/logs/log_store.ts";
import type { Metrics } from "../lib/metrics/metrics.ts";
import type { UpstreamProxies } from "../lib/features/upstream_proxies.ts";
import type { SessionRevocations } from "../lib/admin/session.ts";
import {
  type Edge,
  type EdgeContext,
  type EdgeDeps,
  type EdgeGuard,
  type EdgeRoute,
  guardRoute,
  middlewareGuard,
} from "../lib/pipeline/edge.ts";
import type { KvHealth } from "../lib/kv/kv_health.ts";
import type { KeyCounts } from "../lib/pool/key_counts.ts";
import type { ThoughtSignatures } from "../lib/gemini/thought_signatures.ts";
import type { LiveSessions } from "../lib/live/live_sessions.ts";
import { createLiveRoutes } from "./live.ts";

/** What the routes need. */
export interface MountDeps {
  gemini: GeminiClient;
  settings: SettingsStore<typeof settingsSchema>;
  pool: KeyPool;
  store: PoolStore;
  usage: UsageCounter;
  keys: KeyAdmin;
  catalog: ModelCatalog;
  admin: AdminSecrets;
  tokens: TokenStore;
  limits: TokenLimits;
  logs: LogStore;
  metrics: Metrics;
  proxies: UpstreamProxies;
  /** Logged-out admin sessions, shared through KV. */
  revocations: SessionRevocations;
  /** The audit log of admin actions. */
  audit: AuditLog;
  /** Whether the state store (KV) works (`/health`, `/ready`, the admin panel's warning). */
  storeHealth: KvHealth;
  /** Maintained key counts by state (`/health`, `/ready`). */
  keyCounts: KeyCounts;
  /** The gateways sharing the KV (for `/health`). */
  members?: { id: string; alive(): number };
  /** The pool's capacity summed over the gateways sharing the KV (`lib/cluster/capacity_board.ts`). */
  capacity: () => Promise<PoolCapacityReport>;
  /** `GET /metrics`, when given; served only with `metricsToken` set. */
  prometheus?: PrometheusMetrics;
  metricsToken?: string;
  /** Thought signatures of translated answers, shared through KV. */
  signatures: ThoughtSignatures;
  /** The gateway's KV, for edges with state of their own (stored Responses). */
  kv?: Deno.Kv;
  /** Resource owners and open upload sessions (an upload session URL is its own credential). */
  affinity: AffinityMap;
  /** The Live API's sessions (WebSocket); absent: no Live routes. */
  live?: LiveSessions;
  /**
   * Receives a record for every request an edge refused or rejected outside the pipeline (client
   * auth, token limits, a body too large, a bad request); the pipeline reports the rest itself.
   */
  onEdgeFailure?: RecordSink;
}

/**
 * What every edge runs before its routes: CORS (preflights need no token), then client auth (the
 * client is noted before them). Guard objects, or Hono middleware that only checks and sets variables
 * before `next()` (a test's stand-in auth).
 */
export type EdgeGuards = ReadonlyArray<EdgeGuard | MiddlewareHandler<{ Variables: AuthVariables }>>;

/** Options of {@link edgeApp}. */
export interface EdgeAppOptions {
  /** Reverse proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`). */
  trustedProxies?: () => readonly string[];
  /** See {@link MountDeps.onEdgeFailure}. */
  onEdgeFailure?: RecordSink;
}

/**
 * The record of a request that failed at the edge, or undefined when the pipeline already reported it
 * (then `GatewayError.recorded` is set).
 */
function edgeFailureRecord(
  err: unknown,
  c: Context<{ Variables: AuthVariables }>,
  route: string,
): RequestRecord | undefined {
  if (err instanceof GatewayError && err.recorded) return undefined;
  const client = c.get("client");
  if (!client) return undefined;
  const status = err instanceof GatewayError ? err.status : 500;
  const refusal = err instanceof GatewayError ? err.options.refusal : undefined;
  return {
    time: client.time,
    route,
    method: client.method,
    path: client.path,
    clientMethod: client.method,
    clientPath: client.path,
    tokenName: c.get("tokenName"),
    status,
    latencyMs: Date.now() - client.time,
    attempts: 0,
    stream: false,
    error: redactKeys(err instanceof GatewayError ? err.message : "Internal gateway error."),
    source: client.address,
    outcome: outcomeOfStatus(status, refusal),
    refusal,
  };
}

/** An edge's routes behind its guards, each route one handler (see {@link guardRoute}). */
interface GuardedEdge {
  edge: Edge;
  /** The edge's routes (method, path relative to a prefix, guarded handler). */
  routes: ReadonlyArray<{ method: string; path: string; handler: EdgeRoute }>;
}

/**
 * The edge's routes, each behind the client's note, `guards` and the edge's error envelope (errors are
 * reported to `onEdgeFailure` unless the pipeline did). Built once per edge: its prefixes share them.
 */
function guardEdge(edge: Edge, deps: EdgeDeps, guards: EdgeGuards, options: EdgeAppOptions): GuardedEdge {
  const all: EdgeGuard[] = [
    clientInfoGuard({ trustedProxies: options.trustedProxies ?? (() => []) }),
    ...guards.map((g) => typeof g === "function" ? middlewareGuard(g) : g),
  ];
  const onError = (err: Error, c: EdgeContext) => {
    const rec = options.onEdgeFailure && edgeFailureRecord(err, c, edge.name);
    if (rec) options.onEdgeFailure!(rec);
    return edge.errorResponse(err);
  };
  const routes = edge.routes(deps).routes.map((r) => ({
    method: r.method,
    path: r.path,
    handler: guardRoute({ guards: all, route: r.handler as EdgeRoute, onError }),
  }));
  return { edge, routes };
}

/** An app with the guarded routes, each added by `add` (the guarded handler or a gate around it). */
function routesApp(
  guarded: GuardedEdge,
  add: (route: EdgeRoute) => EdgeRoute = (route) => route,
): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>();
  for (const r of guarded.routes) app.on(r.method, r.path, add(r.handler));
  return app;
}

/**
 * One edge as served: each of its routes behind the client's note (method, path and address), its
 * guards (CORS, client auth) and its error envelope, as one handler per route (no middleware chain);
 * any error is reported to `onEdgeFailure` unless the pipeline did. Mount it with `app.route(prefix, …)`
 * or serve its `fetch`.
 */
export function edgeApp(
  edge: Edge,
  deps: EdgeDeps,
  guards: EdgeGuards,
  options: EdgeAppOptions = {},
): Hono<{ Variables: AuthVariables }> {
  return routesApp(guardEdge(edge, deps, guards, options));
}

/** Context variables of a shared prefix: the edge that claimed the request. */
type SharedVariables = AuthVariables & { edge: Edge };

/**
 * Mounts the edges in one dispatch: each edge's guarded routes under each of its prefixes. On a shared
 * prefix (`/v1`) every edge's routes are mounted, each behind a gate that lets only the edge that claims
 * the request (`claims`, asked once per request with its path; else the one without `claims`) answer.
 */
function mountEdges(
  app: Hono,
  edges: readonly Edge[],
  deps: EdgeDeps,
  guards: EdgeGuards,
  options: EdgeAppOptions,
) {
  const byPrefix = new Map<string, GuardedEdge[]>();
  for (const edge of edges) {
    const guarded = guardEdge(edge, deps, guards, options);
    for (const prefix of edge.prefixes) byPrefix.set(prefix, [...byPrefix.get(prefix) ?? [], guarded]);
  }
  // Longer prefixes first: `/v1beta/openai` is served before `/v1beta` takes everything under it.
  for (const [prefix, list] of [...byPrefix].sort((a, b) => b[0].length - a[0].length)) {
    if (list.length === 1) {
      app.route(prefix, routesApp(list[0]));
      continue;
    }
    const claimers = list.map((g) => g.edge).filter((e) => e.claims);
    const fallback = list.find((g) => !g.edge.claims)?.edge ?? list[list.length - 1].edge;
    const chosen = (c: Context<{ Variables: SharedVariables }>): Edge => {
      let edge = c.get("edge");
      if (!edge) {
        const req = c.req.raw;
        const path = urlPath(req.url);
        edge = claimers.find((e) => e.claims!(req, path)) ?? fallback;
        c.set("edge", edge);
      }
      return edge;
    };
    // Only the chosen edge's routes answer, so the order of the edges here does not matter for the
    // answer: the fallback's routes come first, so its requests meet no other edge's gate.
    const fallbackFirst = [...list].sort((a, b) => Number(b.edge === fallback) - Number(a.edge === fallback));
    for (const guarded of fallbackFirst) {
      const gate = (route: EdgeRoute): EdgeRoute =>
        function edgeGate(c, next) {
          return chosen(c as unknown as Context<{ Variables: SharedVariables }>) === guarded.edge
            ? route(c, next)
            : next();
        };
      app.route(prefix, routesApp(guarded, gate));
    }
  }
}

/**
 * The client token behind a gateway-issued resumable upload session URL (Google's upload and
 * finalize calls carry no key): the token that started the session, while the session is open.
 *
 * @throws {GatewayError} 401 for an upload session URL the gateway did not hand out, or one that ended.
 */
function uploadCredential(
  deps: Pick<MountDeps, "affinity" | "tokens">,
  req: Request,
): ClientToken | undefined {
  const id = uploadSessionId(new URL(req.url));
  if (id === undefined) return undefined;
  const session = deps.affinity.uploadSession(id);
  if (!session?.tokenName) {
    throw unauthenticated(
      "This upload session was not started through this gateway, or it has ended or expired. Start the " +
        "upload again (the x-goog-upload-url answer is the session URL), or send your client token.",
    );
  }
  const token = deps.tokens.clientToken(session.tokenName);
  if (!token) {
    throw unauthenticated(
      `The client token '${session.tokenName}' that started this upload session is no longer valid; ` +
        "start the upload again with a valid client token.",
    );
  }
  return token;
}

/** Builds the app with every route group. */
export function mountRoutes(deps: MountDeps): Hono {
  const { settings, pool, keys, catalog, admin, tokens, limits, logs, metrics, proxies } = deps;
  const s = () => settings.current;
  const throttle = new AuthFailureThrottle({ limit: () => s().authFailuresPerMinute });
  const authOptions: ClientAuthOptions = {
    resolve: tokens.resolve,
    admit: (token) => limits.admit(token),
    urlCredential: (req) => uploadCredential(deps, req),
    throttle,
  };
  const trusted = () => s().trustedProxies;
  const noted = clientInfoGuard({ trustedProxies: trusted });
  const auth = clientAuthGuard(authOptions);
  const guards: EdgeGuard[] = [corsGuard({ origins: () => s().corsOrigins }), auth];

  const app = new Hono();
  app.route(
    "/",
    createHealthRoute({ counts: deps.keyCounts, store: deps.storeHealth, members: deps.members }),
  );
  if (deps.prometheus) {
    app.route("/", createPrometheusRoute({ prometheus: deps.prometheus, token: deps.metricsToken }));
  }
  app.route("/static", createStaticRoutes());
  const edgeDeps: EdgeDeps = {
    gemini: deps.gemini,
    settings: s,
    catalog,
    decorators: streamDecorators(s),
    signatures: deps.signatures,
    kv: deps.kv,
    live: deps.live,
  };
  // Live sessions first: they are no edge (see routes/live.ts); on their own paths only.
  const live = createLiveRoutes(edgeDeps, {
    auth: [noted, auth],
    guards: [noted, ...guards],
    tokens: authOptions,
  });
  app.route("/", live.app);
  mountEdges(app, DIALECTS, edgeDeps, guards, { trustedProxies: trusted, onEdgeFailure: deps.onEdgeFailure });

  const api = new Hono();
  api.route("/", createKeysApi({ admin: keys, verifyAdminToken: (t) => Promise.resolve(admin.verify(t)) }));
  api.route(
    "/",
    createSettingsApi({
      settings,
      schema: settingsSchema,
      check: (patch) => shadowedAliases(patch.aliases, catalog.known()),
    }),
  );
  api.route("/", createTokensApi({ tokens, limits }));
  api.route("/", createLogsApi({ logs, audit: deps.audit }));
  api.route(
    "/",
    createBackupApi({
      settings,
      pool,
      store: deps.store,
      tokens,
      verifyAdminToken: (t) => Promise.resolve(admin.verify(t)),
    }),
  );
  api.route(
    "/",
    createMetricsApi({
      metrics,
      keyStates: () => keys.list({ limit: 0 }).counts,
      proxies: () => proxies.status(),
      capacity: deps.capacity,
      costs: async () => {
        await deps.usage.flush();
        const report = await costReport({
          usage: deps.usage,
          prices: s().prices,
          day: pacificDay(Date.now()),
        });
        // Name keys as the panel shows them (masked, with their label).
        const byKey = report.byKey.map((l) => {
          const r = pool.get(l.keyId);
          return { ...l, masked: r ? maskedEntry(r) : undefined, label: r?.label };
        });
        return { ...report, byKey };
      },
    }),
  );
  app.route(
    "/admin",
    createAdminRoutes({
      api,
      subscribe: (fn) => pool.onDirty(() => fn()),
      verifyAdminToken: (t) => Promise.resolve(admin.verify(t)),
      adminTokenSource: admin.source,
      sessionSecret: admin.sessionSecret,
      revocations: deps.revocations,
      audit: deps.audit,
      secretSettings: new Set(describeSettings(settingsSchema).filter((f) => f.secret).map((f) => f.name)),
      clientAddress: (c) => clientAddress(c, trustedProxies(s().trustedProxies)),
      storeStatus: () => deps.storeHealth.status,
    }),
  );

  app.get("/", (c) => c.redirect("/admin", 302));
  // SDKs may ask for `//ws/...`, a path no route pattern names: Live looks at what no route took.
  app.notFound((c) =>
    live.fallback(c) ?? googleErrorResponse(
      notFound(
        `No route for ${c.req.method} ${
          new URL(c.req.url).pathname
        }. Gemini routes start with /v1beta/, OpenAI routes with /v1/ (Responses: /v1/responses), Anthropic routes with /v1/messages.`,
      ),
    )
  );
  app.onError((err) => googleErrorResponse(err));
  return app;
}
