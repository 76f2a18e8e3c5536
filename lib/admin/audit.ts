/**
 * The admin audit trail: a middleware on the admin JSON API that records every change (anything but
 * GET) in the audit log after it was answered, with a sentence per action saying what changed. The
 * sentences come from one declarative table keyed by `METHOD /path`; they name keys by id or masked
 * form, tokens by name and secret settings by name only.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AdminEnv } from "./auth.ts";
import type { AuditLog } from "../logs/audit_log.ts";

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => v && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};
const arr = (v: unknown): unknown[] => Array.isArray(v) ? v : [];
const num = (v: unknown): number => typeof v === "number" ? v : 0;
const short = (v: unknown) => {
  const s = JSON.stringify(v) ?? "";
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
};
/** ` (id1, id2, …)` for a body that names key ids. */
const ids = (b: Obj) => {
  const list = arr(b.ids);
  return list.length ? ` (${list.slice(0, 10).join(", ")}${list.length > 10 ? ", …" : ""})` : "";
};
const tokenName = (b: Obj, a: Obj) => String(obj(a.info).name ?? b.name ?? `id ${b.id}`);

/** Says what one admin action changed, from its JSON body and its JSON answer. */
type Describer = (body: Obj, answer: Obj, o: { secretSettings: ReadonlySet<string> }) => string;

/** What each admin API change is called in the log, and how it is described. */
const ACTIONS: Record<string, { action: string; describe: Describer }> = {
  "POST /keys": {
    action: "keys.add",
    describe: (_b, a) => {
      const added = arr(a.added).map((k) => String(obj(k).masked));
      const list = added.length ? ` (${added.slice(0, 10).join(", ")}${added.length > 10 ? ", …" : ""})` : "";
      return `added ${added.length} keys${list}, rejected ${arr(a.rejected).length}`;
    },
  },
  "POST /keys/delete": {
    action: "keys.delete",
    describe: (b, a) =>
      `deleted ${num(a.deleted)} keys${ids(b)}${
        b.ignoreEnv ? ", ignored in GEMINI_API_KEYS from now on" : ""
      }`,
  },
  "POST /keys/enable": {
    action: "keys.enable",
    describe: (b, a) => `enabled ${num(a.changed)} keys${ids(b)}`,
  },
  "POST /keys/disable": {
    action: "keys.disable",
    describe: (b, a) => `disabled ${num(a.changed)} keys${ids(b)}`,
  },
  "POST /keys/reset": {
    action: "keys.reset",
    describe: (b, a) =>
      `reset cooldowns${b.model ? ` for ${b.model}` : ""} of ${num(a.changed)} keys${ids(b)}`,
  },
  "POST /keys/update": {
    action: "keys.update",
    describe: (b, a) => {
      const fields = ["label", "project", "limits"].filter((f) => b[f] !== undefined)
        .map((f) => `${f}=${short(b[f])}`);
      return `set ${fields.join(", ") || "nothing"} on ${num(a.changed)} keys${ids(b)}`;
    },
  },
  "POST /keys/verify": {
    action: "keys.verify",
    describe: (_b, a) =>
      `verified ${num(a.checked)} keys: ${num(a.valid)} valid, ${arr(a.disabled).length} disabled`,
  },
  "POST /keys/export": {
    action: "keys.export",
    describe: (b, a) =>
      `exported ${num(a.count)} keys (${b.state ?? "all"}) ${b.full ? "IN FULL" : "masked"}`,
  },
  "PATCH /settings": {
    action: "settings.update",
    describe: (b, _a, o) =>
      `changed ${
        Object.entries(b).map(([k, v]) => o.secretSettings.has(k) ? `${k} (secret)` : `${k}=${short(v)}`)
          .join(", ")
      }`,
  },
  "POST /tokens": {
    action: "tokens.create",
    describe: (b) => {
      const limits = ["models", "rpm", "dailyTokens", "expiresAt"].filter((k) => b[k] !== undefined)
        .map((k) => `${k}=${short(b[k])}`);
      return `created token '${b.name}'${limits.length ? ` with ${limits.join(", ")}` : ""}`;
    },
  },
  "POST /tokens/revoke": {
    action: "tokens.revoke",
    describe: (b, a) => `revoked token '${tokenName(b, a)}'`,
  },
  "POST /tokens/update": {
    action: "tokens.update",
    describe: (b, a) =>
      `changed token '${tokenName(b, a)}': ${
        Object.entries(b).filter(([k]) => k !== "id").map(([k, v]) => `${k}=${short(v)}`).join(", ")
      }`,
  },
  "POST /tokens/rotate": {
    action: "tokens.rotate",
    // The grace the old secret got, from the answer (the request may leave it to the default).
    describe: (b, a) => {
      const info = obj(a.info);
      const graceMs = num(info.previousUntil) - num(info.rotatedAt);
      return `rotated token '${tokenName(b, a)}'; the old secret ${
        graceMs > 0 ? `works for ${Math.round(graceMs / 60_000)} more minutes` : "stops at once"
      }`;
    },
  },
  "POST /backup": {
    action: "backup.download",
    describe: (_b, a) =>
      `downloaded a backup of ${arr(a.keys).length} keys and ${arr(a.tokens).length} tokens`,
  },
  "POST /restore": {
    action: "backup.restore",
    describe: (_b, a) =>
      `restored a backup: ${num(a.keys)} keys, ${num(a.tokens)} tokens, ${num(a.settings)} settings`,
  },
};

/** Who made an admin request, for the audit log. */
export function actorOf(c: Context<AdminEnv>): string {
  const admin = c.get("admin");
  return admin?.via === "session" && admin.session ? `session ${admin.session.sid.slice(0, 8)}` : "API token";
}

/** Options of {@link auditTrail}. */
export interface AuditTrailOptions {
  log: AuditLog;
  /** The admin's address. */
  addressOf: (c: Context) => string;
  /** Where the API is mounted (stripped from paths), e.g. `/admin/api`. */
  apiBase: string;
  /** Names of secret settings (their values are never written). */
  secretSettings: ReadonlySet<string>;
}

async function jsonOf(source: Request | Response): Promise<Obj> {
  if (!(source.headers.get("content-type") ?? "").includes("json")) return {};
  try {
    return obj(await source.clone().json());
  } catch {
    return {};
  }
}

/** Middleware factory: records every admin API change in the audit log once it is answered. */
export function auditTrail(o: AuditTrailOptions): MiddlewareHandler<AdminEnv> {
  return async function audit(c, next) {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return await next();
    const body = await jsonOf(c.req.raw);
    await next();
    const path = c.req.path.startsWith(o.apiBase) ? c.req.path.slice(o.apiBase.length) : c.req.path;
    const request = `${method} ${path}`;
    const known = ACTIONS[request];
    const answer = await jsonOf(c.res);
    const status = c.res.status;
    const summary = status >= 400
      ? `refused: ${obj(answer.error).message ?? `HTTP ${status}`}`
      : known?.describe(body, answer, o) ?? request;
    await o.log.record({
      actor: actorOf(c),
      address: o.addressOf(c),
      action: known?.action ?? request,
      request,
      status,
      summary,
    });
  };
}
