/**
 * The operator's second pass in the browser (Chromium), at phone and desktop sizes: refusals and
 * capacity on the dashboard, keys imported from a file and exported (masked, and in full after the
 * admin token), an environment key's delete explained and ignored, learned limits with their time to
 * free, a client token edited and rotated, the audit log, and a backup downloaded and restored.
 */
import assert from "node:assert/strict";
import type { Page } from "./support/sdk/playwright.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { buildIslands } from "../scripts/build_islands.ts";
import { collectPageErrors, launchBrowser, screenshot, signIn } from "./support/browser.ts";
import { ADMIN_TOKEN } from "./support/admin_api.ts";
import { fakeKey, startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";

const SIZES = [
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true },
  { name: "desktop", viewport: { width: 1280, height: 900 }, isMobile: false },
] as const;

/** Saves the file a click downloads and answers its text. */
async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent("download"), click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: await Deno.readTextFile(path!) };
}

for (const size of SIZES) {
  Deno.test({
    name: `operator features in the browser at ${size.name} size (Chromium)`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await buildIslands({ verbose: false });
      const envKeys = [fakeKey(1), fakeKey(2)];
      const h = await startHarness({ keys: envKeys });
      const other = await startHarness({ keys: [fakeKey(9)] });
      const browser = await launchBrowser();
      const dir = await Deno.makeTempDir({ prefix: "gw_features_" });
      try {
        const context = await browser.newContext({
          viewport: size.viewport,
          isMobile: size.isMobile,
          acceptDownloads: true,
          locale: "en-US",
        });
        const page = await context.newPage();
        const errors = collectPageErrors(page);
        const shot = (name: string, fullPage = true) =>
          screenshot(page, `features_${size.name}_${name}`, { fullPage });

        // Traffic: a few served requests, refusals, a client error, a 429 that teaches a limit. The
        // learned per-minute limit counts within the clock's minute: start early in one, so the dashboard
        // is read before that minute ends (across its end the key is free again and shows 1 / 1).
        const intoMinute = Date.now() % 60_000;
        if (intoMinute > 30_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
        h.mock.setKey(envKeys[0], { rpm: 1 });
        for (let i = 0; i < 4; i++) (await nativeGenerate(h, { token: h.token })).body?.cancel();
        for (let i = 0; i < 2; i++) (await nativeGenerate(h, { token: "not-a-token" })).body?.cancel();
        (await nativeGenerate(h, { token: h.token, model: "gemini-no-such-model" })).body?.cancel();
        await signIn(page, h.url, ADMIN_TOKEN);

        // Dashboard: refusals apart from failures, by reason; capacity with the learned limit.
        await page.waitForSelector("[data-capacity]");
        assert.equal(await page.locator("[data-refused]").innerText(), "2");
        assert.match(await page.locator("[data-client-errors]").innerText(), /1 client errors/);
        assert.match(
          await page.locator('[data-refusal="invalid_token"]').innerText(),
          /Wrong client token\s+2/,
        );
        assert.match(
          await page.locator('[data-capacity-model="gemini-2.5-flash"] [data-minute]').innerText(),
          /0\s*\/ 1/,
        );
        assert.equal(
          await page.locator("[data-capacity-members]").innerText(),
          "Figures of 1 gateway member (a worker or instance on this KV).",
          "the members the capacity figures cover",
        );
        await shot("dashboard");

        // Keys: the env keys are marked; the learned limit frees at a time shown.
        await page.goto(`${h.url}/admin/keys`);
        await page.waitForSelector('[data-link="live"]');
        assert.equal(await page.locator("[data-env-key]").count(), 2);
        const first = `tr[data-key-id="${keyId(envKeys[0])}"]`;
        assert.match(
          await page.locator(`${first} [data-quota="gemini-2.5-flash"]`).innerText(),
          /1 rpm \(learned\)/,
        );
        assert.match(
          await page.locator(`${first} [data-free-in="gemini-2.5-flash"]`).innerText(),
          /^free in \d+s$/,
        );

        // Import from a text file.
        const file = `${dir}/keys.txt`;
        await Deno.writeTextFile(
          file,
          `# from the old server\n${fakeKey(3)}\n${fakeKey(4)}, junk-value-that-is-long-enough\n`,
        );
        await page.click('[data-action="add-keys"]');
        await page.setInputFiles("[data-key-file]", file);
        await page.waitForFunction(() =>
          (document.querySelector("#add-text") as HTMLTextAreaElement).value.includes("AIza")
        );
        await page.click('[data-action="add-submit"]');
        await page.waitForSelector("[data-add-result]");
        assert.equal(await page.locator("[data-added-count]").innerText(), "2");
        await shot("keys_import", false);
        await page.keyboard.press("Escape");
        await page.waitForSelector('[data-count="all"]:text("4")');

        // Export: masked, then in full with the admin token (a file that pastes back).
        await page.click('[data-action="export-keys"]');
        const masked = await downloaded(page, () => page.click('[data-action="export-submit"]'));
        assert.equal(masked.name, "gemini-keys-all-masked.txt");
        assert.ok(!masked.text.includes(fakeKey(3)) && masked.text.includes("AIza…xxx3"));
        await page.check("[data-export-full]");
        await page.fill("[data-export-token]", ADMIN_TOKEN);
        await shot("keys_export", false);
        const full = await downloaded(page, () => page.click('[data-action="export-submit"]'));
        assert.deepEqual(full.text.trim().split("\n").toSorted(), [1, 2, 3, 4].map(fakeKey).toSorted());
        await page.waitForSelector("[data-export-done]");
        await page.keyboard.press("Escape");

        // Deleting an env key says it comes back at the next start, and can be ignored.
        await page.click(`tr[data-key-id="${keyId(envKeys[1])}"] [data-row-action="delete"]`);
        assert.match(await page.locator("[data-env-note]").innerText(), /comes back at the next start/);
        await page.check("[data-ignore-env]");
        await shot("keys_delete_env", false);
        await page.click('[data-action="confirm"]');
        await page.waitForFunction(
          (sel) => !document.querySelector(sel),
          `tr[data-key-id="${keyId(envKeys[1])}"]`,
        );
        assert.ok((await h.gw.store.ignoredEnvKeys()).has(keyId(envKeys[1])));

        // Tokens: create, edit (limits and name), rotate with a grace period: both secrets work.
        await page.goto(`${h.url}/admin/tokens`);
        await page.waitForSelector("body[data-islands-hydrated]");
        await page.click('[data-action="new-token"]');
        await page.fill("#token-name", "phone-app");
        await page.fill("#token-rpm", "1");
        await page.click('[data-action="create-token"]');
        const secret = await page.inputValue("#new-token");
        await page.click('tr[data-token="phone-app"] [data-token-action="edit"]');
        await page.fill("#token-name", "phone-app-v2");
        await page.fill("#token-rpm", "");
        await page.fill("#token-models", "gemini-2.5-flash");
        await shot("tokens_edit", false);
        await page.click('[data-action="save-token"]');
        await page.waitForSelector('tr[data-token="phone-app-v2"]');
        assert.equal(h.gw.tokens.byName("phone-app-v2")?.rpm, undefined);
        assert.deepEqual(h.gw.tokens.byName("phone-app-v2")?.models, ["gemini-2.5-flash"]);
        await page.click('tr[data-token="phone-app-v2"] [data-token-action="rotate"]');
        await page.selectOption("[data-grace-select]", String(3_600_000));
        await page.click('[data-action="rotate"]');
        await page.waitForSelector('[data-created-token] h2:text("New secret")');
        const rotated = await page.inputValue("#new-token");
        assert.notEqual(rotated, secret);
        await page.waitForSelector('tr[data-token="phone-app-v2"] [data-grace]');
        for (const tok of [secret, rotated]) {
          const r = await nativeGenerate(h, { token: tok });
          await r.body?.cancel();
          assert.equal(r.status, 200);
        }
        await shot("tokens_rotated");

        // Logs: the refusals (grouped) and the audit log of everything done above.
        h.gw.refusals.flush();
        await page.goto(`${h.url}/admin/logs`);
        await page.waitForSelector("tr[data-log-id]");
        await page.selectOption('[data-log-filters] select[name="outcome"]', "refused");
        await page.click('[data-action="filter"]');
        await page.waitForSelector('tr[data-log-id] [data-refusal="invalid_token"]');
        assert.match(await page.locator("tr[data-log-id] [data-source]").first().innerText(), /127\.0\.0\.1/);
        await shot("logs_refused");
        await page.click('[data-log-kind="audit"]');
        // The table shows at once (empty while the entries load): wait for the entries themselves.
        await page.waitForSelector("[data-audit] tr[data-audit-action]");
        const actions = await page.locator("tr[data-audit-action]").evaluateAll((rows) =>
          rows.map((r) => r.getAttribute("data-audit-action"))
        );
        for (
          const a of [
            "signin",
            "keys.add",
            "keys.export",
            "keys.delete",
            "tokens.create",
            "tokens.update",
            "tokens.rotate",
          ]
        ) {
          assert.ok(actions.includes(a), `${a} in ${actions.join(", ")}`);
        }
        assert.match(
          await page.locator('tr[data-audit-action="keys.export"]').first().innerText(),
          /IN FULL/,
        );
        await shot("logs_audit");

        // Backup (the admin token again), then restore it on another gateway.
        await page.goto(`${h.url}/admin/settings`);
        await page.waitForSelector("[data-backup]");
        await page.fill("[data-backup-token]", ADMIN_TOKEN);
        const backup = await downloaded(page, () => page.click('[data-action="backup"]'));
        assert.match(backup.name, /^gemini-gateway-backup-\d{4}-\d{2}-\d{2}\.json$/);
        await page.locator("[data-backup]").scrollIntoViewIfNeeded();
        await shot("settings_backup", false);
        const backupFile = `${dir}/${backup.name}`;
        await Deno.writeTextFile(backupFile, backup.text);
        await signIn(page, other.url, ADMIN_TOKEN);
        await page.goto(`${other.url}/admin/settings`);
        await page.waitForSelector("[data-backup]");
        await page.setInputFiles("[data-restore-file]", backupFile);
        await page.waitForSelector("[data-restore-report]");
        assert.match(
          await page.locator("[data-restore-report]").innerText(),
          /Added 3 keys.*added 1 tokens/s,
        );
        assert.ok(other.gw.pool.get(keyId(fakeKey(3))));
        const r = await nativeGenerate(other, { token: rotated });
        await r.body?.cancel();
        assert.equal(r.status, 200, "the token works on the other gateway");
        await shot("settings_restored", false);
        assert.deepEqual(errors.filter((e) => !/status of 4\d\d/.test(e)), []);
      } catch (err) {
        for (const ctx of browser.contexts()) {
          for (const p of ctx.pages()) await screenshot(p, `features_${size.name}_failure`);
        }
        throw err;
      } finally {
        await browser.close();
        await h.close();
        await other.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
