import assert from "node:assert/strict";
import { keyId } from "../lib/pool/key_record.ts";
import { maskKey } from "../lib/secrets/redact.ts";
import { buildIslands } from "../scripts/build_islands.ts";
import { ADMIN_TOKEN } from "./support/admin_api.ts";
import { collectPageErrors, launchBrowser, screenshot } from "./support/browser.ts";
import { coolDown, fakeKey, type Harness, startHarness } from "./support/harness.ts";

const KEYS = [fakeKey(1), fakeKey(2), fakeKey(3), fakeKey(4)];
const [k1, k2, k3, k4] = KEYS.map(keyId);

/** A real gateway whose pool has two active keys, one disabled key and one on a daily cooldown. */
async function gatewayWithKeys(): Promise<Harness> {
  const h = await startHarness({ keys: KEYS });
  const { keys, pool } = h.gw;
  await keys.update([k1], { label: "Production A", project: "gw-prod-1" });
  await keys.update([k2], { label: "Production B", project: "gw-prod-2" });
  await keys.update([k3], { label: "Legacy" });
  await keys.update([k4], { label: "Batch jobs", project: "gw-batch" });
  pool.setEnabled(k3, false, "API key invalid (400 API_KEY_INVALID)");
  coolDown(h, k4, "gemini-2.5-pro", { ms: 3 * 3600_000, window: "day", reason: "Daily quota" });
  return h;
}

Deno.test({
  name: "admin UI: sign in, live key states, CSRF, sign out (Chromium)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildIslands({ verbose: false });
    const h = await gatewayWithKeys();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
      const page = await context.newPage();
      const errors = collectPageErrors(page);

      // Not signed in: redirected to the login page, which has no script at all.
      await page.goto(`${h.url}/admin/keys`);
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
      await page.fill("#token", ADMIN_TOKEN);
      await Promise.all([page.waitForURL(/\/admin\/keys$/), page.click("button[type=submit]")]);
      await page.waitForSelector('body[data-islands-hydrated="1"]');
      await page.waitForSelector('[data-link="live"]');
      const table = await page.locator("table").innerText();
      assert.ok(table.includes(maskKey(KEYS[0])), table);
      assert.ok(table.includes(maskKey(KEYS[3])), table);
      assert.ok(!table.includes(KEYS[0]), "never the full key");
      assert.doesNotMatch(await page.content(), /test-admin-token/);
      assert.equal(
        await page.locator(`tr[data-key-id="${k2}"] [data-state]`).getAttribute("data-state"),
        "active",
      );

      // The pool changes: the island updates without a reload, and the cooldown counts down.
      const marker = await page.evaluate(() =>
        (globalThis as unknown as { __noReload: number }).__noReload = 42
      );
      coolDown(h, k2, "gemini-2.5-flash", { ms: 95_000, reason: "RPM" });
      await page.waitForSelector(`tr[data-key-id="${k2}"] [data-state="cooling"]`);
      const countdown = page.locator(`tr[data-key-id="${k2}"] [data-countdown="gemini-2.5-flash"]`);
      const first = await countdown.innerText();
      assert.match(first, /^1m \d\ds$/);
      await page.waitForFunction(
        ([sel, before]) => document.querySelector(sel)?.textContent !== before,
        [`tr[data-key-id="${k2}"] [data-countdown="gemini-2.5-flash"]`, first] as const,
      );
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __noReload: number }).__noReload),
        marker,
      );
      assert.equal(await page.locator('[data-count="cooling"]').innerText(), "2");
      await screenshot(page, "admin_keys");

      h.gw.pool.setEnabled(k1, false, "Suspended: PERMISSION_DENIED");
      await page.waitForSelector(`tr[data-key-id="${k1}"] [data-state="disabled"]`);
      assert.match(
        await page.locator(`tr[data-key-id="${k1}"] [data-reason]`).innerText(),
        /PERMISSION_DENIED/,
      );

      await page.emulateMedia({ colorScheme: "dark" });
      await screenshot(page, "admin_keys_dark");
      await page.emulateMedia({ colorScheme: "light" });

      // A POST with the session cookie but without the CSRF token is refused; the session survives.
      const cookie = (await context.cookies()).find((c) => c.name === "gw_admin");
      assert.ok(cookie, "session cookie set");
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, "Strict");
      const headers = { cookie: `gw_admin=${cookie.value}` };
      const noCsrf = await fetch(`${h.url}/admin/logout`, {
        method: "POST",
        headers,
        redirect: "manual",
      });
      assert.equal(noCsrf.status, 403);
      await noCsrf.body?.cancel();
      const stillIn = await fetch(`${h.url}/admin/api/keys`, { headers });
      assert.equal(stillIn.status, 200);
      assert.equal((await stillIn.json()).keys.length, 4);

      // Unknown paths get a styled 404 page.
      const missing = await page.goto(`${h.url}/admin/nope`);
      assert.equal(missing?.status(), 404);
      await screenshot(page, "admin_not_found");
      errors.length = 0; // the 404 above is logged as a console error by design
      await page.goto(`${h.url}/admin/keys`);

      // Sign out through the page's form (carries the CSRF token); the old cookie stops working.
      await Promise.all([page.waitForURL(/\/admin\/login$/), page.click('[data-action="logout"]')]);
      await page.goto(`${h.url}/admin/keys`);
      assert.match(page.url(), /\/admin\/login/);
      const revoked = await fetch(`${h.url}/admin/api/keys`, { headers });
      assert.equal(revoked.status, 401);
      await revoked.body?.cancel();
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      await browser.close();
      await h.close();
    }
  },
});
