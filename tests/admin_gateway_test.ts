import assert from "node:assert/strict";
import type { Page } from "./support/sdk/playwright.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { buildIslands } from "../scripts/build_islands.ts";
import { collectPageErrors, launchBrowser, screenshot } from "./support/browser.ts";
import { coolDown, fakeKey, startHarness } from "./support/harness.ts";

const ADMIN = "test-admin-token-123456";

async function login(page: Page, url: string, next = "/admin") {
  await page.goto(`${url}${next}`);
  assert.match(page.url(), /\/admin\/login/);
  await page.fill("#token", ADMIN);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith("/login")),
    page.click("button[type=submit]"),
  ]);
}

async function generate(url: string, token: string, model: string) {
  const res = await fetch(`${url}/v1beta/models/${model}:generateContent`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": token },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test({
  name: "admin panel on a real gateway: keys, live cooldown, settings, tokens, logs, dashboard (Chromium)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildIslands({ verbose: false });
    const h = await startHarness({ keys: [fakeKey(1), fakeKey(2), fakeKey(3)] });
    const browser = await launchBrowser();
    try {
      for (let i = 0; i < 4; i++) assert.equal(await generate(h.url, h.token, "gemini-2.5-flash"), 200);
      assert.equal(await generate(h.url, h.token, "gemini-2.5-pro"), 200);
      const context = await browser.newContext({ viewport: { width: 1360, height: 1010 } });
      const page = await context.newPage();
      const errors = collectPageErrors(page);

      // Wrong password is refused; the right one lands on the dashboard.
      await page.goto(`${h.url}/admin`);
      await page.fill("#token", "not-the-admin-token");
      const [refused] = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
      assert.equal(refused?.status(), 401);
      assert.match(await page.locator(".alert").innerText(), /not valid/);
      errors.length = 0; // the 401 page load is logged as a console error by design
      await login(page, h.url);
      await page.waitForSelector('body[data-islands-hydrated="1"]');
      await page.waitForSelector("[data-dashboard] .chart canvas");
      assert.equal(await page.locator('[data-keys="active"]').innerText(), "3 active");
      assert.match(await page.locator("[data-by-model]").innerText(), /gemini-2\.5-flash/);
      await screenshot(page, "admin_dashboard");

      // Keys: paste many keys at once; added and rejected are shown with reasons.
      await page.goto(`${h.url}/admin/keys`);
      await page.waitForSelector('[data-link="live"]');
      await page.click('[data-action="add-keys"]');
      await page.fill(
        "#add-text",
        `${fakeKey(10)}\n${fakeKey(11)}\nnot-a-key-at-all-xxxxxxxxxxxxxxxxx\n${fakeKey(1)}`,
      );
      await page.fill("#add-label", "Batch B");
      await page.click('[data-action="add-submit"]');
      await page.waitForSelector("[data-add-result]");
      assert.equal(await page.locator("[data-added-count]").innerText(), "2");
      const rejected = await page.locator("[data-rejected]").allInnerTexts();
      assert.ok(rejected.some((r) => /already in the pool/.test(r)), rejected.join("\n"));
      await screenshot(page, "admin_keys_add");
      await page.keyboard.press("Escape");
      await page.waitForSelector('[data-count="all"]:text("5")');

      // A key cools down after load and frees up again without a reload.
      const id = keyId(fakeKey(1));
      await page.evaluate(() => (globalThis as unknown as { marker: number }).marker = 7);
      coolDown(h, id, "gemini-2.5-flash", { ms: 2500 });
      await page.waitForSelector(`tr[data-key-id="${id}"] [data-state="cooling"]`);
      assert.match(await page.locator(`tr[data-key-id="${id}"] [data-countdown]`).innerText(), /^[0-3]s$/);
      await screenshot(page, "admin_keys_live");
      await page.waitForSelector(`tr[data-key-id="${id}"] [data-state="active"]`, { timeout: 10_000 });
      assert.equal(await page.evaluate(() => (globalThis as unknown as { marker: number }).marker), 7);

      // A long cooldown is cleared with "Reset cooldowns".
      coolDown(h, id, "gemini-2.5-pro", { ms: 3_600_000, window: "day", reason: "rpd" });
      await page.waitForSelector(`tr[data-key-id="${id}"] [data-state="cooling"]`);
      await page.click(`tr[data-key-id="${id}"] [data-row-action="reset"]`);
      await page.waitForSelector(`tr[data-key-id="${id}"] [data-state="active"]`);

      // Filter by state through the API, then verify the selection with a progress bar.
      await page.click('[data-filter="active"]');
      await page.waitForFunction(() => new URL(location.href).searchParams.get("state") === "active");
      // Typed slowly, across the page's 1 s re-renders: nothing typed is lost.
      await page.locator('input[type="search"]').pressSequentially("Batch B", { delay: 180 });
      await page.waitForFunction(() => document.querySelectorAll("tr[data-key-id]").length === 2);
      await page.click('th.check input[type="checkbox"]');
      await page.click('[data-bulk="verify"]');
      await page.waitForSelector('[data-verify="done"]');
      assert.match(await page.locator("[data-verify-summary]").innerText(), /^2 \/ 2/);

      // Set project and limits on both selected keys at once.
      await page.click('[data-bulk="edit"]');
      await page.fill("#edit-project", "proj-batch");
      await page.click('button:has-text("Add limit")');
      await page.fill('[aria-label="Model"]', "gemini-2.5-flash");
      await page.fill('[aria-label="Requests per minute"]', "5");
      await screenshot(page, "admin_keys_edit", { fullPage: false });
      await page.click('[data-action="edit-save"]');
      await page.waitForFunction(() =>
        document.querySelector("[data-notice]")?.textContent?.includes("Saved 2 keys.")
      );
      const batch = h.gw.pool.get(keyId(fakeKey(11)));
      assert.equal(batch?.project, "proj-batch");
      assert.equal(batch?.label, "Batch B", "fields left alone stay as they were");
      assert.deepEqual(batch?.limits?.["gemini-2.5-flash"], { rpm: 5 });
      await page.waitForFunction(
        (sel) => document.querySelector(sel)?.textContent?.includes("gemini-2.5-flash: 5 rpm"),
        `tr[data-key-id="${keyId(fakeKey(11))}"]`,
      );

      // Disable one key; it leaves the "active" filter and shows up under "disabled" with its reason.
      const batchId = keyId(fakeKey(10));
      await page.click(`tr[data-key-id="${batchId}"] [data-row-action="disable"]`);
      await page.waitForFunction((sel) => !document.querySelector(sel), `tr[data-key-id="${batchId}"]`);
      await page.click('[data-filter="disabled"]');
      await page.fill('input[type="search"]', "");
      await page.waitForSelector(`tr[data-key-id="${batchId}"] [data-reason]`);
      assert.match(await page.locator(`tr[data-key-id="${batchId}"] [data-reason]`).innerText(), /admin/);

      // Delete asks first.
      await page.click(`tr[data-key-id="${batchId}"] [data-row-action="delete"]`);
      await page.click('[data-action="confirm"]');
      await page.waitForSelector("[data-empty]");
      await screenshot(page, "admin_keys_empty_filter");
      assert.equal(h.gw.pool.get(batchId), undefined);

      // Settings: a pinned field is read-only with its reason; a bad value shows the server's error inline.
      await page.goto(`${h.url}/admin/settings`);
      await page.waitForSelector('body[data-islands-hydrated="1"]');
      assert.match(await page.locator('[data-field="maxWaitMs"] [data-pinned]').innerText(), /MAX_WAIT_MS/);
      assert.equal(await page.locator("#setting-maxWaitMs").isDisabled(), true);
      // Sections and secrets come from the settings schema: client tokens and proxy URLs stay hidden.
      assert.deepEqual(
        await page.locator("[data-secret]").evaluateAll((els) =>
          els.map((e) => e.getAttribute("data-secret"))
        ),
        ["allowedTokens", "proxies", "webhookUrl"],
      );
      assert.equal(await page.locator('#group-models [data-field="allowPrivateImageHosts"]').count(), 1);
      assert.equal(await page.locator('#group-upstream [data-field="proxies"]').count(), 1);
      await page.fill("#setting-maxAttempts", "0");
      await page.click('[data-action="save"]');
      await page.waitForSelector('[data-error-for="maxAttempts"]');
      await screenshot(page, "admin_settings_error", { fullPage: false });
      errors.splice(0, errors.length, ...errors.filter((e) => !/status of 400/.test(e))); // the refused save above
      await page.fill("#setting-maxAttempts", "4");
      await page.fill("#setting-aliases", '{"house-model": "gemini-2.5-pro"}');
      await page.click('[data-action="save"]');
      await page.waitForSelector('[data-save-status]:text("Saved 2 settings")');
      assert.equal(h.gw.settings.current.maxAttempts, 4);
      h.mock.reset();
      assert.equal(await generate(h.url, h.token, "house-model"), 200);
      assert.equal(h.mock.requests.at(-1)?.model, "gemini-2.5-pro");
      await page.evaluate(() => scrollTo(0, 0));
      await screenshot(page, "admin_settings", { fullPage: false });

      // Tokens: create one (shown once), use it, see it listed.
      await page.goto(`${h.url}/admin/tokens`);
      await page.waitForSelector('body[data-islands-hydrated="1"]');
      await page.waitForSelector("[data-empty]");
      await screenshot(page, "admin_tokens_empty");
      await page.click('[data-action="new-token"]');
      await page.fill("#token-name", "ci-app");
      await page.fill("#token-models", "gemini-2.5-flash");
      await page.fill("#token-rpm", "60");
      await page.click('[data-action="create-token"]');
      await page.waitForSelector("[data-created-token]");
      const secret = await page.inputValue("#new-token");
      assert.ok(secret.length >= 20);
      assert.equal(await generate(h.url, secret, "gemini-2.5-flash"), 200);
      await page.waitForSelector('tr[data-token="ci-app"]');
      await screenshot(page, "admin_tokens");
      assert.equal(await generate(h.url, secret, "gemini-2.5-pro"), 403, "model allow-list applies");

      // Logs: filter by token, open an entry.
      await page.goto(`${h.url}/admin/logs`);
      await page.waitForSelector("tr[data-log-id]");
      assert.match(await page.locator("[data-retention]").innerText(), /kept for/);
      await page.fill('[data-log-filters] input[name="token"]', "ci-app");
      await page.click('[data-action="filter"]');
      await page.waitForFunction(() =>
        [...document.querySelectorAll("tr[data-log-id]")].every((r) => r.textContent?.includes("ci-app"))
      );
      await screenshot(page, "admin_logs");
      await page.click('[data-log-kind="error"]');
      await page.waitForSelector('tr[data-log-id] [data-status="403"]');
      await page.locator("tr[data-log-id]").first().click();
      await page.waitForSelector("[data-log-detail]");
      await screenshot(page, "admin_log_detail", { fullPage: false });
      await page.keyboard.press("Escape");

      await page.goto(`${h.url}/admin`);
      await page.waitForSelector("[data-dashboard] .chart canvas");
      await page.emulateMedia({ colorScheme: "dark" });
      await screenshot(page, "admin_dashboard_dark");
      await page.emulateMedia({ colorScheme: "light" });

      // Revoke the token (asks first); it stops working.
      await page.goto(`${h.url}/admin/tokens`);
      await page.click('[data-revoke="ci-app"]');
      await page.click('[data-action="confirm"]');
      await page.waitForSelector('tr[data-token="ci-app"] [data-token-state="Revoked"]');
      assert.equal(await generate(h.url, secret, "gemini-2.5-flash"), 401);

      // Sign out.
      await Promise.all([page.waitForURL(/\/admin\/login$/), page.click('[data-action="logout"]')]);
      await page.goto(`${h.url}/admin/keys`);
      assert.match(page.url(), /\/admin\/login/);
      assert.deepEqual(errors, []);
      await context.close();
    } catch (err) {
      // Keep what the browser showed when a step failed.
      for (const ctx of browser.contexts()) for (const p of ctx.pages()) await screenshot(p, "admin_failure");
      throw err;
    } finally {
      await browser.close();
      await h.close();
    }
  },
});
