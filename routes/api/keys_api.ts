/**
 * Admin JSON API for keys: list with state per model, add many (pasted text or a text file), delete
 * (optionally ignoring a `GEMINI_API_KEYS` key at later starts), enable, disable, verify (one,
 * selected, all), reset cooldowns, set labels and limits, export (masked; full keys only with the
 * admin token entered again). Mounted behind the admin session or `Authorization: Bearer
 * <ADMIN_TOKEN>`. Full keys are returned only by a full export.
 *
 * @module
 */
import { Hono } from "hono";
import { parseJsonBody } from "../../lib/http/body.ts";
import { z } from "zod";
import { badRequest, googleErrorResponse, permissionDenied } from "../../lib/http/errors.ts";
import type { KeyAdmin } from "../../lib/pool/key_admin.ts";
import { keyLimitsSchema } from "../../lib/pool/key_limits_schema.ts";

const ids = z.array(z.string().min(1)).min(1, "name at least one key id");
const limits = keyLimitsSchema;
const schemas = {
  add: z.object({
    text: z.string().min(1, "paste at least one key"),
    label: z.string().max(100).optional(),
    project: z.string().max(100).optional(),
  }),
  ids: z.object({ ids }),
  delete: z.object({ ids, ignoreEnv: z.boolean().optional() }),
  export: z.object({
    state: z.enum(["all", "valid", "disabled"]).default("all"),
    full: z.boolean().default(false),
    adminToken: z.string().optional(),
  }),
  reset: z.object({ ids, model: z.string().optional() }),
  verify: z.object({
    ids: ids.optional(),
    all: z.boolean().optional(),
    concurrency: z.number().int().min(1).max(32).optional(),
  })
    .refine((v) => v.ids || v.all, "send ids or all: true"),
  update: z.object({
    ids,
    label: z.string().max(100).optional(),
    project: z.string().max(100).optional(),
    limits: limits.optional(),
  }),
};

const parse = <T extends z.ZodType>(req: Request, schema: T) =>
  parseJsonBody(req, schema, '{"ids": ["<key id>"]}');

/** Builds the keys API (mount under the admin API prefix). */
export function createKeysApi(
  deps: {
    admin: KeyAdmin;
    /** Checks the admin token entered again for a full export (none: full exports are refused). */
    verifyAdminToken?: (token: string) => Promise<boolean>;
  },
): Hono {
  const { admin } = deps;
  const app = new Hono();
  app.onError((err) => googleErrorResponse(err));

  app.get("/keys", async (c) => {
    await admin.refreshUsage();
    const q = c.req.query();
    const state = ["active", "cooling", "disabled"].includes(q.state) ? q.state as "active" : undefined;
    return c.json(admin.list({
      search: q.search,
      state,
      sort: q.sort as "added",
      offset: Math.max(0, Number(q.offset) || 0),
      limit: Math.min(500, Math.max(1, Number(q.limit) || 50)),
    }));
  });
  app.post("/keys", async (c) => {
    const b = await parse(c.req.raw, schemas.add);
    const result = await admin.add(b.text, { label: b.label, project: b.project });
    if (!result.added.length && !result.rejected.length) {
      throw badRequest(
        "text",
        "text: nothing in it looks like a key; paste Gemini API keys (AIza…, AQ.…) or Vertex AI express keys " +
          "written vertex:<key>, one per line or separated by commas or spaces.",
      );
    }
    return c.json(result);
  });
  app.post("/keys/delete", async (c) => {
    const b = await parse(c.req.raw, schemas.delete);
    return c.json({ deleted: await admin.remove(b.ids, { ignoreEnv: b.ignoreEnv }) });
  });
  app.post("/keys/export", async (c) => {
    const b = await parse(c.req.raw, schemas.export);
    if (b.full && !(b.adminToken && await deps.verifyAdminToken?.(b.adminToken))) {
      throw permissionDenied(
        "Exporting full keys needs the admin token entered again (adminToken); the attempt is in the audit log.",
        { param: "adminToken" },
      );
    }
    return c.json(admin.export(b.state, b.full));
  });
  app.post(
    "/keys/enable",
    async (c) => c.json({ changed: await admin.setEnabled((await parse(c.req.raw, schemas.ids)).ids, true) }),
  );
  app.post(
    "/keys/disable",
    async (c) =>
      c.json({ changed: await admin.setEnabled((await parse(c.req.raw, schemas.ids)).ids, false) }),
  );
  app.post("/keys/reset", async (c) => {
    const b = await parse(c.req.raw, schemas.reset);
    return c.json({ changed: await admin.reset(b.ids, b.model) });
  });
  app.post("/keys/update", async (c) => {
    const { ids, ...patch } = await parse(c.req.raw, schemas.update);
    return c.json({ changed: await admin.update(ids, patch) });
  });
  app.post("/keys/verify", async (c) => {
    const b = await parse(c.req.raw, schemas.verify);
    const target = b.all ? admin.list({ limit: Number.MAX_SAFE_INTEGER }).keys.map((k) => k.id) : b.ids!;
    return c.json(await admin.verify(target, { concurrency: b.concurrency }));
  });
  return app;
}
