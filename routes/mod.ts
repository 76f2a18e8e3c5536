/**
 * Mounts every route group on one Hono app: health, each API dialect's edge (with the same client
 * auth and its own error envelope), the admin panel with its JSON API, and static files.
 *
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { SettingsStore } from "../lib/config/settings_store.ts";
import { settingsSchema } from "../lib/config/settings_schema.ts";
import type { AdminSecrets } from "../lib/config/admin_secrets.ts";
import { type AuthVariables, clientAuth } from "../lib/http/client_auth.ts";
import { GatewayError, googleErrorResponse, notFound } from "../lib/http/errors.ts";
import { clientAddress, clientInfo } from "../lib/http/client_address.ts";
import type { AuditLog } from "../lib/logs/audit_log.ts";
import { describeSettings } from "../lib/config/describe.ts";
import { AuthFailureThrottle } from "../lib/http/auth_throttle.ts";
import { outcomeOfStatus } from "../lib/http/refusal.ts";
import { redactKeys } from "../lib/secrets/redact.ts";
import type { RecordSink, RequestRecord } from "../lib/pipeline/request_record.ts";
import type { KeyPool } from "../lib/pool/key_pool.ts";
import { capacityReport } from "../lib/pool/capacity.ts";
import { costReport } from "../lib/metrics/costs.ts";
import type { UsageCounter } from "../lib/pool/usage.ts";
import { pacificDay } from "../lib/pool/quota_clock.ts";
import { maskKey } from "../lib/secrets/redact.ts";
import type { KeyAdmin } from "../lib/pool/key_admin.ts";
import type { GeminiClient } from "../lib/pipeline/gemini_client.ts";
import type { ModelCatalog } from "../lib/openai/models.ts";
import { streamDecorators } from "../lib/features/stream_decorators.ts";
import { createStaticRoutes } from "../lib/islands/static_routes.ts";
import { DIALECTS } from "./dialects.ts";
import { createHealthRoute } from "./health.ts";
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
import type { Edge, EdgeDeps } from "../lib/pipeline/edge.ts";

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
  /** The dialects to serve (default: all of `routes/dialects.ts`). */
  dialects?: readonly Edge[];
  /**
   * Receives a record for every request an edge refused or rejected outside the pipeline (client
   * auth, token limits, a body too large, a bad request); the pipeline reports the rest itself.
   */
  onEdgeFailure?: RecordSink;
}

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

/**
 * One edge as served: the client's address and path noted first, then client auth, then its routes;
 * any error in the edge's envelope, and reported to `onEdgeFailure` unless the pipeline did.
 */
export function edgeApp(
  edge: Edge,
  deps: EdgeDeps,
  auth: MiddlewareHandler<{ Variables: AuthVariables }>,
  options: EdgeAppOptions = {},
): Hono<{ Variables: AuthVariables }> {
  const sub = new Hono<{ Variables: AuthVariables }>();
  sub.onError((err, c) => {
    const rec = options.onEdgeFailure && edgeFailureRecord(err, c, edge.name);
    if (rec) options.onEdgeFailure!(rec);
    return edge.errorResponse(err);
  });
  sub.use("*", clientInfo({ trustedProxies: options.trustedProxies ?? (() => []) }));
  sub.use("*", auth);
  sub.route("/", edge.routes(deps));
  return sub;
}

/** Mounts the edges: one sub-app per edge; a shared prefix dispatches by `claims`. */
function mountEdges(
  app: Hono,
  edges: readonly Edge[],
  deps: EdgeDeps,
  auth: MiddlewareHandler<{ Variables: AuthVariables }>,
  options: EdgeAppOptions,
) {
  const byPrefix = new Map<string, Array<{ edge: Edge; app: Hono<{ Variables: AuthVariables }> }>>();
  for (const edge of edges) {
    const sub = edgeApp(edge, deps, auth, options);
    for (const prefix of edge.prefixes) {
      const list = byPrefix.get(prefix) ?? [];
      byPrefix.set(prefix, [...list, { edge, app: sub }]);
    }
  }
  for (const [prefix, list] of byPrefix) {
    if (list.length === 1) {
      app.route(prefix, list[0].app);
      continue;
    }
    const mounted = list.map((m) => ({ edge: m.edge, app: new Hono().route(prefix, m.app) }));
    const fallback = mounted.find((m) => !m.edge.claims) ?? mounted[mounted.length - 1];
    app.all(`${prefix}/*`, (c) => {
      const req = c.req.raw;
      // Pass the connection info on: the edge reads the client's address from it.
      return (mounted.find((m) => m.edge.claims?.(req)) ?? fallback).app.fetch(req, c.env);
    });
  }
}

/** Builds the app with every route group. */
export function mountRoutes(deps: MountDeps): Hono {
  const { settings, pool, keys, catalog, admin, tokens, limits, logs, metrics, proxies } = deps;
  const s = () => settings.current;
  const throttle = new AuthFailureThrottle({ limit: () => s().authFailuresPerMinute });
  const auth = clientAuth({ resolve: tokens.resolve, admit: (token) => limits.admit(token), throttle });

  const app = new Hono();
  app.route("/", createHealthRoute({ pool }));
  app.route("/static", createStaticRoutes());
  mountEdges(
    app,
    deps.dialects ?? DIALECTS,
    {
      gemini: deps.gemini,
      settings: s,
      catalog,
      modelAllowed: (name, model) => limits.allowsModel(name, model),
      decorators: streamDecorators(s),
    },
    auth,
    { trustedProxies: () => s().trustedProxies, onEdgeFailure: deps.onEdgeFailure },
  );

  const api = new Hono();
  api.route("/", createKeysApi({ admin: keys, verifyAdminToken: (t) => Promise.resolve(admin.verify(t)) }));
  api.route("/", createSettingsApi({ settings, schema: settingsSchema }));
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
      capacity: () => capacityReport(pool, { models: catalog.known() }),
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
          return { ...l, masked: r ? maskKey(r.key) : undefined, label: r?.label };
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
      addressOf: (c) => clientAddress(c.req.raw, c.env, s().trustedProxies),
      secretSettings: new Set(describeSettings(settingsSchema).filter((f) => f.secret).map((f) => f.name)),
    }),
  );

  app.get("/", (c) => c.redirect("/admin", 302));
  app.notFound((c) =>
    googleErrorResponse(
      notFound(
        `No route for ${c.req.method} ${
          new URL(c.req.url).pathname
        }. Gemini routes start with /v1beta/, OpenAI routes with /v1/.`,
      ),
    )
  );
  app.onError((err) => googleErrorResponse(err));
  return app;
}
