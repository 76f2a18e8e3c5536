/**
 * The admin sub-app: sign-in/out, the section pages (from `ADMIN_NAV`), the live key events stream
 * and the JSON API. Mount it with `app.route(ADMIN_BASE, createAdminRoutes(deps))`, and serve
 * `/static` with `createStaticRoutes()` from `lib/islands/static_routes.ts`.
 *
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { VNode } from "preact";
import { adminAuth, type AdminEnv } from "../../lib/admin/auth.ts";
import { csrfProtect } from "../../lib/admin/csrf.ts";
import type { AdminDeps } from "../../lib/admin/deps.ts";
import { keyEventsResponse } from "../../lib/admin/events.ts";
import {
  ADMIN_BASE,
  ADMIN_NAV,
  type AdminSection,
  navLabel,
  safeNextPath,
  sectionHref,
} from "../../lib/admin/nav.ts";
import { createPageRenderer, requestLocale } from "../../lib/admin/page_response.ts";
import { LANG_COOKIE, langOf, t, translator } from "../../lib/admin/i18n.ts";
import { actorOf, auditTrail } from "../../lib/admin/audit.ts";
import { setCookie } from "hono/cookie";
import { adminError } from "../../lib/admin/responses.ts";
import { endSession, readSession, SESSION_TTL_MS, startSession } from "../../lib/admin/session.ts";
import { LoginThrottle } from "../../lib/admin/throttle.ts";
import { peerAddress } from "../../lib/http/client_address.ts";
import { readForm } from "../../lib/http/body.ts";
import { GatewayError } from "../../lib/http/errors.ts";
import type {
  CapacityResponse,
  KeyListResponse,
  MetricsResponse,
  SettingsResponse,
  TokenListResponse,
} from "../../lib/admin/api_types.ts";
import { parseKeyQuery } from "../../lib/admin/key_query.ts";
import { IslandRegistry } from "../../lib/islands/registry.ts";
import { islandModules } from "./island_manifest.ts";
import { DashboardPage, parseRange } from "./dashboard_page.tsx";
import { KeysPage } from "./keys_page.tsx";
import { LoginPage } from "./login_page.tsx";
import { LogsPage } from "./logs_page.tsx";
import { SettingsPage } from "./settings_page.tsx";
import { TokensPage } from "./tokens_page.tsx";

/** The app's islands (every component exported from a file in `islands/`). */
const islands = new IslandRegistry(islandModules);

/** What a section page gets to render. */
export interface SectionContext {
  basePath: string;
  csrfToken?: string;
  /** The page URL's query parameters. */
  query: Record<string, string>;
  /** GETs the admin JSON API in-process (no auth hop); null when it fails. */
  fetchApi<T>(path: string): Promise<T | null>;
}

/** The Keys page's query from the URL and the page of keys the keys API answers for it. */
async function keysPageData(ctx: SectionContext) {
  const query = parseKeyQuery(ctx.query);
  const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const page = await ctx.fetchApi<KeyListResponse>(`/keys?${params}`);
  return { query, page: page ?? { total: 0, keys: [], counts: { active: 0, cooling: 0, disabled: 0 } } };
}

/** Section id -> page. Pages load their first data on the server; islands take over in the browser. */
export const SECTION_PAGES: Record<AdminSection, (ctx: SectionContext) => VNode | Promise<VNode>> = {
  dashboard: async (ctx) => {
    const range = parseRange(ctx.query.range);
    const [metrics, capacity] = await Promise.all([
      ctx.fetchApi<MetricsResponse>(`/metrics?range=${range}`),
      ctx.fetchApi<CapacityResponse>("/capacity"),
    ]);
    return <DashboardPage {...ctx} range={range} metrics={metrics} capacity={capacity} />;
  },
  keys: async (ctx) => <KeysPage {...ctx} {...await keysPageData(ctx)} now={Date.now()} />,
  settings: async (ctx) => (
    <SettingsPage {...ctx} settings={await ctx.fetchApi<SettingsResponse>("/settings")} />
  ),
  tokens: async (ctx) => (
    <TokensPage {...ctx} tokens={await ctx.fetchApi<TokenListResponse>("/tokens")} now={Date.now()} />
  ),
  logs: async (ctx) => <LogsPage {...ctx} settings={await ctx.fetchApi<SettingsResponse>("/settings")} />,
};

