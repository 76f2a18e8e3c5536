/**
 * The composition root: opens KV, loads settings, the key pool and its shared state, builds the
 * pipeline, and mounts every route group on one Hono app (see `routes/mod.ts`). `main.ts`
 * serves it; tests call `createGateway` with an in-memory KV and serve it on a random port.
 *
 * @module
 */
import type { Hono } from "hono";
import { readEnv } from "./lib/config/env.ts";
import { type StartSettings, startSettingsSchema } from "./lib/config/schema.ts";
import { settingsSchema } from "./lib/settings_schema.ts";
import { SettingsStore } from "./lib/config/settings_store.ts";
import { type AdminSecrets, loadAdminSecrets } from "./lib/config/admin_secrets.ts";
import { ChangeFeed } from "./lib/kv/change_feed.ts";
import { kvStartStep, openKv } from "./lib/kv/open_kv.ts";
import { KvHealth } from "./lib/kv/kv_health.ts";
import { oneAtATime } from "./lib/util/one_at_a_time.ts";
import { KeyCounts } from "./lib/pool/key_counts.ts";
import { KeyPool } from "./lib/pool/key_pool.ts";
import { PoolStore } from "./lib/pool/pool_store.ts";
import {
  joinKeyEntries,
  type KeyKind,
  type KeyRecord,
  maskedEntry,
  newKeyRecord,
} from "./lib/pool/key_record.ts";
import { KeyAdmin } from "./lib/pool/key_admin.ts";
import { Rechecker } from "./lib/pool/recheck.ts";
import { UsageCounter } from "./lib/pool/usage.ts";
import { AffinityMap } from "./lib/pipeline/affinity.ts";
import { createForwarder } from "./lib/pipeline/forward.ts";
import { OpenStreams } from "./lib/pipeline/open_streams.ts";
import { vertexTarget } from "./lib/vertex/upstream.ts";
import { keyKindsFor } from "./lib/pool/kind_routing.ts";
import type { RecordSink } from "./lib/pipeline/request_record.ts";
import type { Forward } from "./lib/pipeline/types.ts";
import { ModelCatalog } from "./lib/pipeline/model_catalog.ts";
import { listModelVariants } from "./lib/gemini/model_names.ts";
import { CallPreparer } from "./lib/pipeline/prepare.ts";
import { type GeminiCaller, GeminiClient, internalContext } from "./lib/pipeline/gemini_client.ts";
import { mountRoutes } from "./routes/mod.ts";
import { SessionRevocations } from "./lib/admin/session.ts";
import { UpstreamProxies } from "./lib/features/upstream_proxies.ts";
import { TokenStore } from "./lib/tokens/token_store.ts";
import { TokenLimits } from "./lib/tokens/token_limits.ts";
import { LogStore } from "./lib/logs/log_store.ts";
import { RefusalLog } from "./lib/logs/refusal_log.ts";
import { AuditLog } from "./lib/logs/audit_log.ts";
import { outcomeOf } from "./lib/pipeline/request_record.ts";
import { Metrics } from "./lib/metrics/metrics.ts";
import { Redactor } from "./lib/secrets/redact.ts";
import { Members } from "./lib/cluster/members.ts";
import { CapacityBoard, countsInPoolSum } from "./lib/cluster/capacity_board.ts";
import { takeLease } from "./lib/cluster/lease.ts";
import { PrometheusMetrics } from "./lib/metrics/prometheus.ts";
import { capacityMetrics, capacityReport } from "./lib/pool/capacity.ts";
import { combineObservers, traceObserver } from "./lib/metrics/traces.ts";
import { printRequest } from "./lib/logs/console_format.ts";
import { WebhookNotifier } from "./lib/notify/webhook.ts";
import { ThoughtSignatures } from "./lib/gemini/thought_signatures.ts";
import { LivePins } from "./lib/live/pins.ts";
import { LiveSessions } from "./lib/live/live_sessions.ts";

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
  settings: SettingsStore<typeof settingsSchema>;
  pool: KeyPool;
  store: PoolStore;
  keys: KeyAdmin;
  usage: UsageCounter;
  affinity: AffinityMap;
  feed: ChangeFeed;
  forward: Forward;
  /** Requests and streams in flight; `close()` records the ones still open as cut. */
  openStreams: OpenStreams;
  /** The pipeline with its prepare step, as every edge calls it. */
  gemini: GeminiClient;
  catalog: ModelCatalog;
  proxies: UpstreamProxies;
  admin: AdminSecrets;
  tokens: TokenStore;
  limits: TokenLimits;
  logs: LogStore;
  /** Refused and rejected requests, logged aggregated per client address and minute. */
  refusals: RefusalLog;
  metrics: Metrics;
  /** The gateways (workers, processes, instances) serving from the same KV, for shared limits. */
  members: Members;
  /** Every member's capacity figures in KV, summed for the admin panel. */
  capacity: CapacityBoard;
  /** `GET /metrics` (Prometheus). */
  prometheus: PrometheusMetrics;
  /** Admin actions. */
  audit: AuditLog;
  /** Operator notifications (`WEBHOOK_URL`). */
  notifier: WebhookNotifier;
  /** Whether the state store (KV) works, as every read and write reports it. */
  storeHealth: KvHealth;
  /** Key counts by state, maintained for `/health` and `/ready`. */
  keyCounts: KeyCounts;
  /** The Live API's WebSocket sessions (drain them on shutdown). */
  live: LiveSessions;
  /** Settles when start-up work in the background (the first model listing) is done. */
  ready: Promise<void>;
  /** Flushes pending writes and closes KV. */
  close(): Promise<void>;
}

