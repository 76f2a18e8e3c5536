/**
 * Mounts every route group on one Hono app: health, the Gemini-native edge, the OpenAI edge (both
 * through the one pipeline and the same client auth), the admin panel with its JSON API, and static
 * files. Each group formats errors in its own dialect.
 *
 * @module
 */
import { Hono } from "hono";
import type { SettingsStore } from "../config/settings_store.ts";
import { settingsSchema } from "../config/settings_schema.ts";
import type { AdminSecrets } from "../config/admin_secrets.ts";
import { type AuthVariables, clientAuth } from "../http/client_auth.ts";
import { GatewayError, googleErrorResponse } from "../http/errors.ts";
import type { KeyPool } from "../pool/key_pool.ts";
import type { KeyAdmin } from "../pool/key_admin.ts";
import type { Forward } from "../pipeline/types.ts";
import type { ModelCatalog } from "../openai/models.ts";
import { openAIErrorResponse } from "../openai/errors.ts";
import { createStaticRoutes } from "../islands/static_routes.ts";
import { createGeminiRoutes, GEMINI_PREFIXES, isNativeV1 } from "../../routes/gemini.ts";
import { createOpenAIRoutes } from "../../routes/openai.ts";
import { createHealthRoute } from "../../routes/health.ts";
import { createAdminRoutes } from "../../routes/admin/admin_routes.tsx";
import { createKeysApi } from "../../routes/api/keys_api.ts";
import { createTokensApi } from "../../routes/api/tokens_api.ts";
import { createLogsApi } from "../../routes/api/logs_api.ts";
import { createSettingsApi } from "../../routes/api/settings_api.ts";
import { createMetricsApi } from "../../routes/api/metrics_api.ts";
import type { TokenStore } from "../tokens/token_store.ts";
import type { TokenLimits } from "../tokens/token_limits.ts";
import type { LogStore } from "../logs/log_store.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { UpstreamProxies } from "./upstream_proxies.ts";
import type { SessionRevocations } from "../admin/session.ts";
import { featureHooks } from "./feature_hooks.ts";

/** What the routes need. */
export interface MountDeps {
  forward: Forward;
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
}

/** Builds the app with every route group. */
export function mountRoutes(deps: MountDeps): Hono {
  const { forward, settings, pool, keys, catalog, admin, tokens, limits, logs, metrics, proxies } = deps;
  const s = () => settings.current;
  const auth = clientAuth({ resolve: tokens.resolve, admit: (token) => limits.admit(token) });
  const hooks = featureHooks(s, catalog);

  const app = new Hono();
  app.route("/", createHealthRoute({ pool }));
  app.route("/static", createStaticRoutes());

  const gemini = new Hono<{ Variables: AuthVariables }>();
  gemini.onError((err) => googleErrorResponse(err));
  gemini.use("*", auth);
  gemini.route("/", createGeminiRoutes({ forward, maxBodyBytes: () => s().maxBodyBytes, ...hooks.native }));
  for (const prefix of GEMINI_PREFIXES) app.route(prefix, gemini);
  app.all("/v1/*", (c, next) => isNativeV1(c.req.raw) ? gemini.fetch(c.req.raw) : next());

  const openai = new Hono<{ Variables: AuthVariables }>();
  openai.onError((err) => openAIErrorResponse(err));
  openai.use("*", auth);
  openai.route(
    "/",
    createOpenAIRoutes({
      forward,
      catalog,
      maxBodyBytes: () => s().maxBodyBytes,
      options: () => ({ searchLinks: s().searchLinks, allowPrivateImageHosts: s().allowPrivateImageHosts }),
      featureSettings: s,
      modelAllowed: (name, model) => limits.allowsModel(name, model),
      ...hooks.openai,
    }),
  );
  for (const prefix of ["/v1", "/openai/v1"]) app.route(prefix, openai);

  const api = new Hono();
  api.route("/", createKeysApi({ admin: keys }));
  api.route("/", createSettingsApi({ settings, schema: settingsSchema }));
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
    }),
  );

  app.get("/", (c) => c.redirect("/admin", 302));
  app.notFound((c) =>
    googleErrorResponse(
      new GatewayError(
        404,
        `No route for ${c.req.method} ${
          new URL(c.req.url).pathname
        }. Gemini routes start with /v1beta/, OpenAI routes with /v1/.`,
      ),
    )
  );
  app.onError((err) => googleErrorResponse(err));
  return app;
}
