/**
 * Admin JSON API for client tokens: list (with today's usage), create (the token is returned once),
 * edit (name, models, limits, expiry), rotate (a new secret, returned once; the old one keeps working
 * for a grace period) and revoke. Errors use Google's envelope; 400 names the offending field, 409 a
 * duplicate name.
 *
 * @module
 */
import { Hono } from "hono";
import { parseJsonBody } from "../../lib/http/body.ts";
import { z } from "zod";
import { googleErrorResponse } from "../../lib/http/errors.ts";
import type { TokenRecord, TokenStore } from "../../lib/tokens/token_store.ts";
import type { TokenLimits } from "../../lib/tokens/token_limits.ts";
import type { TokenInfo } from "../../lib/admin/api_types.ts";
import { tokenFields } from "../../lib/tokens/token_fields.ts";

const fields = tokenFields;
/** Longest grace period of a rotation: 30 days. */
const MAX_GRACE_MS = 30 * 86_400_000;
const id = z.string().min(1, "name the token id");

const schemas = {
  create: z.object({
    name: fields.name,
    models: fields.models.optional(),
    rpm: fields.rpm.optional(),
    dailyTokens: fields.dailyTokens.optional(),
    expiresAt: fields.expiresAt.optional(),
  }),
  update: z.object({
    id,
    name: fields.name.optional(),
    models: fields.models.nullable().optional(),
    rpm: fields.rpm.nullable().optional(),
    dailyTokens: fields.dailyTokens.nullable().optional(),
    expiresAt: fields.expiresAt.nullable().optional(),
  }),
  rotate: z.object({
    id,
    graceMs: z.number().int().min(0).max(MAX_GRACE_MS, "use at most 30 days").default(86_400_000),
  }),
  revoke: z.object({ id }),
};

const parse = <T extends z.ZodType>(req: Request, schema: T) =>
  parseJsonBody(req, schema, '{"name": "my-app"}');

/** Builds the tokens API (mount under the admin API prefix). */
export function createTokensApi(deps: { tokens: TokenStore; limits: TokenLimits }): Hono {
  const { tokens, limits } = deps;
  const info = (r: TokenRecord): TokenInfo => {
    const out: TokenInfo = {
      id: r.id,
      name: r.name,
      prefix: r.prefix,
      createdAt: r.createdAt,
      revoked: r.revoked,
      usageToday: limits.usageToday(r.name),
    };
    for (const k of ["models", "rpm", "dailyTokens", "expiresAt", "previousUntil", "rotatedAt"] as const) {
      if (r[k] !== undefined) Object.assign(out, { [k]: r[k] });
    }
    return out;
  };
  const app = new Hono();
  app.onError((err) => googleErrorResponse(err));

  app.get("/tokens", (c) => c.json({ tokens: tokens.list().map(info) }));
  app.post("/tokens", async (c) => {
    const b = await parse(c.req.raw, schemas.create);
    const { token, record } = await tokens.create(b);
    return c.json({ token, info: info(record) });
  });
  app.post("/tokens/revoke", async (c) => {
    await tokens.revoke((await parse(c.req.raw, schemas.revoke)).id);
    return c.json({ revoked: true });
  });
  app.post("/tokens/update", async (c) => {
    const { id, ...patch } = await parse(c.req.raw, schemas.update);
    return c.json({ info: info(await tokens.update(id, patch)) });
  });
  app.post("/tokens/rotate", async (c) => {
    const b = await parse(c.req.raw, schemas.rotate);
    const { token, record } = await tokens.rotate(b.id, b.graceMs);
    return c.json({ token, info: info(record) });
  });
  return app;
}
