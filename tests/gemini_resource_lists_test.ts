/**
 * QA: Google keeps files and cached contents per project, and the gateway keeps one client token's
 * uploads and caches on one key (its home key). Listing them must then ask that key: today
 * `GET /v1beta/files` and `GET /v1beta/cachedContents` go round robin, so right after uploading a
 * file, two of three `files.list()` calls of the same client come back without it.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { startHarness } from "./support/harness.ts";

const LISTINGS = 3;

Deno.test("files.list() after files.upload(): every listing by the same client shows the file", async () => {
  const h = await startHarness();
  try {
    const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
    const file = await ai.files.upload({
      file: new Blob(["hello world"], { type: "text/plain" }),
      config: { displayName: "notes" },
    });
    const seen: string[][] = [];
    for (let i = 0; i < LISTINGS; i++) {
      const names: string[] = [];
      for await (const f of await ai.files.list()) names.push(String(f.name));
      seen.push(names);
    }
    assert.deepEqual(seen, Array(LISTINGS).fill([file.name]), JSON.stringify(seen));
  } finally {
    await h.close();
  }
});

Deno.test("caches.list() after caches.create(): every listing by the same client shows the cache", async () => {
  const h = await startHarness();
  try {
    const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
    const cache = await ai.caches.create({
      model: "gemini-2.5-flash",
      config: { contents: [{ role: "user", parts: [{ text: "long context ".repeat(50) }] }], ttl: "600s" },
    });
    const seen: string[][] = [];
    for (let i = 0; i < LISTINGS; i++) {
      const names: string[] = [];
      for await (const c of await ai.caches.list()) names.push(String(c.name));
      seen.push(names);
    }
    assert.deepEqual(seen, Array(LISTINGS).fill([cache.name]), JSON.stringify(seen));
  } finally {
    await h.close();
  }
});
