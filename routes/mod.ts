/**
 * Mounts every route group on one Hono app: health, each API dialect's edge (with the same client
 * auth and its own error envelope), the admin panel with its JSON API, and static files.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { SettingsStore } from "../lib/config/settings_store.ts";
import { settingsSchema } from "../lib/settings_schema.ts";
import type { AdminSecrets } from "../lib/config/admin_secrets.ts";
import {
  type AuthVariables,
  clientAuth,
  type ClientAuthOptions,
  type ClientToken,
} from "../lib/http/client_auth.ts";
import { clientAddress, trustedProxies } from "../lib/http/client_address.ts";
import { AuthFailureThrottle } from "../lib/http/auth_throttle.ts";
import { cors } from "../lib/http/cors.ts";
import { googleErrorResponse, notFound, unauthenticated } from "../lib/http/errors.ts";
import { type AffinityMap, uploadSessionId } from "../lib/pipeline/affinity.ts";
import type { KeyPool } from "../lib/pool/key_pool.ts";
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
}

/** Middleware that every edge runs first: CORS (preflights need no token), then client auth. */
export type EdgeGuards = ReadonlyArray<MiddlewareHandler<{ Variables: AuthVariables }>>;

/** One edge as served: CORS and client auth first, then its routes; any error in the edge's envelope. */
export function edgeApp(edge: Edge, deps: EdgeDeps, guards: EdgeGuards): Hono<{ Variables: AuthVariables }> {
  const sub = new Hono<{ Variables: AuthVariables }>();
  sub.onError((err) => edge.errorResponse(err));
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
) {
  const byPrefix = new Map<string, Array<{ edge: Edge; app: Hono<{ Variables: AuthVariables }> }>>();
  for (const edge of edges) {
    const sub = edgeApp(edge, deps, guards);
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
      return (mounted.find((m) => m.edge.claims?.(req)) ?? fallback).app.fetch(req);
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
  const authOptions: ClientAuthOptions = {
    resolve: tokens.resolve,
    admit: (token) => limits.admit(token),
    urlCredential: (req) => uploadCredential(deps, req),
    throttle: new AuthFailureThrottle({ limit: () => s().authFailuresPerMinute }),
    clientAddress: (c) => clientAddress(c, trustedProxies(s().trustedProxies)),
  };
  const auth = clientAuth(authOptions);
  const guards: EdgeGuards = [cors({ origins: () => s().corsOrigins }), auth];

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
  app.route("/", createLiveRoutes(edgeDeps, { auth, guards, tokens: authOptions }));
  mountEdges(app, DIALECTS, edgeDeps, guards);

  const api = new Hono();
  api.route("/", createKeysApi({ admin: keys }));
  api.route(
    "/",
    createSettingsApi({
      settings,
      schema: settingsSchema,
      check: (patch) => shadowedAliases(patch.aliases, catalog.known()),
    }),
  );
  api.route("/", createTokensApi({ tokens, limits }));
  api.route("/", createLogsApi({ logs }));
  api.route(
    "/",
    createMetricsApi({
      metrics,
      keyStates: () => keys.list({ limit: 0 }).counts,
      proxies: () => proxies.status(),
    }),
  );
  app.route(
    "/admin",
    createAdminRoutes({
      api,
      subscribe: (fn) => pool.onDirty(() => fn()),
      verifyAdminToken: (t) => Promise.resolve(admin.verify(t)),
      sessionSecret: admin.sessionSecret,
      revocations: deps.revocations,
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