/** Builds a gateway from settings in the environment. */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const env = options.env ?? Deno.env.toObject();
  const start = startSettingsSchema.parse(readEnv(startSettingsSchema, env));
  const pinned = readEnv(settingsSchema, env);
  const storeHealth = new KvHealth();
  const kv = storeHealth.track(await openKv(start.kvPath));
  // KV failing (or not answering) while the gateway loads its state is a start-up error like an
  // unusable KV_PATH.
  const atStart = <T>(work: Promise<T>): Promise<T> => kvStartStep(start.kvPath, work);
  const feed = new ChangeFeed(kv, { pollMs: start.syncIntervalMs });
  const settings = new SettingsStore({ kv, feed, schema: settingsSchema, pinned });
  await atStart(settings.reload());
  const s = () => settings.current;
  const members = new Members({ kv, feed });
  const pool = new KeyPool({
    backoffMaxMs: () => s().transientBackoffMaxMs,
    windowMs: () => s().quotaWindowMs,
    share: () => members.share(),
    peers: () => members.peers(),
  });
  const store = new PoolStore({ kv, feed, pool });
  await atStart(store.load());
  // Keys from GEMINI_API_KEYS join the pool at every start, except those the admin deleted and ignored.
  const fresh = [...new Set(joinKeyEntries(start.geminiApiKeys))].map((entry) =>
    newKeyRecord(entry, { addedAt: Date.now() })
  );
  const envKeyIds = new Set(fresh.map((r) => r.id));
  if (fresh.length) {
    const ignored = await atStart(store.ignoredEnvKeys());
    await atStart(store.addKeys(fresh.filter((r) => !pool.get(r.id) && !ignored.has(r.id))));
  }
  const affinity = new AffinityMap(kv, feed, { sameProject: (a, b) => pool.scopeOf(a) === pool.scopeOf(b) });
  await atStart(affinity.load());
  const usage = new UsageCounter(kv);
  const notifier = new WebhookNotifier({ url: () => s().webhookUrl });
  pool.onDirty((d) => {
    const r = d.type === "key" && d.disabled ? pool.get(d.id) : undefined;
    if (r) {
      notifier.notify({
        event: "key_disabled",
        keyId: r.id,
        key: maskedEntry(r),
        reason: r.disabledReason ?? "",
      });
    }
  });
  const admin = await atStart(loadAdminSecrets(kv, start.adminToken));
  const proxies = new UpstreamProxies(() => s());
  const baseUrl = (kind: KeyKind) => kind === "vertex" ? s().vertexBaseUrl : s().upstreamBaseUrl;
  settings.onChange(() => proxies.refresh());
  const keys = new KeyAdmin({
    pool,
    store,
    usage,
    baseUrl,
    clientFor: (id) => proxies.clientFor(id),
    envKeyIds,
  });
  const rechecker = new Rechecker({
    clientFor: (id) => proxies.clientFor(id),
    kv,
    pool,
    admin: keys,
    intervalMs: () => s().recheckIntervalMs,
    baseUrl,
  });
  const tokens = new TokenStore({ kv, feed, envTokens: () => s().allowedTokens });
  await atStart(tokens.load());
  settings.onChange(() => tokens.refreshEnv());
  const limits = new TokenLimits({
    byName: (name) => tokens.byName(name),
    usage,
    members,
    onQuotaReached: (q) => notifier.notify({ event: "token_quota_reached", ...q }),
  });
  await atStart(limits.seed());
  // Every gateway's usage of tokens with a daily quota is re-read often (the quota holds in total);
  // the rest (shown in the admin panel) once a minute.
  let reseeds = 0;
  const reseed = setInterval(() => {
    const names = ++reseeds % 30
      ? tokens.list().filter((t) => t.dailyTokens !== undefined).map((t) => t.name)
      : undefined;
    if (names?.length !== 0) void limits.seed(names).catch(() => {});
  }, 2_000);
  Deno.unrefTimer(reseed);
  // Every secret the gateway holds, masked wherever an upstream echoes it (errors, logs, reasons).
  const redactor = new Redactor([
    { version: () => pool.secretsVersion, values: () => pool.records().map((r) => r.key) },
    { version: () => settings.current, values: () => settings.current.allowedTokens },
    { version: () => start.adminToken, values: () => start.adminToken ? [start.adminToken] : [] },
  ]);
  // Masked once per key record (a record's key and kind never change: its id is their hash).
  const masked = new WeakMap<KeyRecord, string>();
  const logs = new LogStore({
    kv,
    settings: s,
    redact: redactor.redact,
    maskKey: (id) => {
      const r = pool.get(id);
      if (!r) return undefined;
      let m = masked.get(r);
      if (m === undefined) masked.set(r, m = maskedEntry(r));
      return m;
    },
  });
  const metrics = new Metrics({ kv });
  // The catalog is built below; its model list bounds the metrics' model labels.
  let knownModels = (): ReadonlySet<string> => new Set();
  // This gateway's own capacity report; the admin panel sums every gateway's (`capacity.read()`).
  const ownCapacity = () => capacityReport(pool, { models: knownModels() });
  const capacity = new CapacityBoard({ kv, members, report: ownCapacity });
  const prometheus = new PrometheusMetrics({
    kv,
    members,
    keyStates: () => {
      const { active, cooling, disabled } = keyCounts.current;
      return { active, cooling, disabled };
    },
    nextFree: () =>
      [...new Set(pool.pairs().map((p) => p.model))].map((model) => ({
        model,
        freeAt: pool.nextFreeAt(model),
      })),
    knownModels: () => knownModels(),
    queues: () => ({ pool: store.queued, usage: usage.queued, logs: logs.queued, metrics: metrics.queued }),
    liveSessions: () => live.size,
    capacity: () => capacityMetrics(ownCapacity(), { ownShare: countsInPoolSum(members) }),
  });
  // Refusals and requests rejected at the edge are counted one by one but logged aggregated per
  // client address and minute, so a flood cannot fill the log.
  // (With LOG_FORMAT=json, stdout gets the same aggregated entries.)
  const refusals = new RefusalLog({
    sink: (rec) => {
      logs.record(rec);
      printRequest(rec);
    },
  });
  const onEdgeFailure: RecordSink = (rec) => {
    metrics.record(rec);
    prometheus.record(rec);
    refusals.add(rec);
  };
  const onRecord: RecordSink = (rec) => {
    limits.record(rec);
    if (outcomeOf(rec) === "refused") refusals.add(rec);
    else {
      logs.record(rec);
      printRequest(rec);
    }
    metrics.record(rec);
    prometheus.record(rec);
    options.onRecord?.(rec);
  };
  feed.start();
  storeHealth.start();
  await members.start();
  capacity.start();
  rechecker.start();
  logs.start(() => takeLease({ kv, job: "log-sweep", owner: members.id, ttlMs: 55_000 }));
  prometheus.start();
  // Figures computed from this member's share go out again when the share changes, not at the next tick.
  members.onShareChange(oneAtATime(() => Promise.all([capacity.publish(), prometheus.snapshot()])));

  const openStreams = new OpenStreams();
  const forward = createForwarder({
    openStreams,
    pool,
    settings: s,
    affinity,
    usage,
    onRecord,
    clientFor: (id) => proxies.clientFor(id),
    onNetworkError: (id, e) => proxies.reportFailure(id, e),
    onNoKey: (model, info) =>
      notifier.notify({
        event: "model_unavailable",
        model,
        reason: info.reason,
        freeAt: Number.isFinite(info.freeAt) ? info.freeAt : null,
      }),
    admitModel: (name, names) => limits.admitModel(name, names),
    upstream: { vertex: vertexTarget({ baseUrl: () => s().vertexBaseUrl }) },
    kindsFor: (req) => keyKindsFor(req, { pool, routing: s().keyKindRouting }),
    redact: redactor.redact,
    observer: combineObservers(prometheus.observer, traceObserver),
  });
  // The catalog lists models through the client, and the client's prepare step reads the catalog's
  // known models: the getters below close the loop.
  const catalog = new ModelCatalog({
    upstream: (): GeminiCaller => gemini.for(internalContext("models")),
    transformList: (ids) => listModelVariants(ids, s()),
  });
  const gemini = new GeminiClient({
    forward,
    preparer: new CallPreparer({ settings: s, knownModels: () => catalog.known() }),
    access: limits,
  });
  knownModels = () => catalog.known();
  // Learn the real model names early (suffix parsing needs them); failures are retried on demand.
  const ready = pool.size ? catalog.ids().then(() => {}, () => {}) : Promise.resolve();

  const pins = new LivePins({ kv, feed });
  await atStart(pins.load());
  const live = new LiveSessions({
    pool,
    pins,
    settings: s,
    usage,
    onRecord,
    clientFor: (id) => proxies.clientFor(id),
    onNetworkError: (id, e) => proxies.reportFailure(id, e),
    modelAllowed: (name, model) => limits.allowsModel(name, model),
    redact: redactor.redact,
  });

  const revocations = new SessionRevocations({ kv, feed });
  await atStart(revocations.load());
  const audit = new AuditLog({ kv, health: storeHealth });
  const keyCounts = new KeyCounts(pool);
  const signatures = new ThoughtSignatures({ kv, ttlMs: () => s().thoughtSignatureTtlHours * 3_600_000 });
  const app = mountRoutes({
    kv,
    revocations,
    audit,
    storeHealth,
    keyCounts,
    signatures,
    live,
    gemini,
    settings,
    pool,
    store,
    usage,
    keys,
    catalog,
    admin,
    tokens,
    limits,
    logs,
    metrics,
    proxies,
    members,
    capacity: () => capacity.read(),
    prometheus,
    metricsToken: start.metricsToken,
    onEdgeFailure,
    affinity,
  });

  return {
    app,
    kv,
    start,
    settings,
    pool,
    store,
    keys,
    usage,
    affinity,
    feed,
    forward,
    openStreams,
    gemini,
    catalog,
    proxies,
    admin,
    tokens,
    limits,
    logs,
    refusals,
    metrics,
    members,
    capacity,
    prometheus,
    notifier,
    audit,
    storeHealth,
    keyCounts,
    live,
    ready,
    async close() {
      // Streams still open now are cut: record them before the logs and usage are flushed.
      openStreams.cutAll(
        "cut: the gateway shut down while the request was in flight (SHUTDOWN_GRACE_MS passed)",
      );
      clearInterval(reseed);
      notifier.close();
      rechecker.stop();
      await capacity.stop();
      await members.stop();
      await prometheus.stop();
      proxies.close();
      await audit.close();
      await storeHealth.stop();
      await feed.stop();
      await store.close();
      await usage.close();
      refusals.close();
      await logs.close();
      await metrics.close();
      await signatures.flush();
      kv.close();
    },
  };
}
