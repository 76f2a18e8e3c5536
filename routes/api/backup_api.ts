/**
 * Admin JSON API for backup and restore (`lib/admin/backup.ts`): `POST /backup` answers the backup
 * document (it holds full keys, so the admin token must be entered again as `adminToken`);
 * `POST /restore` merges a backup into this instance and says what it did.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { parseJsonBody } from "../../lib/http/body.ts";
import { googleErrorResponse, permissionDenied } from "../../lib/http/errors.ts";
import { type BackupDeps, backupSchema, createBackup, restoreBackup } from "../../lib/admin/backup.ts";

const schemas = {
  backup: z.object({ adminToken: z.string().optional() }),
  restore: z.object({ backup: backupSchema }),
};

/** Builds the backup API (mount under the admin API prefix). */
export function createBackupApi(
  deps: BackupDeps & { verifyAdminToken: (token: string) => Promise<boolean> },
): Hono {
  const app = new Hono();
  app.onError((err) => googleErrorResponse(err));
  app.post("/backup", async (c) => {
    const b = await parseJsonBody(c.req.raw, schemas.backup, '{"adminToken": "<ADMIN_TOKEN>"}');
    if (!b.adminToken || !await deps.verifyAdminToken(b.adminToken)) {
      throw permissionDenied(
        "A backup holds full keys: enter the admin token again (adminToken); the attempt is in the audit log.",
        { param: "adminToken" },
      );
    }
    return c.json(await createBackup(deps));
  });
  app.post("/restore", async (c) => {
    const b = await parseJsonBody(
      c.req.raw,
      schemas.restore,
      '{"backup": { "format": "gemini-gateway-backup", … }}',
    );
    return c.json(await restoreBackup(deps, b.backup));
  });
  return app;
}
