/**
 * `GET /metrics`: Prometheus' text exposition of every gateway sharing the KV
 * (`lib/metrics/prometheus.ts`), behind its own bearer token (`METRICS_TOKEN`); 404 when the
 * setting is unset (off).
 *
 * @module
 */
import { Hono } from "hono";
import { notFound, unauthenticated } from "../lib/http/errors.ts";
import { timingSafeEqual } from "../lib/secrets/timing_safe_equal.ts";
import { PROMETHEUS_CONTENT_TYPE, type PrometheusMetrics } from "../lib/metrics/prometheus.ts";

/** Builds the metrics route. */
export function createPrometheusRoute(deps: { prometheus: PrometheusMetrics; token?: string }): Hono {
  const app = new Hono();
  app.get("/metrics", async (c) => {
    if (!deps.token) throw notFound("/metrics is off; set METRICS_TOKEN to turn it on.");
    const sent = c.req.header("authorization")?.replace(/^bearer\s+/i, "") ?? "";
    if (!timingSafeEqual(sent, deps.token)) {
      throw unauthenticated("/metrics needs 'Authorization: Bearer <METRICS_TOKEN>'.");
    }
    return c.body(await deps.prometheus.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}
