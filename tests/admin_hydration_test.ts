import assert from "node:assert/strict";
import { Hono } from "hono";
import { loadBuildInfo } from "../lib/islands/build_info.ts";
import { createStaticRoutes } from "../lib/islands/static_routes.ts";
import { buildIslands } from "../scripts/build_islands.ts";
import { collectPageErrors, launchBrowser, serve } from "./support/browser.ts";

// A hand-written page driving the real client runtime bundle with tiny inline components, to check
// range hydration, shared signals and the invalid-nesting report in a real browser.
function page(clientUrl: string): string {
  const payload = {
    props: [{ count: { $gwSignal: 0 } }, { count: { $gwSignal: 0 } }, {}, { text: "never" }],
    signals: [5],
  };
  return `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<div id="host"><span id="before">B</span><!--gw-island:Count:0-->5<!--/gw-island--><span id="after">A</span><!--gw-island:Count:1-->5<!--/gw-island--><!--gw-island:Two:2-->xy<!--/gw-island--></div>
<p id="para"><!--gw-island:Broken:3--><div>bad nesting</div><!--/gw-island--></p>
<script type="module">
import { boot } from ${JSON.stringify(clientUrl)};
globalThis.seen = [];
const Count = (p) => { globalThis.seen.push(p.count); return p.count; };
const Two = () => ["x", "y"];
const Broken = (p) => p.text;
boot({ Count, Two, Broken }, ${JSON.stringify(payload)});
</script></body></html>`;
}

Deno.test({
  name: "client runtime hydrates exact marker ranges, shares signals, reports bad nesting (Chromium)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildIslands({ verbose: false });
    const build = loadBuildInfo();
    assert.ok(build, "build manifest written");
    const app = new Hono();
    app.route("/static", createStaticRoutes());
    app.get("/page", (c) => c.html(page(build.clientUrl)));
    const server = serve(app.fetch);
    const browser = await launchBrowser();
    try {
      const tab = await browser.newPage();
      const errors = collectPageErrors(tab);
      await tab.goto(`${server.url}/page`);
      await tab.waitForSelector("body[data-islands-hydrated]");
      assert.equal(await tab.getAttribute("body", "data-islands-hydrated"), "3");
      assert.equal(errors.length, 1, errors.join("\n"));
      assert.match(errors[0], /Island Broken: its start and end markers ended up in different elements/);

      const host = () => tab.evaluate(() => document.getElementById("host")!.innerHTML);
      const expected = (n: number) =>
        `<span id="before">B</span><!--gw-island:Count:0-->${n}<!--/gw-island--><span id="after">A</span>` +
        `<!--gw-island:Count:1-->${n}<!--/gw-island--><!--gw-island:Two:2-->xy<!--/gw-island-->`;
      assert.equal(await host(), expected(5));
      assert.equal(
        await tab.evaluate(() => document.getElementById("host")!.lastChild!.nodeType),
        8,
        "nodes an island adds go before its end marker",
      );

      const same = await tab.evaluate(() => {
        const seen = (globalThis as unknown as { seen: Array<{ value: number }> }).seen;
        seen[0].value = 7;
        return seen[0] === seen[1];
      });
      assert.equal(same, true, "one signal object for both islands");
      await tab.waitForFunction(() => document.getElementById("host")!.textContent === "B7A7xy");
      assert.equal(await host(), expected(7));
      assert.equal(await tab.evaluate(() => document.getElementById("para")!.textContent), "");
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
