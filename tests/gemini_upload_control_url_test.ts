/**
 * QA: Google's resumable-upload start answer carries two session URLs, `x-goog-upload-url` and
 * `x-goog-upload-control-url` (for the `query` and `cancel` commands). The gateway rewrites the first
 * to itself but passes the second through unchanged, so the client (and, through CORS, which exposes
 * it, a browser page) is handed the upstream's address (UPSTREAM_BASE_URL, possibly an internal
 * proxy) and a way to drive the session around the gateway.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";

Deno.test("both upload session URLs of a resumable start point at the gateway", async () => {
  const h = await startHarness();
  try {
    const start = await fetch(`${h.url}/upload/v1beta/files`, {
      method: "POST",
      headers: {
        "x-goog-api-key": h.token,
        "content-type": "application/json",
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": "5",
        "x-goog-upload-header-content-type": "text/plain",
      },
      body: JSON.stringify({ file: { displayName: "a" } }),
    });
    await start.body?.cancel();
    assert.equal(start.status, 200);
    const upload = start.headers.get("x-goog-upload-url") ?? "";
    const control = start.headers.get("x-goog-upload-control-url");
    assert.ok(upload.startsWith(`${h.url}/upload/`), upload);
    assert.ok(control !== null, "Google's header is kept");
    assert.ok(!control.startsWith(h.mock.url), `the upstream's address reaches the client: ${control}`);
    assert.ok(control.startsWith(`${h.url}/upload/`), control);
    // The control URL is a session URL like the upload URL: Google's `query` command works without a key.
    const query = await fetch(control, { method: "POST", headers: { "x-goog-upload-command": "query" } });
    await query.body?.cancel();
    assert.equal(query.status, 200);
    assert.equal(query.headers.get("x-goog-upload-status"), "active");
    assert.equal(query.headers.get("x-goog-upload-size-received"), "0");
  } finally {
    await h.close();
  }
});
