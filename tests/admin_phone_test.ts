/**
 * Any screen, two languages (Chromium): at 390 px no page scrolls sideways (tables become cards or
 * scroll inside their box, dialogs fit, the navigation collapses behind a menu button), the same pages
 * at desktop size, and the panel in Simplified Chinese from the browser's language and the switch.
 * Screenshots are saved under tests/screenshots/ (phone_*, desktop_*, zh_*).
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "./support/sdk/playwright.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { buildIslands } from "../scripts/build_islands.ts";
import { collectPageErrors, launchBrowser, screenshot, signIn } from "./support/browser.ts";
import { ADMIN_TOKEN, adminApi } from "./support/admin_api.ts";
import { coolDown, fakeKey, type Harness, startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";
import { fakeVertexKey } from "./support/mock_vertex.ts";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
const PAGES = ["", "/keys", "/settings", "/tokens", "/logs"] as const;

/** A Vertex AI express key in the pool (never called: its upstream is a closed loopback port). */
const VERTEX_KEY = fakeVertexKey(5);

/** A gateway with traffic, refusals, learned limits, tokens, an env key, a Vertex key, prices and audit entries. */
async function busyGateway(): Promise<Harness> {
  const keys = [fakeKey(1), fakeKey(2), fakeKey(3)];
  const h = await startHarness({
    keys,
    env: {
      PRICES: JSON.stringify({ "gemini-2.5-*": { input: 0.3, output: 2.5 } }),
      KEY_KIND_ROUTING: "gemini_first",
      VERTEX_BASE_URL: "http://127.0.0.1:9",
    },
  });
  const admin = adminApi(h);
  await admin("POST", "/keys", {
    text: fakeKey(4),
    label: "A rather long label for a pasted key",
    project: "prj",
  });
  await admin("POST", "/keys", { text: `vertex:${VERTEX_KEY}`, label: "Vertex express" });
  await admin("POST", "/keys/update", {
    ids: [keyId(keys[0])],
    label: "Production",
    limits: { "gemini-2.5-pro": { rpm: 5, rpd: 100 } },
  });
  await admin("POST", "/tokens", {
    name: "mobile-app",
    models: ["gemini-2.5-flash"],
    rpm: 60,
    dailyTokens: 100000,
  });
  await admin("POST", "/tokens", { name: "batch-jobs-with-a-long-name" });
  for (let i = 0; i < 5; i++) (await nativeGenerate(h, { token: h.token })).body?.cancel();
  for (let i = 0; i < 3; i++) (await nativeGenerate(h, { token: `wrong-token-${i}` })).body?.cancel();
  (await nativeGenerate(h, { token: h.token, model: "gemini-no-such-model" })).body?.cancel();
  h.gw.pool.report(keyId(keys[1]), "gemini-2.5-flash", {
    kind: "cooldown",
    window: "minute",
    until: Date.now() + 45_000,
    limit: 10,
    reason: "Quota exceeded for quota metric 'Generate Content requests per minute'",
  });
  coolDown(h, keyId(keys[2]), "gemini-2.5-pro", { ms: 3 * 3600_000, window: "day", reason: "daily quota" });
  h.gw.pool.setEnabled(keyId(fakeKey(4)), false, "API key not valid. Please pass a valid API key.");
  h.gw.refusals.flush();
  return h;
}

/** Elements that stick out of the viewport sideways without a scrolling box of their own to hold them. */
function overflow(page: Page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const heldBy = (el: Element) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const ox = getComputedStyle(p).overflowX;
        if (ox === "auto" || ox === "scroll" || ox === "hidden" || ox === "clip") {
          const r = p.getBoundingClientRect();
          return r.left >= -1 && r.right <= vw + 1;
        }
      }
      return false;
    };
    const bad: string[] = [];
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if ((r.right > vw + 1 || r.left < -1) && !heldBy(el)) {
        bad.push(
          `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} [${Math.round(r.left)}, ${
            Math.round(r.right)
          }]`,
        );
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, vw, bad: bad.slice(0, 8) };
  });
}

async function assertFits(page: Page, what: string) {
  const o = await overflow(page);
  assert.deepEqual(o.bad, [], `${what}: elements wider than the ${o.vw} px viewport`);
  assert.ok(o.scrollWidth <= o.vw, `${what}: the page scrolls sideways (${o.scrollWidth} > ${o.vw})`);
}

async function assertDialogFits(page: Page, what: string, viewport: { width: number; height: number }) {
  const box = await page.locator('[role="dialog"]').boundingBox();
  assert.ok(box, `${what}: a dialog is open`);
  assert.ok(box.x >= 0 && box.x + box.width <= viewport.width + 1, `${what}: dialog ${JSON.stringify(box)}`);
  assert.ok(
    box.y >= 0 && box.y + box.height <= viewport.height + 1,
    `${what}: dialog ${JSON.stringify(box)}`,
  );
  await assertFits(page, what);
}

