/**
 * Mounts every route group on one Hono app: health, the Gemini-native edge, the OpenAI edge (both
 * through the one pipeline and the same client auth), the admin panel with its JSON API, and static
 * files. Each group formats errors in its own dialect.
 *
 * @module
 */
import { Hono } from "hono";
import type { SettingsStore } from "../config/settings_store.ts";
import type { settingsSchema } from "../config/settings_schema.ts";
import type { AdminSecrets } from "../config/admin_secrets.ts";
import { type AuthVariables, clientAuth, type ClientToken, hashToken } from "../http/client_auth.ts";
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
import { featureHooks } from "./feature_hooks.ts";

/** What the routes need. */
export interface MountDeps {
  forward: Forward;
  settings: SettingsStore<typeof settingsSchema>;
  pool: KeyPool;
  keys: KeyAdmin;
  catalog: ModelCatalog;
  admin: AdminSecrets;
}

type TokenEntry = { token: ClientToken; hash: string };

function tokenTable(allowed: string[]): Map<string, TokenEntry> {
  const table = new Map<string, TokenEntry>();
  for (const t of allowed) {
    const hash = hashToken(t);
    table.set(hash, { token: { name: `token-${t.slice(-4)}` }, hash });
  }
  return table;
}

/** Builds the app with every route group. */
export function mountRoutes(deps: MountDeps): Hono {
  const { forward, settings, pool, keys, catalog, admin } = deps;
  const s = () => settings.current;
  let tokens = tokenTable(s().allowedTokens);
  settings.onChange((next) => tokens = tokenTable(next.allowedTokens));
  const auth = clientAuth({ resolve: (hash) => tokens.get(hash) });
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
      options: () => ({ searchLinks: s().searchLinks }),
      ...hooks.openai,
    }),
  );
  for (const prefix of ["/v1", "/openai/v1"]) app.route(prefix, openai);

  const api = new Hono();
  api.route("/", createKeysApi({ admin: keys }));
  app.route(
    "/admin",
    createAdminRoutes({
      listKeys: () => keys.list({ limit: Number.MAX_SAFE_INTEGER }).keys,
      subscribe: (fn) => pool.onDirty(() => fn()),
      verifyAdminToken: (t) => Promise.resolve(admin.verify(t)),
      sessionSecret: admin.sessionSecret,
    }, { api }),
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
