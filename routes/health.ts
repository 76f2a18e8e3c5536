/**
 * `GET /health`: no auth; status, version and counts of keys by state.
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

/** Builds the health route. */
export function createHealthRoute(deps: { pool: KeyPool }): Hono {
  const app = new Hono();
  app.get("/health", (c) => c.json({ status: "ok", version: VERSION, keys: keyCounts(deps.pool) }));
  return app;
}
