/**
 * Admin JSON API for the request and error logs (filtered pages newest first, one entry by id) and the
 * audit log of admin actions.
 *
 * @module
 */
import { Hono } from "hono";
import { badRequestDetail, GatewayError, googleErrorResponse } from "../../lib/http/errors.ts";
import type { LogEntry, LogQuery, LogStore } from "../../lib/logs/log_store.ts";
import type { AuditLog } from "../../lib/logs/audit_log.ts";
import { type Outcome, OUTCOMES } from "../../lib/http/refusal.ts";

function bad(field: string, message: string): GatewayError {
  return new GatewayError(400, `${field}: ${message}`, {
    param: field,
    details: [badRequestDetail([{ field, description: message }])],
  });
}

/** Epoch ms from a query value: a number of ms or an ISO date. */
function timeParam(field: string, v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw bad(field, "use epoch milliseconds or an ISO date");
  return t;
}

/** Parses the query string of `GET /logs`. */
export function parseLogQuery(q: Record<string, string>): LogQuery {
  const kind = q.kind || "request";
  if (kind !== "request" && kind !== "error") throw bad("kind", "use request or error");
  let status: LogQuery["status"];
  if (q.status === "ok" || q.status === "error") status = q.status;
  else if (q.status) {
    if (!/^\d{3}$/.test(q.status)) throw bad("status", "use ok, error or an HTTP status like 429");
    status = Number(q.status);
  }
  const outcome = q.outcome || undefined;
  if (outcome && !OUTCOMES.includes(outcome as Outcome)) {
    throw bad("outcome", `use one of ${OUTCOMES.join(", ")}`);
  }
  let limit: number | undefined;
  if (q.limit) {
    limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw bad("limit", "use a whole number 1..500");
  }
  return {
    kind,
    from: timeParam("from", q.from),
    to: timeParam("to", q.to),
    status,
    outcome: outcome as Outcome | undefined,
    model: q.model || undefined,
    keyId: q.keyId || undefined,
    token: q.token || undefined,
    limit,
    cursor: q.cursor || undefined,
  };
}

/** The entry as the API returns it (the storage-only field dropped). */
function view(e: LogEntry): Omit<LogEntry, "expiresAt"> {
  const { expiresAt: _, ...rest } = e;
  return rest;
}

/** Builds the logs API (mount under the admin API prefix). */
export function createLogsApi(deps: { logs: LogStore; audit: AuditLog }): Hono {
  const app = new Hono();
  app.onError((err) => googleErrorResponse(err));
  app.get("/logs", async (c) => {
    const { entries, next } = await deps.logs.query(parseLogQuery(c.req.query()));
    return c.json(next ? { entries: entries.map(view), next } : { entries: entries.map(view) });
  });
  app.get("/audit", async (c) => {
    const q = c.req.query();
    const limit = q.limit ? Number(q.limit) : undefined;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) {
      throw bad("limit", "use a whole number 1..500");
    }
    return c.json(await deps.audit.query({ limit, cursor: q.cursor, action: q.action || undefined }));
  });
  app.get("/logs/:id", async (c) => {
    const e = await deps.logs.get(c.req.param("id"));
    if (!e) throw new GatewayError(404, `No log entry '${c.req.param("id")}' (it may have expired).`);
    return c.json(view(e));
  });
  return app;
}