/** Opens a dialog with `open`, checks it fits `viewport`, saves a screenshot and closes it. */
async function checkDialog(page: Page, name: string, viewport: typeof PHONE, open: () => Promise<void>) {
  await open();
  await assertDialogFits(page, name, viewport);
  await screenshot(page, name.replaceAll(" ", "_"), { fullPage: false });
  await page.keyboard.press("Escape");
}

async function hydrated(page: Page) {
  await page.waitForSelector("body[data-islands-hydrated]");
}

async function visitAll(page: Page, url: string, prefix: string) {
  for (const path of PAGES) {
    await page.goto(`${url}/admin${path}`);
    await hydrated(page);
    if (path === "") await page.waitForSelector("[data-capacity]");
    if (path === "/logs") await page.waitForSelector("tr[data-log-id]");
    await assertFits(page, `${prefix} ${path || "/"}`);
    await screenshot(page, `${prefix}_${path.slice(1) || "dashboard"}`);
  }
}

Deno.test({
  name:
    "phone (390 px) and desktop: no page scrolls sideways, tables become cards, dialogs fit, the menu collapses (Chromium)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildIslands({ verbose: false });
    const h = await busyGateway();
    const browser = await launchBrowser();
    const contexts: BrowserContext[] = [];
    try {
      const phone = await browser.newContext({
        viewport: PHONE,
        isMobile: true,
        hasTouch: true,
        locale: "en-US",
      });
      contexts.push(phone);
      const page = await phone.newPage();
      const errors = collectPageErrors(page);

      await page.goto(`${h.url}/admin/login`);
      await assertFits(page, "phone login");
      await screenshot(page, "phone_login");
      await signIn(page, h.url, ADMIN_TOKEN);

      // The navigation is behind the menu button on a phone.
      await hydrated(page);
      assert.equal(await page.locator("[data-nav-panel]").isVisible(), false);
      await page.click("[data-menu-button]");
      assert.equal(await page.locator('[data-nav-panel] a[href="/admin/tokens"]').isVisible(), true);
      await screenshot(page, "phone_menu_open", { fullPage: false });
      await page.click('[data-nav-panel] a[href="/admin/keys"]');
      await page.waitForURL(/\/admin\/keys$/);
      assert.equal(
        await page.locator("[data-nav-panel]").isVisible(),
        false,
        "closed again on the next page",
      );

      await visitAll(page, h.url, "phone");

      // Tables turn into cards: the key table's header row is hidden and each cell names its column.
      await page.goto(`${h.url}/admin/keys`);
      await hydrated(page);
      assert.equal(await page.locator(".keys-table thead").isVisible(), false);
      const label = await page.locator(`tr[data-key-id="${keyId(fakeKey(1))}"] td[data-label]`).first()
        .evaluate((td) => getComputedStyle(td, "::before").content);
      assert.equal(label, '"Key"');
      // A Vertex AI express key is marked as one, and masked like every key.
      const vertexRow = page.locator(`tr[data-key-id="${keyId(`vertex:${VERTEX_KEY}`)}"]`);
      assert.equal(await vertexRow.locator(".key-kind").innerText(), "Vertex AI express");
      assert.equal(await vertexRow.locator(".key-masked").innerText(), "AQ.A…vvv5");
      assert.ok(!(await page.content()).includes(VERTEX_KEY), "no full key in the page");

      // Dialogs fit the phone.
      await checkDialog(page, "phone keys add", PHONE, () => page.click('[data-action="add-keys"]'));
      await checkDialog(page, "phone keys export", PHONE, async () => {
        await page.click('[data-action="export-keys"]');
        await page.check("[data-export-full]");
      });
      await checkDialog(page, "phone keys edit", PHONE, async () => {
        await page.click(`tr[data-key-id="${keyId(fakeKey(1))}"] [data-row-action="edit"]`);
        await page.click('button:has-text("Add limit")');
      });
      await page.goto(`${h.url}/admin/tokens`);
      await hydrated(page);
      await checkDialog(
        page,
        "phone tokens rotate",
        PHONE,
        () => page.click('tr[data-token="mobile-app"] [data-token-action="rotate"]'),
      );
      await page.click('tr[data-token="mobile-app"] [data-token-action="edit"]');
      await page.waitForSelector('[data-token-form="edit"]');
      await assertFits(page, "phone token edit form");
      await screenshot(page, "phone_tokens_edit");

      await page.goto(`${h.url}/admin/logs`);
      await page.waitForSelector("tr[data-log-id]");
      await checkDialog(page, "phone log detail", PHONE, async () => {
        await page.locator("tr[data-log-id] td:first-child").first().click(); // not a filter link in the row
        await page.waitForSelector("[data-log-detail]");
      });
      await page.click('[data-log-kind="audit"]');
      await page.waitForSelector("[data-audit] tr[data-audit-action]");
      await assertFits(page, "phone audit log");
      await screenshot(page, "phone_logs_audit");

      await page.emulateMedia({ colorScheme: "dark" });
      await page.goto(`${h.url}/admin`);
      await page.waitForSelector("[data-capacity]");
      await screenshot(page, "phone_dashboard_dark");
      assert.deepEqual(errors, []);

      // Desktop: the same pages, the sidebar always open, no menu button.
      const desktop = await browser.newContext({ viewport: DESKTOP, locale: "en-US" });
      contexts.push(desktop);
      const big = await desktop.newPage();
      const bigErrors = collectPageErrors(big);
      await signIn(big, h.url, ADMIN_TOKEN);
      await hydrated(big);
      assert.equal(await big.locator("[data-menu-button]").isVisible(), false);
      assert.equal(await big.locator("[data-nav-panel]").isVisible(), true);
      await visitAll(big, h.url, "desktop");
      assert.equal(await big.locator(".keys-table thead").count(), 0, "the keys page is not open now");
      await big.goto(`${h.url}/admin/keys`);
      await hydrated(big);
      assert.equal(await big.locator(".keys-table thead").isVisible(), true, "a real table on a desktop");
      assert.deepEqual(bigErrors, []);
    } catch (err) {
      for (const ctx of contexts) for (const p of ctx.pages()) await screenshot(p, "phone_failure");
      throw err;
    } finally {
      await browser.close();
      await h.close();
    }
  },
});

