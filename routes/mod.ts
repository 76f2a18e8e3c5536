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
  clientAuth,
  type ClientAuthOptions,
  type ClientToken,
} from "../lib/http/client_auth.ts";
import { clientAddress, clientInfo, trustedProxies } from "../lib/http/client_address.ts";
import { cors } from "../lib/http/cors.ts";
import { GatewayError, googleErrorResponse, notFound, unauthenticated } from "../lib/http/errors.ts";
import { type AffinityMap, uploadSessionId } from "../lib/pipeline/affinity.ts";
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
import { maskedEntry } from "../lib/pool/key_record.ts";
import type { KeyAdmin } from "../lib/pool/key_admin.ts";
import type { GeminiClient } from "../lib/pipeline/gemini_client.ts";
import type { ModelCatalog } from "../lib/pipeline/model_catalog.ts";
import { streamDecorators } from "../lib/features/stream_decorators.ts";
import { createStaticRoutes } from "../lib/islands/static_routes.ts";
import { DIALECTS } from "./dialects.ts";
import { shadowedAliases } from "../lib/gemini/model_names.ts";
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

/** Middleware that every edge runs first: CORS (preflights need no token), then client auth. */
export type EdgeGuards = ReadonlyArray<MiddlewareHandler<{ Variables: AuthVariables }>>;

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
 * One edge as served: the client's method, path and address noted first, then its guards (CORS,
 * client auth), then its routes; any error in the edge's envelope, and reported to `onEdgeFailure`
 * unless the pipeline did.
 */
export function edgeApp(
  edge: Edge,
  deps: EdgeDeps,
  guards: EdgeGuards,
  options: EdgeAppOptions = {},
): Hono<{ Variables: AuthVariables }> {
  const sub = new Hono<{ Variables: AuthVariables }>();
  sub.onError((err, c) => {
    const rec = options.onEdgeFailure && edgeFailureRecord(err, c, edge.name);
    if (rec) options.onEdgeFailure!(rec);
    return edge.errorResponse(err);
  });
  sub.use("*", clientInfo<AuthVariables>({ trustedProxies: options.trustedProxies ?? (() => []) }));
  for (const guard of guards) sub.use("*", guard);
  sub.route("/", edge.routes(deps));
  return sub;
}

/** Mounts the edges: one sub-app per edge; a shared prefix dispatches by `claims`. */
function mountEdges(
  app: Hono,
  edges: readonly Edge[],
  deps: EdgeDeps,
  guards: EdgeGuards,
  options: EdgeAppOptions,
) {
  const byPrefix = new Map<string, Array<{ edge: Edge; app: Hono<{ Variables: AuthVariables }> }>>();
  for (const edge of edges) {
    const sub = edgeApp(edge, deps, guards, options);
    for (const prefix of edge.prefixes) {
      const list = byPrefix.get(prefix) ?? [];
      byPrefix.set(prefix, [...list, { edge, app: sub }]);
    }
  }
  // Longer prefixes first: `/v1beta/openai` is served before `/v1beta` takes everything under it.
  for (const [prefix, list] of [...byPrefix].sort((a, b) => b[0].length - a[0].length)) {
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
  const authOnly = clientAuth(authOptions);
  const trusted = () => s().trustedProxies;
  const noted = clientInfo<AuthVariables>({ trustedProxies: trusted });
  // The Live routes are no edge: they note the client themselves before client auth.
  const auth: MiddlewareHandler<{ Variables: AuthVariables }> = async (c, next) => {
    await noted(c, async () => {
      await authOnly(c, next);
    });
  };
  const guards: EdgeGuards = [cors({ origins: () => s().corsOrigins }), authOnly];

  const app = new Hono();
  app.route("/", createHealthRoute({ counts: deps.keyCounts, store: deps.storeHealth }));
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
  // Live sessions first: they are no edge (see routes/live.ts), and SDKs may ask for `//ws/...`.
  app.route("/", createLiveRoutes(edgeDeps, { auth, guards: [noted, ...guards], tokens: authOptions }));
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
  app.notFound((c) =>
    googleErrorResponse(
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
