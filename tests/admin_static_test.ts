import assert from "node:assert/strict";
import { Hono } from "hono";
import { buildInfoFrom, loadBuildInfo } from "../lib/islands/build_info.ts";
import { createStaticRoutes } from "../lib/islands/static_routes.ts";

async function fixture(): Promise<URL> {
  const dir = await Deno.makeTempDir({ prefix: "gw_static_" });
  const root = new URL(`file://${dir}/`);
  await Deno.mkdir(new URL("static/build/abc123/islands/", root), { recursive: true });
  await Deno.writeTextFile(new URL("static/admin.css", root), "body{}");
  await Deno.writeTextFile(new URL("static/favicon.svg", root), "<svg/>");
  await Deno.writeTextFile(new URL("static/secret.env", root), "X=1");
  await Deno.writeTextFile(new URL("static/build/abc123/islands/a.js", root), "export{}");
  await Deno.writeTextFile(
    new URL("static/build/manifest.json", root),
    JSON.stringify({ buildId: "abc123", client: "client.js", islands: { "islands/a.tsx": "islands/a.js" } }),
  );
  return root;
}

Deno.test("static files: immutable bundles, revalidated assets, nothing outside static/", async () => {
  const root = await fixture();
  try {
    const app = new Hono();
    app.route("/static", createStaticRoutes({ root: new URL("static/", root) }));
    const js = await app.request("/static/build/abc123/islands/a.js");
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(await js.text(), "export{}");

    const css = await app.request("/static/admin.css");
    assert.equal(css.headers.get("cache-control"), "no-cache");
    assert.equal(css.headers.get("x-content-type-options"), "nosniff");
    const etag = css.headers.get("etag")!;
    assert.equal(await css.text(), "body{}");
    const again = await app.request("/static/admin.css", { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal((await app.request("/static/favicon.svg")).headers.get("content-type"), "image/svg+xml");
    const head = await app.request("/static/admin.css", { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), "6");

    for (
      const path of [
        "/static/secret.env",
        "/static/../deno.json",
        "/static/%2e%2e/x.css",
        "/static/build/.tmp-x/a.js",
        "/static/nope.css",
        "/static/build",
        "/static/a%2F..%2Fadmin.css",
      ]
    ) {
      assert.equal((await app.request(path)).status, 404, path);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("build info: read from static/build/manifest.json, null before the first build", async () => {
  const root = await fixture();
  try {
    assert.deepEqual(loadBuildInfo({ root }), {
      buildId: "abc123",
      clientUrl: "/static/build/abc123/client.js",
      islandUrls: { "islands/a.tsx": "/static/build/abc123/islands/a.js" },
    });
    await Deno.writeTextFile(new URL("static/build/manifest.json", root), '{"buildId":"../x"}');
    assert.throws(
      () => loadBuildInfo({ root }),
      /not a valid island build manifest; re-run `deno task build`/,
    );
    await Deno.remove(new URL("static/build/manifest.json", root));
    assert.equal(loadBuildInfo({ root }), null);
    assert.equal(
      buildInfoFrom({ buildId: "z", client: "c.js", islands: {} }).clientUrl,
      "/static/build/z/c.js",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
