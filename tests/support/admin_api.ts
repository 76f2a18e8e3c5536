/**
 * Calls the admin JSON API of a test gateway with the harness's admin token as a Bearer token.
 *
 * @module
 */
import type { Harness } from "./harness.ts";

/** The admin token {@link startHarness} configures. */
export const ADMIN_TOKEN = "test-admin-token-123456";

/**
 * A caller for `h`'s admin API: `admin("POST", "/tokens", {name: "x"})` sends the body as JSON and
 * answers the status and the parsed JSON body.
 */
export function adminApi(h: Harness) {
  return async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${h.url}/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: await r.json() };
  };
}