/** Extra stylesheets (under the static base) a section needs. */
export const SECTION_STYLES: Partial<Record<AdminSection, string[]>> = { dashboard: ["uplot.css"] };

/** Largest sign-in form body read (a token and a return path). */
export const LOGIN_MAX_BODY_BYTES = 8 * 1024;
/** Largest admin API or form body read (pasting about 80,000 keys at once fits). */
export const ADMIN_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Creates the admin sub-app (mount it at {@link ADMIN_BASE}). */
export function createAdminRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const basePath = ADMIN_BASE;
  const loginPath = `${basePath}/login`;
  const home = sectionHref(basePath, "dashboard");
  const throttle = deps.throttle ?? new LoginThrottle();
  const clientAddress = deps.clientAddress ?? peerAddress;
  const { api, revocations } = deps;
  const storeAlert = (c: Context) => {
    const store = deps.storeStatus?.();
    return store && !store.ok
      ? translator(requestLocale(c))("store.failing", { error: store.error ?? "" })
      : undefined;
  };
  const render = createPageRenderer(islands);
  const cookie = { secret: deps.sessionSecret, path: basePath };
  const auth: MiddlewareHandler<AdminEnv> = adminAuth({
    verifyToken: deps.verifyAdminToken,
    secret: deps.sessionSecret,
    loginPath,
    revocations,
    throttle,
    clientAddress,
  });
  // Bodies are capped before anything reads them (after auth: strangers get nothing read at all).
  const limit: MiddlewareHandler<AdminEnv> = bodyLimit({
    maxSize: ADMIN_MAX_BODY_BYTES,
    onError: (c) => adminError(c, 413, `The request body is larger than ${ADMIN_MAX_BODY_BYTES} bytes.`),
  });
  const csrf: MiddlewareHandler<AdminEnv> = csrfProtect({ secret: deps.sessionSecret });
  const app = new Hono<AdminEnv>();

  const loginPage = (c: Context, status: 200 | 401 | 429, error?: string, next?: string) =>
    render(c, {
      title: () => t("login.title"),
      body: (
        <LoginPage
          action={loginPath}
          basePath={basePath}
          next={next}
          error={error}
          sessionTtlMs={SESSION_TTL_MS}
          tokenSource={deps.adminTokenSource}
        />
      ),
      status,
    });

  // The language switch (`?lang=` on any page, no route of its own): keeps the choice for a year and
  // shows the same page without the parameter. Works signed out too (the sign-in page has the switch).
  app.use("*", async function langSwitch(c, next) {
    const lang = c.req.method === "GET" ? langOf(c.req.query("lang")) : undefined;
    if (!lang) return await next();
    setCookie(c, LANG_COOKIE, lang, { path: basePath, sameSite: "Lax", maxAge: 365 * 86_400 });
    const url = new URL(c.req.url);
    url.searchParams.delete("lang");
    return c.redirect(safeNextPath(url.pathname + url.search, basePath, home), 303);
  });

  app.get("/login", async (c) => {
    const session = await readSession(c, deps.sessionSecret);
    const next = safeNextPath(c.req.query("next"), basePath, home);
    if (session && !revocations.isRevoked(session)) return c.redirect(next, 303);
    return loginPage(c, 200, undefined, next === home ? undefined : next);
  });

  app.post("/login", async (c) => {
    // The throttle comes first: a client that keeps failing waits for its turn before anything of
    // its body is read, and the body is read only up to a small cap.
    const tr = translator(requestLocale(c));
    const turn = await throttle.admit(clientAddress(c), c.req.raw.signal);
    if (!turn.allowed) {
      c.header("retry-after", String(turn.retryAfterSeconds));
      return loginPage(c, 429, tr("login.error.throttled", { seconds: turn.retryAfterSeconds }));
    }
    let form: Record<string, string>;
    try {
      form = await readForm(c.req.raw, LOGIN_MAX_BODY_BYTES);
    } catch (e) {
      turn.attempt.cancel();
      if (e instanceof GatewayError && e.status === 413) {
        return adminError(c, 413, `The sign-in form is larger than ${LOGIN_MAX_BODY_BYTES} bytes.`);
      }
      throw e;
    }
    const next = safeNextPath(form.next, basePath, home);
    const keepNext = next === home ? undefined : next;
    const token = form.token ?? "";
    let ok = false;
    try {
      ok = !!token && await deps.verifyAdminToken(token);
    } finally {
      turn.attempt.done(ok);
    }
    if (!ok) {
      const why = deps.adminTokenSource === "env"
        ? "login.error.invalid.env"
        : "login.error.invalid.generated";
      return loginPage(c, 401, tr(why), keepNext);
    }
    const session = await startSession(c, cookie);
    await deps.audit.record({
      actor: `session ${session.sid.slice(0, 8)}`,
      address: clientAddress(c),
      action: "signin",
      request: "",
      status: 303,
      summary: "signed in with the admin token",
    });
    return c.redirect(next, 303);
  });

  app.post("/logout", auth, limit, csrf, async (c) => {
    const admin = c.get("admin");
    endSession(c, cookie);
    let unstored: string | undefined;
    if (admin.session) {
      try {
        await revocations.revoke(admin.session);
      } catch (e) {
        unstored = e instanceof Error ? e.message : String(e);
      }
    }
    await deps.audit.record({
      actor: actorOf(c),
      address: clientAddress(c),
      action: "signout",
      request: "",
      status: unstored !== undefined ? 503 : admin.via === "session" ? 303 : 204,
      summary: unstored !== undefined ? `signed out on this instance only: ${unstored}` : "signed out",
    });
    if (unstored !== undefined) {
      // A logout is acknowledged only once it is stored: the cookie is cleared and the session is
      // refused here, but until the store works another instance or a restart would accept it.
      return adminError(
        c,
        503,
        `Signed out on this instance only: the logout could not be stored, so the session may work ` +
          `again after a restart or on another instance. Sign out again when the store works. ${unstored}`,
      );
    }
    return admin.via === "session" ? c.redirect(loginPath, 303) : c.body(null, 204);
  });

  const fetchApi = async <T,>(path: string): Promise<T | null> => {
    try {
      const res = await api.request(path, { headers: { accept: "application/json" } });
      if (res.ok) return await res.json() as T;
      await res.body?.cancel();
    } catch (err) {
      console.error(`admin: loading ${path} for a page failed`, err);
    }
    return null;
  };

  for (const item of ADMIN_NAV) {
    app.get(item.path || "/", auth, csrf, async (c) => {
      const csrfToken = c.get("admin").csrfToken;
      const body = await SECTION_PAGES[item.id]({
        basePath,
        csrfToken,
        query: c.req.query(),
        fetchApi,
      });
      return render(c, {
        title: () => navLabel(item.id),
        body,
        csrfToken,
        styles: SECTION_STYLES[item.id],
        alert: storeAlert(c),
      });
    });
  }

  app.get("/events", auth, csrf, () => keyEventsResponse({ subscribe: deps.subscribe }));

  app.use(
    "/api/*",
    auth,
    limit,
    csrf,
    auditTrail({
      log: deps.audit,
      addressOf: clientAddress,
      apiBase: `${basePath}/api`,
      secretSettings: deps.secretSettings,
    }),
  );
  app.route("/api", api);

  // A mounted sub-app's notFound is not used by the parent app, so catch the rest explicitly.
  app.all(
    "*",
    auth,
    (c) => adminError(c, 404, translator(requestLocale(c))("error.noPage", { path: c.req.path })),
  );
  return app;
}
