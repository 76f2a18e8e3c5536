/**
 * Browsers and CORS: preflights on the API routes of every dialect are answered without a token,
 * API answers (errors too) carry the CORS headers and expose the upload URL and Retry-After, the
 * allowed origins are a setting, and `/admin` never gets any of it. Checked with raw preflights and
 * from a real page in Chromium calling the gateway cross-origin with fetch.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";
import { launchBrowser, serve } from "./support/browser.ts";

const PAGE_ORIGIN = "http://app.localhost:5173";

function preflight(url: string, o: { origin?: string; method?: string; headers: string }) {
  return fetch(url, {
    method: "OPTIONS",
    headers: {
      origin: o.origin ?? PAGE_ORIGIN,
      "access-control-request-method": o.method ?? "POST",
      "access-control-request-headers": o.headers,
    },
  });
}

Deno.test("preflights on native, upload and OpenAI routes are answered without a token; /admin gets no CORS", async () => {
  const h = await startHarness();
  try {
    const cases = [
      {
        path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        headers: "x-goog-api-key,content-type,x-goog-api-client",
      },
      { path: "/v1/models/gemini-2.5-flash:generateContent", headers: "x-goog-api-key, content-type" },
      { path: "/gemini/v1beta/models/gemini-2.5-flash:generateContent", headers: "x-goog-api-key" },
      {
        path: "/upload/v1beta/files",
        headers:
          "x-goog-api-key,x-goog-upload-protocol,x-goog-upload-command,x-goog-upload-header-content-length,x-goog-upload-header-content-type,content-type",
      },
      {
        path: "/v1/chat/completions",
        headers: "authorization,content-type,x-stainless-os,x-stainless-retry-count",
      },
      { path: "/openai/v1/embeddings", headers: "authorization,content-type" },
      { path: "/v1/messages", headers: "x-api-key,anthropic-version,anthropic-beta,content-type" },
    ];
    for (const c of cases) {
      const res = await preflight(h.url + c.path, { headers: c.headers });
      assert.equal(res.status, 204, c.path);
      await res.body?.cancel();
      assert.equal(res.headers.get("access-control-allow-origin"), "*", c.path);
      assert.match(res.headers.get("access-control-allow-methods")!, /POST/);
      const allowed = res.headers.get("access-control-allow-headers")!.split(", ");
      assert.deepEqual(allowed, c.headers.split(",").map((s) => s.trim()), c.path);
    }
    const odd = await preflight(`${h.url}/v1beta/models`, {
      method: "GET",
      headers: "x-goog-api-key,x-evil-header",
    });
    await odd.body?.cancel();
    assert.equal(
      odd.headers.get("access-control-allow-headers"),
      "x-goog-api-key",
      "unknown headers are not allowed",
    );
    assert.equal(h.mock.requests.length, 0, "preflights never go upstream");

    for (const path of ["/admin", "/admin/api/keys", "/admin/login"]) {
      const res = await preflight(h.url + path, { headers: "authorization" });
      await res.body?.cancel();
      assert.equal(res.headers.get("access-control-allow-origin"), null, path);
      const get = await fetch(h.url + path, { headers: { origin: PAGE_ORIGIN } });
      await get.body?.cancel();
      assert.equal(get.headers.get("access-control-allow-origin"), null, path);
    }
  } finally {
    await h.close();
  }
});

Deno.test("API answers carry CORS headers, errors included; the upload URL and Retry-After are exposed", async () => {
  const h = await startHarness();
  try {
    const ok = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { origin: PAGE_ORIGIN, "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal(ok.headers.get("access-control-allow-origin"), "*");
    const exposed = ok.headers.get("access-control-expose-headers")!.split(", ");
    for (const h of ["x-goog-upload-url", "retry-after"]) assert.ok(exposed.includes(h), h);

    const denied = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        origin: PAGE_ORIGIN,
        authorization: "Bearer wrong-token-000",
        "content-type": "application/json",
      },
      body: "{}",
    });
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    assert.equal(denied.headers.get("access-control-allow-origin"), "*", "a page can read the 401");
  } finally {
    await h.close();
  }
});

Deno.test("CORS_ORIGINS limits which pages may call; other origins get no CORS headers", async () => {
  const h = await startHarness({ env: { CORS_ORIGINS: `${PAGE_ORIGIN}, https://tools.example.com` } });
  try {
    const mine = await preflight(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      headers: "x-goog-api-key",
    });
    await mine.body?.cancel();
    assert.equal(mine.headers.get("access-control-allow-origin"), PAGE_ORIGIN);
    assert.match(mine.headers.get("vary")!, /Origin/);
    const other = await preflight(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      origin: "https://evil.example",
      headers: "x-goog-api-key",
    });
    await other.body?.cancel();
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const get = await fetch(`${h.url}/v1beta/models`, {
      headers: { origin: PAGE_ORIGIN, "x-goog-api-key": h.token },
    });
    await get.body?.cancel();
    assert.equal(get.headers.get("access-control-allow-origin"), PAGE_ORIGIN);
    assert.match(get.headers.get("vary")!, /Origin/);
  } finally {
    await h.close();
  }
});

Deno.test("a page in Chromium calls the gateway cross-origin: Gemini, OpenAI, a resumable upload, a 429's Retry-After", async () => {
  const key = "AIza" + "x".repeat(35);
  const h = await startHarness({ keys: [key] });
  h.mock.setKey(key, { rpm: 2 });
  const page = serve(() =>
    new Response("<!doctype html><title>app</title><p>app</p>", { headers: { "content-type": "text/html" } })
  );
  const browser = await launchBrowser();
  try {
    const tab = await browser.newPage();
    await tab.goto(page.url);
    const result = await tab.evaluate(async ({ gw, token }) => {
      const gemini = await fetch(`${gw}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: {
          "x-goog-api-key": token,
          "content-type": "application/json",
          "x-goog-api-client": "genai-js/1.0",
        },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "from the browser" }] }] }),
      }).then((r) => r.json());
      const openai = await fetch(`${gw}/v1/chat/completions`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "x-stainless-os": "Linux",
        },
        body: JSON.stringify({
          model: "gemini-2.5-flash",
          messages: [{ role: "user", content: "hello openai" }],
        }),
      }).then((r) => r.json());
      const start = await fetch(`${gw}/upload/v1beta/files`, {
        method: "POST",
        headers: {
          "x-goog-api-key": token,
          "content-type": "application/json",
          "x-goog-upload-protocol": "resumable",
          "x-goog-upload-command": "start",
          "x-goog-upload-header-content-type": "text/plain",
        },
        body: JSON.stringify({ file: { displayName: "page" } }),
      });
      const uploadUrl = start.headers.get("x-goog-upload-url");
      const done = await fetch(uploadUrl!, {
        method: "POST",
        headers: { "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
        body: "bytes from a page",
      });
      const file = (await done.json()).file;
      const limited = await fetch(`${gw}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": token, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "again" }] }] }),
      });
      return {
        gemini: gemini.candidates[0].content.parts[0].text,
        openai: openai.choices[0].message.content,
        uploadUrl,
        uploadStatus: done.headers.get("x-goog-upload-status"),
        fileName: file.name,
        limitedStatus: limited.status,
        retryAfter: limited.headers.get("retry-after"),
      };
    }, { gw: h.url, token: h.token }).catch((e) => ({ error: String(e) }));
    // The page's third model call hits the only key's per-minute limit (2 rpm): Google's 429.
    assert.ok(!("error" in result), JSON.stringify(result));
    assert.equal(result.gemini, "echo: from the browser");
    assert.equal(result.openai, "echo: hello openai");
    assert.ok(
      result.uploadUrl?.startsWith(`${h.url}/upload/v1beta/files?upload_id=`),
      result.uploadUrl ?? "",
    );
    assert.equal(result.uploadStatus, "final");
    assert.match(result.fileName, /^files\//);
    assert.equal(result.limitedStatus, 429);
    assert.match(result.retryAfter ?? "", /^\d+$/);
  } finally {
    await browser.close();
    await page.close();
    await h.close();
  }
});
