/**
 * The resource-owner map on its own: which names it recognises in Google's answers, how long it keeps
 * each kind, keys of one project sharing resources, and upload sessions that end.
 */
import assert from "node:assert/strict";
import { AffinityMap, kindOf, resourceNames, UPLOAD_SESSION_TTL_MS } from "../lib/pipeline/affinity.ts";
import { ChangeFeed } from "../lib/kv/change_feed.ts";

async function withMap(
  fn: (map: AffinityMap, clock: { now: number }) => void | Promise<void>,
  sameProject?: (a: string, b: string) => boolean,
) {
  const kv = await Deno.openKv(":memory:");
  const feed = new ChangeFeed(kv, { pollMs: 0 });
  const clock = { now: Date.parse("2026-01-01T00:00:00Z") };
  try {
    await fn(new AffinityMap(kv, feed, { now: () => clock.now, sameProject }), clock);
  } finally {
    await feed.stop();
    kv.close();
  }
}

const json = new Headers({ "content-type": "application/json; charset=UTF-8" });

Deno.test("resource names of every kind Google keeps per project are recognised, model ids are not", () => {
  const text = JSON.stringify({
    tunedModel: "tunedModels/my-model-x1",
    op: "tunedModels/my-model-x1/operations/abc",
    video: "https://generativelanguage.googleapis.com/v1beta/files/3cexm3u4j2nh:download?alt=media",
    veo: "models/veo-3.0-generate-001/operations/h2a4r0nq1pk4",
    store: "fileSearchStores/manuals-8f2k1/upload/operations/up-1",
    batch: "batches/123abc",
    results: "files/batch-9z8y",
    cache: "cachedContents/c1",
    corpus: "corpora/docs-1",
    model: "models/gemini-2.5-flash",
  });
  assert.deepEqual(resourceNames(text), [
    "tunedModels/my-model-x1",
    "operations/abc",
    "files/3cexm3u4j2nh",
    "models/veo-3.0-generate-001/operations/h2a4r0nq1pk4",
    "fileSearchStores/manuals-8f2k1",
    "operations/up-1",
    "batches/123abc",
    "files/batch-9z8y",
    "cachedContents/c1",
    "corpora/docs-1",
  ]);
  assert.equal(kindOf("models/veo-3.0-generate-001/operations/x")?.collection, "models/*/operations");
  assert.equal(kindOf("fileSearchStores/a")?.gathers, true);
  assert.equal(kindOf("batches/a")?.gathers, false);
});

Deno.test("each kind is remembered for its own lifetime; an expireTime in the answer wins", async () => {
  await withMap((map, clock) => {
    const request = { method: "POST", path: "/v1beta/cachedContents", tokenName: "app" };
    const week = new Date(clock.now + 7 * 24 * 3600_000).toISOString();
    map.learn({
      request,
      keyId: "k1",
      headers: json,
      text: JSON.stringify({ name: "cachedContents/c1", expireTime: week }),
    });
    map.learn({
      request: { method: "POST", path: "/v1beta/models/gemini-2.5-flash:batchGenerateContent" },
      keyId: "k2",
      headers: json,
      text: JSON.stringify({ name: "batches/b1" }),
    });
    map.learn({
      request: { method: "POST", path: "/v1beta/fileSearchStores" },
      keyId: "k3",
      headers: json,
      text: JSON.stringify({ name: "fileSearchStores/s1" }),
    });
    clock.now += 6 * 24 * 3600_000; // six days later: files are long gone, the cache still lives
    assert.equal(map.owner("cachedContents/c1"), "k1");
    assert.equal(map.owner("batches/b1"), "k2");
    assert.equal(map.owner("fileSearchStores/s1"), "k3");
    clock.now += 2 * 24 * 3600_000;
    assert.equal(map.owner("cachedContents/c1"), undefined);
    clock.now += 30 * 24 * 3600_000;
    assert.equal(map.owner("batches/b1"), undefined);
    assert.equal(map.owner("fileSearchStores/s1"), "k3");
  });
});

Deno.test("answers of model calls teach nothing (a model may write any name); resource answers do", async () => {
  await withMap((map) => {
    const generate = { method: "POST", path: "/v1beta/models/gemini-2.5-flash:generateContent" };
    assert.equal(map.readsAnswer(generate, json), false);
    assert.equal(map.readsAnswer({ method: "GET", path: "/v1beta/models" }, json), false);
    assert.equal(
      map.readsAnswer({ method: "POST", path: "/v1beta/models/veo-3:predictLongRunning" }, json),
      true,
    );
    assert.equal(map.readsAnswer({ method: "GET", path: "/v1beta/models/veo-3/operations/x" }, json), true);
    const media = {
      method: "GET",
      path: "/download/v1beta/files/x:download",
      query: new URLSearchParams("alt=media"),
    };
    assert.equal(map.readsAnswer(media, new Headers({ "content-type": "video/mp4" })), false);
    const huge = new Headers({ "content-type": "application/json", "content-length": String(64 << 20) });
    assert.equal(map.readsAnswer({ method: "GET", path: "/v1beta/batches/b" }, huge), false);
  });
});

Deno.test("keys of one project share resources: a request naming files on both is routed, not refused", async () => {
  const project = (id: string) => id.startsWith("p1") ? "p1" : id;
  await withMap((map) => {
    map.remember("files/a", "p1-key-a");
    map.remember("files/b", "p1-key-b");
    map.remember("files/c", "other");
    const body = (names: string[]) => new TextEncoder().encode(JSON.stringify({ names }));
    const path = "/v1beta/models/m:generateContent";
    assert.deepEqual(map.route({ method: "POST", path, body: body(["files/a", "files/b"]) }), {
      pinned: "p1-key-a",
    });
    assert.throws(
      () => map.route({ method: "POST", path, body: body(["files/a", "files/c"]) }),
      /names files\/a and files\/c, which were created with different Gemini API keys/,
    );
  }, (a, b) => project(a) === project(b));
});

Deno.test("an upload session is remembered with its client token until it is finalized", async () => {
  await withMap((map, clock) => {
    const start = { method: "POST", path: "/upload/v1beta/files", tokenName: "app" };
    map.learn({
      request: start,
      keyId: "k1",
      headers: new Headers({
        "x-goog-upload-url": "https://x.test/upload/v1beta/files?upload_id=U1&upload_protocol=resumable",
      }),
    });
    assert.deepEqual(map.uploadSession("U1"), { tokenName: "app", keyId: "k1" });
    assert.deepEqual(map.route({ ...start, query: new URLSearchParams("upload_id=U1") }), { pinned: "k1" });
    // A new upload by the same client prefers the key that holds its first one.
    assert.deepEqual(map.route(start), { preferred: "k1" });
    const chunk = { ...start, query: new URLSearchParams("upload_id=U1") };
    map.learn({ request: chunk, keyId: "k1", headers: new Headers({ "x-goog-upload-status": "active" }) });
    assert.ok(map.uploadSession("U1"));
    map.learn({ request: chunk, keyId: "k1", headers: new Headers({ "x-goog-upload-status": "final" }) });
    assert.equal(map.uploadSession("U1"), undefined);
    map.learn({
      request: start,
      keyId: "k1",
      headers: new Headers({ "x-goog-upload-url": "https://x.test/upload/v1beta/files?upload_id=U2" }),
    });
    clock.now += UPLOAD_SESSION_TTL_MS + 1;
    assert.equal(map.uploadSession("U2"), undefined);
  });
});
