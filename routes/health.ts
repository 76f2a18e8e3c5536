/**
 * `GET /health` (liveness) and `GET /ready` (readiness), both without auth.
 *
 * - `/health`: 200 while the process serves: status, version, counts of keys by state, and which
 *   gateway answered (`instance`, a short id) out of how many share the KV (`gateways`).
 * - `/ready`: 200 `{"ready": true, ...}` when KV answers and at least one key is enabled (can serve);
 *   else 503 with `{"ready": false, "checks": {...}}` naming what is missing. For load balancers and
 *   orchestrators (Kubernetes readinessProbe, Docker health checks, Deno Deploy).
 *
 * @module
 */
import { Hono } from "hono";
import type { KeyPool } from "../lib/pool/key_pool.ts";
import { VERSION } from "../lib/version.ts";

/** Counts keys by state: active, cooling (some model cooling down), disabled. */
export function keyCounts(
  pool: KeyPool,
): { total: number; active: number; cooling: number; disabled: number } {
  const out = { total: 0, active: 0, cooling: 0, disabled: 0 };
  for (const r of pool.records()) {
    out.total++;
    out[pool.stateOf(r.id)]++;
  }
  return out;
}

/** What the health routes read. */
export interface HealthDeps {
  pool: KeyPool;
  /** The KV database, for `/ready`'s reachability check. */
  kv?: Deno.Kv;
  /** This gateway's id and how many gateways share the KV. */
  members?: { id: string; alive(): number };
  /** How long `/ready` waits for KV, in ms (default 2000). */
  kvTimeoutMs?: number;
}

/** Resolves true when KV answers a read within `ms`. */
async function kvAnswers(kv: Deno.Kv, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([kv.get(["meta", "rev"]).then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Builds the health routes. */
export function createHealthRoute(deps: HealthDeps): Hono {
  const app = new Hono();
  app.get("/health", (c) =>
    c.json({
      status: "ok",
      version: VERSION,
      keys: keyCounts(deps.pool),
      ...(deps.members ? { instance: deps.members.id.slice(0, 8), gateways: deps.members.alive() } : {}),
    }));
  app.get("/ready", async (c) => {
    const kv = deps.kv ? await kvAnswers(deps.kv, deps.kvTimeoutMs ?? 2000) : true;
    const enabledKeys = deps.pool.records().filter((r) => r.enabled).length;
    const checks = { kv: kv ? "ok" : "unreachable", keys: enabledKeys ? "ok" : "no enabled key" };
    const ready = kv && enabledKeys > 0;
    return c.json({ ready, checks, enabledKeys }, ready ? 200 : 503);
  });
  return app;
}
