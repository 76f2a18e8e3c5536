/**
 * Admin JSON API for client tokens: list (with today's usage), create (the token is returned once),
 * revoke. Errors use Google's envelope; 400 names the offending field, 409 a duplicate name.
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

const schemas = {
  create: z.object({
    name: z.string().trim().min(1, "give the token a name").max(100, "use at most 100 characters"),
    models: z.array(z.string().trim().min(1)).optional(),
    rpm: z.number().int().positive("must be a positive whole number").optional(),
    dailyTokens: z.number().int().positive("must be a positive whole number").optional(),
    expiresAt: z.number().int().positive("must be epoch milliseconds").optional(),
  }),
  revoke: z.object({ id: z.string().min(1, "name the token id to revoke") }),
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
    for (const k of ["models", "rpm", "dailyTokens", "expiresAt"] as const) {
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
  return app;
}
