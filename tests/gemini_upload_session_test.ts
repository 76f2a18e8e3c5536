/**
 * The upload session URL is its own credential: Google's resumable upload sends the key only on the
 * start call; the upload and finalize calls go to the `x-goog-upload-url` without one. The gateway
 * accepts those calls without a client token when, and only when, the upload id is one it handed out
 * and the session is still open. Driven with the exact call sequence of Google's cookbook script.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";
import { envTokenName } from "../lib/tokens/token_store.ts";

const SCRIPT = new URL("./support/cookbook_file_api.sh", import.meta.url).pathname;
const CHUNK = 8 * 1024 * 1024;

Deno.test("Google's cookbook curl script uploads a two-chunk file through the gateway (chunk calls carry no key)", async () => {
  const h = await startHarness();
  const dir = await Deno.makeTempDir();
  try {
    const input = `${dir}/notes.txt`;
    const line = "The quick brown fox jumps over the lazy dog.\n";
    const text = line.repeat(Math.ceil((CHUNK + 4096) / line.length));
    await Deno.writeTextFile(input, text);
    const run = await new Deno.Command("bash", {
      args: [SCRIPT, "-a", h.token, "-i", input, "-d", "notes"],
      env: { GATEWAY_URL: h.url },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, out + new TextDecoder().decode(run.stderr));
    const json = out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1);
    const { file } = JSON.parse(json);
    assert.match(file.name, /^files\//, out);
    assert.equal(file.sizeBytes, String(text.length));
    assert.equal(file.mimeType, "text/plain");

    const uploads = h.mock.requests.filter((r) => r.path === "/upload/v1beta/files");
    assert.equal(uploads.length, 3, "start + two chunks");
    assert.deepEqual(uploads.map((r) => r.headers.get("x-goog-upload-command")), [
      "start",
      "upload",
      "upload, finalize",
    ]);
    assert.equal(new Set(uploads.map((r) => r.key)).size, 1, "one key for the whole session");
    assert.ok(uploads.every((r) => r.key?.startsWith("AIza")), "the pool's key went upstream");
    const chunkRecords = h.records.filter((r) => r.path === "/upload/v1beta/files").slice(1);
    assert.deepEqual(chunkRecords.map((r) => r.tokenName), [envTokenName(h.token), envTokenName(h.token)]);

    const used = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({
        contents: [{
          parts: [{ fileData: { mimeType: "text/plain", fileUri: file.uri } }, { text: "summarise" }],
        }],
      }),
    });
    assert.equal(used.status, 200, await used.text());
  } finally {
    await Deno.remove(dir, { recursive: true });
    await h.close();
  }
});

Deno.test("an upload id the gateway did not hand out, or whose upload ended, is refused without a token", async () => {
  const h = await startHarness();
  try {
    const chunk = (url: string, headers: Record<string, string> = {}) =>
      fetch(url, {
        method: "POST",
        headers: { "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0", ...headers },
        body: "hello",
      });
    const unknown = await chunk(
      `${h.url}/upload/v1beta/files?upload_id=AD-unknown-123&upload_protocol=resumable`,
    );
    assert.equal(unknown.status, 401);
    assert.match((await unknown.json()).error.message, /not started through this gateway/);
    const elsewhere = await chunk(`${h.url}/v1beta/files?upload_id=AD-unknown-123`);
    assert.equal(elsewhere.status, 401);
    await elsewhere.body?.cancel();
    assert.equal(h.mock.requests.length, 0, "nothing went upstream");

    const start = await fetch(`${h.url}/upload/v1beta/files`, {
      method: "POST",
      headers: {
        "x-goog-api-key": h.token,
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "content-type": "application/json",
      },
      body: "{}",
    });
    await start.body?.cancel();
    const sessionUrl = start.headers.get("x-goog-upload-url")!;
    const done = await chunk(sessionUrl);
    assert.equal(done.status, 200);
    await done.body?.cancel();
    const again = await chunk(sessionUrl);
    assert.equal(again.status, 401, "the session ended with finalize");
    await again.body?.cancel();
    const withToken = await chunk(sessionUrl, { "x-goog-api-key": h.token });
    assert.equal(
      withToken.status,
      404,
      "with a token the call goes on to Google, which knows the session ended",
    );
    await withToken.body?.cancel();
  } finally {
    await h.close();
  }
});
