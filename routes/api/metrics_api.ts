/**
 * Admin JSON API for the dashboard: request metrics over a range, key states, the pool's capacity per
 * model, today's cost estimate, and upstream proxies.
 *
 * @module
 */
import { Hono } from "hono";
import { badRequestDetail, GatewayError, googleErrorResponse } from "../../lib/http/errors.ts";
import { type Metrics, type MetricsRange, RANGES } from "../../lib/metrics/metrics.ts";
import type { KeyCounts } from "../../lib/admin/api_types.ts";
import type { PoolCapacityReport } from "../../lib/cluster/capacity_board.ts";
import type { CostReport } from "../../lib/metrics/costs.ts";

/** What the metrics API needs. */
export interface MetricsApiDeps {
  metrics: Metrics;
  keyStates: () => KeyCounts;
  proxies: () => unknown[];
  /**
   * What the pool can still serve per model, summed over the gateways sharing the KV
   * (`lib/cluster/capacity_board.ts`).
   */
  capacity: () => Promise<PoolCapacityReport>;
  /** Today's cost estimate (`lib/metrics/costs.ts`). */
  costs: () => Promise<CostReport>;
}

/** Builds the metrics and proxies API (mount under the admin API prefix). */
export function createMetricsApi(deps: MetricsApiDeps): Hono {
  const app = new Hono();
  app.onError((err) => googleErrorResponse(err));
  app.get("/metrics", async (c) => {
    const range = c.req.query("range") || "1h";
    if (!(range in RANGES)) {
      throw new GatewayError(400, `range: use one of ${Object.keys(RANGES).join(", ")}`, {
        param: "range",
        details: [
          badRequestDetail([{ field: "range", description: `use one of ${Object.keys(RANGES).join(", ")}` }]),
        ],
      });
    }
    const report = await deps.metrics.query(range as MetricsRange);
    return c.json({ ...report, keys: deps.keyStates() });
  });
  app.get("/proxies", (c) => c.json({ proxies: deps.proxies() }));
  app.get("/capacity", async (c) => c.json(await deps.capacity()));
  app.get("/costs", async (c) => c.json(await deps.costs()));
  return app;
}
