/**
 * The composition root: opens KV, loads settings, the key pool and its shared state, builds the
 * pipeline and mounts every route group on one Hono app. `main.ts` serves it; tests call
 * `createGateway` with an in-memory KV and `app.request()` or serve it on a random port.
 *
 * @module
 */
import { Hono } from "hono";
import { readEnv } from "./config/env.ts";
import {
  type RuntimeSettings,
  runtimeSettingsSchema,
  type StartSettings,
  startSettingsSchema,
} from "./config/schema.ts";
import { SettingsStore } from "./config/settings_store.ts";
import { type AdminSecrets, loadAdminSecrets } from "./config/admin_secrets.ts";
import { ChangeFeed } from "./kv/change_feed.ts";
import { openKv } from "./kv/open_kv.ts";
import { KeyPool } from "./pool/key_pool.ts";
import { PoolStore } from "./pool/pool_store.ts";
import { keyId } from "./pool/key_record.ts";
import { UsageCounter } from "./pool/usage.ts";
import { AffinityMap } from "./pipeline/affinity.ts";
import { createForwarder } from "./pipeline/forward.ts";
import type { RecordSink } from "./pipeline/request_record.ts";
import type { Forward } from "./pipeline/types.ts";
import { type AuthVariables, clientAuth, type ClientToken, hashToken } from "./http/client_auth.ts";
import { GatewayError, googleErrorResponse } from "./http/errors.ts";
import { createGeminiRoutes, GEMINI_PREFIXES, isNativeV1 } from "../routes/gemini.ts";
import { createHealthRoute } from "../routes/health.ts";

/** Options for {@link createGateway}. */
export interface GatewayOptions {
  /** Environment variables (settings); defaults to the process environment. */
  env?: Record<string, string | undefined>;
  /** Extra record sinks (tests observe requests this way). */
  onRecord?: RecordSink;
}

/** A running gateway's parts. */
export interface Gateway {
  app: Hono;
  kv: Deno.Kv;
  start: StartSettings;
  settings: SettingsStore<typeof runtimeSettingsSchema>;
  pool: KeyPool;
  store: PoolStore;
  usage: UsageCounter;
  affinity: AffinityMap;
  feed: ChangeFeed;
  forward: Forward;
  admin: AdminSecrets;
  /** Flushes pending writes and closes KV. */
  close(): Promise<void>;
}

function tokenTable(s: RuntimeSettings): Map<string, { token: ClientToken; hash: string }> {
  const table = new Map<string, { token: ClientToken; hash: string }>();
  for (const t of s.allowedTokens) {
    const hash = hashToken(t);
    table.set(hash, { token: { name: `token-${t.slice(-4)}` }, hash });
  }
  return table;
}

/** Builds a gateway from settings in the environment. */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const env = options.env ?? Deno.env.toObject();
  const start = startSettingsSchema.parse(readEnv(startSettingsSchema, env));
  const pinned = readEnv(runtimeSettingsSchema, env);
  const kv = await openKv(start.kvPath);
  const feed = new ChangeFeed(kv, { pollMs: start.syncIntervalMs });
  const settings = new SettingsStore({ kv, feed, schema: runtimeSettingsSchema, pinned });
  await settings.reload();
  const pool = new KeyPool({
    backoffMaxMs: () => settings.current.transientBackoffMaxMs,
    windowMs: () => settings.current.quotaWindowMs,
  });
  const store = new PoolStore({ kv, feed, pool });
  await store.load();
  if (start.geminiApiKeys.length) {
    const now = Date.now();
    await store.addKeys(
      start.geminiApiKeys.map((key) => ({ id: keyId(key), key, enabled: true, addedAt: now })),
    );
  }
  const affinity = new AffinityMap(kv, feed);
  await affinity.load();
  const usage = new UsageCounter(kv);
  const admin = await loadAdminSecrets(kv, start.adminToken);
  feed.start();

  const forward = createForwarder({
    pool,
    settings: () => settings.current,
    affinity,
    usage,
    onRecord: options.onRecord,
  });

  let tokens = tokenTable(settings.current);
  settings.onChange((s) => tokens = tokenTable(s));
  const auth = clientAuth({ resolve: (hash) => tokens.get(hash) });

  const app = new Hono();
  app.route("/", createHealthRoute({ pool }));
  const gemini = new Hono<{ Variables: AuthVariables }>();
  gemini.onError((err) => googleErrorResponse(err));
  gemini.use("*", auth);
  gemini.route("/", createGeminiRoutes({ forward, maxBodyBytes: () => settings.current.maxBodyBytes }));
  for (const prefix of GEMINI_PREFIXES) app.route(prefix, gemini);
  app.all("/v1/*", (c, next) => isNativeV1(c.req.raw) ? gemini.fetch(c.req.raw) : next());
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

  return {
    app,
    kv,
    start,
    settings,
    pool,
    store,
    usage,
    affinity,
    feed,
    forward,
    admin,
    async close() {
      feed.stop();
      await store.close();
      await usage.flush();
      kv.close();
    },
  };
}