Deno.test({
  name:
    "the panel in Simplified Chinese: from the browser's language, with a switch; phone and desktop (Chromium)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildIslands({ verbose: false });
    const h = await busyGateway();
    const browser = await launchBrowser();
    try {
      const zhPhone = await browser.newContext({ viewport: PHONE, locale: "zh-CN", isMobile: true });
      const page = await zhPhone.newPage();
      const errors = collectPageErrors(page);
      await page.goto(`${h.url}/admin/login`);
      assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
      assert.equal(await page.locator("h1").innerText(), "登录");
      await screenshot(page, "zh_phone_login");
      await signIn(page, h.url, ADMIN_TOKEN);
      await hydrated(page);
      await page.waitForSelector("[data-capacity]");
      assert.match(await page.locator('[data-stat="refused"] .stat-label').innerText(), /已拒绝/);
      assert.match(await page.locator("[data-refusals]").innerText(), /客户端令牌错误/);
      await assertFits(page, "zh phone dashboard");
      await screenshot(page, "zh_phone_dashboard");
      await page.goto(`${h.url}/admin/keys`);
      await hydrated(page);
      // Live parts rendered in the browser speak Chinese too (the countdown, states).
      await page.waitForSelector(`tr[data-key-id="${keyId(fakeKey(2))}"] [data-countdown]`);
      assert.match(
        await page.locator(`tr[data-key-id="${keyId(fakeKey(2))}"] [data-countdown]`).innerText(),
        /^\d+ 秒$/,
      );
      assert.equal(
        await page.locator(`tr[data-key-id="${keyId(fakeKey(2))}"] [data-state]`).innerText(),
        "冷却中",
      );
      assert.equal(
        await page.locator(`tr[data-key-id="${keyId(`vertex:${VERTEX_KEY}`)}"] .key-kind`).innerText(),
        "Vertex AI 快速模式",
      );
      await assertFits(page, "zh phone keys");
      await screenshot(page, "zh_phone_keys");
      await page.goto(`${h.url}/admin/settings`);
      await hydrated(page);
      assert.match(
        await page.locator('[data-field="maxAttempts"] .setting-name').innerText(),
        /最大尝试次数/,
      );
      await assertFits(page, "zh phone settings");
      await screenshot(page, "zh_phone_settings", { fullPage: false });
      assert.deepEqual(errors, []);

      // The switch: English on a Chinese browser, kept across pages, and back.
      const desk = await browser.newContext({ viewport: DESKTOP, locale: "zh-CN" });
      const big = await desk.newPage();
      await signIn(big, h.url, ADMIN_TOKEN);
      await hydrated(big);
      assert.equal(await big.locator("h1").innerText(), "仪表盘");
      await screenshot(big, "zh_desktop_dashboard");
      await big.goto(`${h.url}/admin/logs`);
      await big.waitForSelector("tr[data-log-id]");
      await screenshot(big, "zh_desktop_logs");
      await Promise.all([big.waitForURL(/\/admin\/logs$/), big.click('[data-lang-switch] [data-lang="en"]')]);
      assert.equal(await big.getAttribute("html", "lang"), "en");
      assert.equal(await big.locator("h1").innerText(), "Logs");
      await big.goto(`${h.url}/admin/tokens`);
      assert.equal(await big.locator("h1").innerText(), "Tokens", "the choice is kept");
      await Promise.all([
        big.waitForURL(/\/admin\/tokens$/),
        big.click('[data-lang-switch] [data-lang="zh-CN"]'),
      ]);
      assert.equal(await big.locator("h1").innerText(), "令牌");
    } finally {
      await browser.close();
      await h.close();
    }
  },
});
