/**
 * `GET /health` (liveness) and `GET /ready` (readiness), both without auth and answered from memory
 * (they never wait for KV or walk the key pool).
 *
 * - `/health`: 200 while the process serves; `status` is `ok`, or `degraded` while the state store
 *   (Deno KV) fails; with the version, key counts by state and the store's state.
 * - `/ready`: 200 when the store works and at least one key is enabled; 503 otherwise, with the reason.
 *
 * @module
 */
import { Hono } from "hono";
import type { KeyCounts } from "../lib/pool/key_counts.ts";
import type { KvHealth } from "../lib/kv/kv_health.ts";
import { VERSION } from "../lib/version.ts";

/** What the health routes read. */
export interface HealthDeps {
  /** Maintained key counts. */
  counts: KeyCounts;
  /** The state store's health. */
  store: KvHealth;
}

/** Builds the health routes. */
export function createHealthRoute(deps: HealthDeps): Hono {
  const app = new Hono();
  app.get("/health", (c) => {
    const store = deps.store.status;
    return c.json({
      status: store.ok ? "ok" : "degraded",
      version: VERSION,
      keys: deps.counts.current,
      store,
    });
  });
  app.get("/ready", (c) => {
    const store = deps.store.status;
    const keys = deps.counts.current;
    const reasons = [
      ...(store.ok ? [] : [`the state store (Deno KV) fails: ${store.error}`]),
      ...(keys.active + keys.cooling > 0 ? [] : ["no enabled key in the pool"]),
    ];
    return c.json({ ready: reasons.length === 0, reasons, keys, store }, reasons.length ? 503 : 200);
  });
  return app;
}
