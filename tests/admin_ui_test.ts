import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AdminDeps, KeyView } from "../lib/admin/deps.ts";
import { createStaticRoutes } from "../lib/islands/static_routes.ts";
import { createAdminRoutes } from "../routes/admin/admin_routes.tsx";
import { buildIslands } from "../scripts/build_islands.ts";
import { collectPageErrors, launchBrowser, screenshot, serve } from "./support/browser.ts";

const TOKEN = "test-admin-token-123";

function fakePool() {
  const now = Date.now();
  const keys: KeyView[] = [
    {
      id: "k1",
      masked: "AIza…x9Qk",
      label: "Production A",
      project: "gw-prod-1",
      state: "active",
      cooldowns: [],
      usageToday: {
        requests: 1284,
        ok: 1270,
        rateLimited: 14,
        errors: 0,
        inputTokens: 912_000,
        outputTokens: 210_000,
      },
    },
    {
      id: "k2",
      masked: "AIza…m2Lp",
      label: "Production B",
      project: "gw-prod-2",
      state: "active",
      cooldowns: [],
      usageToday: {
        requests: 642,
        ok: 640,
        rateLimited: 2,
        errors: 0,
        inputTokens: 400_000,
        outputTokens: 90_000,
      },
    },
    {
      id: "k3",
      masked: "AIza…Qe7T",
      label: "Legacy",
      state: "disabled",
      disabledReason: "API key invalid (400 API_KEY_INVALID)",
      cooldowns: [],
      lastError: "API key not valid. Please pass a valid API key.",
    },
    {
      id: "k4",
      masked: "AIza…Zr0c",
      label: "Batch jobs",
      project: "gw-batch",
      state: "cooling",
      cooldowns: [{ model: "gemini-2.5-pro", until: now + 3 * 3600_000, kind: "day", reason: "Daily quota" }],
      lastError: "429 RESOURCE_EXHAUSTED: quota exceeded for generate_content_free_tier_requests",
      usageToday: {
        requests: 50,
        ok: 48,
        rateLimited: 2,
        errors: 0,
        inputTokens: 20_000,
        outputTokens: 4_000,
      },
    },
  ];
  const listeners = new Set<() => void>();
  return {
    keys,
    listeners,
    update(id: string, patch: Partial<KeyView>) {
      const i = keys.findIndex((k) => k.id === id);
      keys[i] = { ...keys[i], ...patch };
      for (const l of listeners) l();
    },
    deps: {
      listKeys: () => structuredClone(keys),
      subscribe(fn: () => void) {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
      verifyAdminToken: (t: string) => Promise.resolve(t === TOKEN),
      sessionSecret: crypto.getRandomValues(new Uint8Array(32)),
    } satisfies AdminDeps,
  };
}

Deno.test({
  name: "admin UI: sign in, live key states, CSRF, sign out (Chromium)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildIslands({ verbose: false });
    const pool = fakePool();
    const app = new Hono();
    app.route("/static", createStaticRoutes());
    app.route("/admin", createAdminRoutes(pool.deps));
    const server = serve(app.fetch);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
      const page = await context.newPage();
      const errors = collectPageErrors(page);

      // Not signed in: redirected to the login page, which has no script at all.
      await page.goto(`${server.url}/admin/keys`);
      assert.match(page.url(), /\/admin\/login\?next=%2Fadmin%2Fkeys$/);
      assert.equal(await page.locator("script").count(), 0);

      // Wrong token refused.
      await page.fill("#token", "wrong-token");
      const refused = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
      assert.equal(refused[0]?.status(), 401);
      assert.match(await page.locator(".alert").innerText(), /not valid/);
      await screenshot(page, "admin_login_error");
      errors.length = 0; // the 401 page load above is logged as a console error by design

      // Right token: lands on the keys page with masked keys and a hydrated island.
      await page.fill("#token", TOKEN);
      await Promise.all([page.waitForURL(/\/admin\/keys$/), page.click("button[type=submit]")]);
      await page.waitForSelector('body[data-islands-hydrated="1"]');
      await page.waitForSelector('[data-link="live"]');
      const table = await page.locator("table").innerText();
      assert.match(table, /AIza…x9Qk/);
      assert.match(table, /AIza…Zr0c/);
      assert.doesNotMatch(await page.content(), /test-admin-token/);
      assert.equal(
        await page.locator('tr[data-key-id="k2"] [data-state]').getAttribute("data-state"),
        "active",
      );

      // The pool changes: the island updates without a reload, and the cooldown counts down.
      const marker = await page.evaluate(() =>
        (globalThis as unknown as { __noReload: number }).__noReload = 42
      );
      pool.update("k2", {
        state: "cooling",
        cooldowns: [{ model: "gemini-2.5-flash", until: Date.now() + 95_000, kind: "minute", reason: "RPM" }],
      });
      await page.waitForSelector('tr[data-key-id="k2"] [data-state="cooling"]');
      const countdown = page.locator('tr[data-key-id="k2"] [data-countdown="gemini-2.5-flash"]');
      const first = await countdown.innerText();
      assert.match(first, /^1m \d\ds$/);
      await page.waitForFunction(
        ([sel, before]) => document.querySelector(sel)?.textContent !== before,
        ['tr[data-key-id="k2"] [data-countdown="gemini-2.5-flash"]', first] as const,
      );
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __noReload: number }).__noReload),
        marker,
      );
      assert.equal(await page.locator('[data-count="cooling"]').innerText(), "2");
      await screenshot(page, "admin_keys");

      pool.update("k1", { state: "disabled", disabledReason: "Suspended: PERMISSION_DENIED" });
      await page.waitForSelector('tr[data-key-id="k1"] [data-state="disabled"]');

      await page.emulateMedia({ colorScheme: "dark" });
      await screenshot(page, "admin_keys_dark");
      await page.emulateMedia({ colorScheme: "light" });

      // A POST with the session cookie but without the CSRF token is refused; the session survives.
      const cookie = (await context.cookies()).find((c) => c.name === "gw_admin");
      assert.ok(cookie, "session cookie set");
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, "Strict");
      const headers = { cookie: `gw_admin=${cookie.value}` };
      const noCsrf = await fetch(`${server.url}/admin/logout`, {
        method: "POST",
        headers,
        redirect: "manual",
      });
      assert.equal(noCsrf.status, 403);
      await noCsrf.body?.cancel();
      const stillIn = await fetch(`${server.url}/admin/api/keys`, { headers });
      assert.equal(stillIn.status, 200);
      assert.equal((await stillIn.json()).keys.length, 4);

      // Unknown paths get a styled 404 page.
      const missing = await page.goto(`${server.url}/admin/nope`);
      assert.equal(missing?.status(), 404);
      await screenshot(page, "admin_not_found");
      errors.length = 0; // the 404 above is logged as a console error by design
      await page.goto(`${server.url}/admin/keys`);

      // Sign out through the page's form (carries the CSRF token); the old cookie stops working.
      await Promise.all([page.waitForURL(/\/admin\/login$/), page.click('[data-action="logout"]')]);
      await page.goto(`${server.url}/admin/keys`);
      assert.match(page.url(), /\/admin\/login/);
      const revoked = await fetch(`${server.url}/admin/api/keys`, { headers });
      assert.equal(revoked.status, 401);
      await revoked.body?.cancel();
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
