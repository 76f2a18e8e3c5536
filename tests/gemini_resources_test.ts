/**
 * Every resource Google keeps per project stays with the key that created it: batches (create, six
 * polls, results download), Veo's long-running operations (create, six polls, video download, raw and
 * through @google/genai), async embedding batches and file search stores; the `/download/` path is
 * routed; and a request naming several files uploaded by one client works (or gets a clear 400 when
 * they ended up in different projects). The mock upstream answers another project's key as Google
 * does (403 for files, 404 for batches, operations and stores).
 */
import assert from "node:assert/strict";
import { GenerateVideosOperation, GoogleGenAI } from "./support/sdk/genai.ts";
import { coolDown, type Harness, startHarness } from "./support/harness.ts";
import { MP4_BYTES } from "./support/mock_gemini_jobs.ts";
import { keyId } from "../lib/pool/key_record.ts";

const POLLS = 6;
const PENDING = 3;

function headers(h: Harness, extra: Record<string, string> = {}): Record<string, string> {
  return { "x-goog-api-key": h.token, "content-type": "application/json", ...extra };
}

async function getJson(h: Harness, path: string) {
  const res = await fetch(`${h.url}${path}`, { headers: headers(h) });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

async function postJson(h: Harness, path: string, body: unknown, token = h.token) {
  const res = await fetch(`${h.url}${path}`, {
    method: "POST",
    headers: { ...headers(h), "x-goog-api-key": token },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** A resumable upload through the gateway (start, then upload+finalize), as the SDKs do it. */
async function upload(
  h: Harness,
  o: { bytes: string; mimeType: string; displayName: string; token?: string },
): Promise<{ name: string; uri: string }> {
  const token = o.token ?? h.token;
  const start = await fetch(`${h.url}/upload/v1beta/files`, {
    method: "POST",
    headers: {
      "x-goog-api-key": token,
      "content-type": "application/json",
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-command": "start",
      "x-goog-upload-header-content-length": String(o.bytes.length),
      "x-goog-upload-header-content-type": o.mimeType,
    },
    body: JSON.stringify({ file: { displayName: o.displayName } }),
  });
  assert.equal(start.status, 200, await start.text());
  const done = await fetch(start.headers.get("x-goog-upload-url")!, {
    method: "POST",
    headers: {
      "x-goog-api-key": token,
      "x-goog-upload-command": "upload, finalize",
      "x-goog-upload-offset": "0",
    },
    body: o.bytes,
  });
  assert.equal(done.status, 200);
  return (await done.json()).file;
}

/** Keys the mock saw for requests whose path matches. */
function keysFor(h: Harness, path: RegExp): Set<string | null> {
  return new Set(h.mock.requests.filter((r) => path.test(r.path)).map((r) => r.key));
}

Deno.test("a file batch: upload, create, six polls and the results download all use the key that owns them", async () => {
  const h = await startHarness({ mock: { pendingPolls: PENDING } });
  try {
    const lines = ["one", "two"].map((t, i) =>
      JSON.stringify({ key: `r${i}`, request: { contents: [{ role: "user", parts: [{ text: t }] }] } })
    );
    const input = await upload(h, {
      bytes: lines.join("\n"),
      mimeType: "application/jsonl",
      displayName: "in",
    });
    const created = await postJson(h, "/v1beta/models/gemini-2.5-flash:batchGenerateContent", {
      batch: { displayName: "nightly", inputConfig: { fileName: input.name } },
    });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.match(created.json.name, /^batches\//);
    const states: string[] = [];
    let last: { done?: boolean; response?: { responsesFile?: string } } = {};
    for (let i = 0; i < POLLS; i++) {
      last = await getJson(h, `/v1beta/${created.json.name}`);
      states.push((last as { metadata: { state: string } }).metadata.state);
    }
    assert.deepEqual(states, [
      ...Array(PENDING).fill("BATCH_STATE_RUNNING"),
      ...Array(POLLS - PENDING).fill("BATCH_STATE_SUCCEEDED"),
    ]);
    assert.equal(last.done, true);
    const resultsFile = last.response!.responsesFile!;
    assert.match(resultsFile, /^files\/batch-/);
    const results = await fetch(`${h.url}/download/v1beta/${resultsFile}:download?alt=media`, {
      headers: headers(h),
    });
    assert.equal(results.status, 200);
    const out = (await results.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(out.map((o) => o.key), ["r0", "r1"]);
    assert.equal(out[1].response.candidates[0].content.parts[0].text, "echo: two");
    const used = keysFor(h, /files|batch|download/);
    assert.equal(used.size, 1, `every call went to the owning key, got ${[...used].join(", ")}`);
  } finally {
    await h.close();
  }
});

Deno.test("Veo: predictLongRunning, six polls of models/…/operations/…, then the video downloads (redirect and /download/)", async () => {
  const h = await startHarness({ mock: { pendingPolls: PENDING } });
  try {
    const created = await postJson(h, "/v1beta/models/veo-3.0-generate-001:predictLongRunning", {
      instances: [{ prompt: "a cat on a skateboard" }],
    });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const name: string = created.json.name;
    assert.match(name, /^models\/veo-3\.0-generate-001\/operations\//);
    const done: boolean[] = [];
    let op: {
      done?: boolean;
      response?: { generateVideoResponse: { generatedSamples: { video: { uri: string } }[] } };
    } = {};
    for (let i = 0; i < POLLS; i++) {
      op = await getJson(h, `/v1beta/${name}`);
      done.push(op.done === true);
    }
    assert.deepEqual(done, [false, false, false, true, true, true]);
    const uri = new URL(op.response!.generateVideoResponse.generatedSamples[0].video.uri);
    // What curl users do with Google's own URI: same path and query, the gateway's origin.
    for (const path of [uri.pathname, `/download${uri.pathname}`]) {
      const video = await fetch(`${h.url}${path}${uri.search}`, { headers: headers(h) });
      assert.equal(video.status, 200, path);
      assert.equal(video.headers.get("content-type"), "video/mp4");
      assert.deepEqual(new Uint8Array(await video.arrayBuffer()), MP4_BYTES);
    }
    const used = keysFor(h, /veo|files/);
    assert.equal(used.size, 1, `every call went to the owning key, got ${[...used].join(", ")}`);
  } finally {
    await h.close();
  }
});

Deno.test("Veo through @google/genai: getVideosOperation polls and files.download", async () => {
  const h = await startHarness({ mock: { pendingPolls: PENDING } });
  const dir = await Deno.makeTempDir();
  try {
    const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
    // @google/genai 3.x creates videos only on Vertex AI; the Gemini API call is the REST one.
    const created = await postJson(h, "/v1beta/models/veo-3.0-generate-001:predictLongRunning", {
      instances: [{ prompt: "waves at dusk" }],
    });
    let operation: GenerateVideosOperation = Object.assign(new GenerateVideosOperation(), {
      name: created.json.name as string,
    });
    let polls = 0;
    while (!operation.done && polls < POLLS) {
      operation = await ai.operations.getVideosOperation({ operation });
      polls++;
    }
    assert.equal(operation.done, true);
    assert.equal(polls, PENDING + 1);
    const video = operation.response!.generatedVideos![0].video!;
    const downloadPath = `${dir}/video.mp4`;
    await ai.files.download({ file: video, downloadPath });
    // The SDK's writer finishes after the promise resolves on some runtimes: wait for the bytes.
    for (
      let i = 0;
      i < 50 && (await Deno.stat(downloadPath).catch(() => null))?.size !== MP4_BYTES.length;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await Deno.readFile(downloadPath), MP4_BYTES);
    assert.equal(keysFor(h, /veo|files/).size, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await h.close();
  }
});

Deno.test("async embedding batches and file search stores stay with their key", async () => {
  const h = await startHarness({ mock: { pendingPolls: 1 } });
  try {
    const requests = ["a", "b"].map((t) => ({
      request: { content: { parts: [{ text: t }] } },
      metadata: { t },
    }));
    const batch = await postJson(h, "/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent", {
      batch: { displayName: "emb", inputConfig: { requests: { requests } } },
    });
    assert.equal(batch.status, 200, JSON.stringify(batch.json));
    for (let i = 0; i < 3; i++) await getJson(h, `/v1beta/${batch.json.name}`);
    const store = await postJson(h, "/v1beta/fileSearchStores", { displayName: "Manuals" });
    assert.equal(store.status, 200);
    assert.match(store.json.name, /^fileSearchStores\/manuals-/);
    for (let i = 0; i < 3; i++) await getJson(h, `/v1beta/${store.json.name}`);
    const asked = await postJson(h, "/v1beta/models/gemini-2.5-flash:generateContent", {
      contents: [{ role: "user", parts: [{ text: "what does the manual say?" }] }],
      tools: [{ fileSearch: { fileSearchStoreNames: [store.json.name] } }],
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.json));
    assert.equal(keysFor(h, /asyncBatchEmbedContent|batches\//).size, 1);
    const storeKeys = new Set(
      h.mock.requests.filter((r) => r.path.includes("fileSearchStores") || r.bodyText.includes("fileSearch"))
        .map((r) => r.key),
    );
    assert.equal(storeKeys.size, 1);
  } finally {
    await h.close();
  }
});

Deno.test("two uploads by one client, then one request naming both: served by the key that holds both", async () => {
  const h = await startHarness();
  try {
    const a = await upload(h, { bytes: "first file", mimeType: "text/plain", displayName: "a" });
    const b = await upload(h, { bytes: "second file", mimeType: "text/plain", displayName: "b" });
    const res = await postJson(h, "/v1beta/models/gemini-2.5-flash:generateContent", {
      contents: [{
        role: "user",
        parts: [
          { fileData: { mimeType: "text/plain", fileUri: a.uri } },
          { fileData: { mimeType: "text/plain", fileUri: b.uri } },
          { text: "compare them" },
        ],
      }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(keysFor(h, /files|generateContent/).size, 1);
  } finally {
    await h.close();
  }
});

Deno.test("files that ended up on keys of different projects: a clear 400, nothing sent upstream", async () => {
  const h = await startHarness();
  try {
    const a = await upload(h, { bytes: "first file", mimeType: "text/plain", displayName: "a" });
    const home = h.mock.requests.at(-1)!.key!;
    // The client's home key cannot serve for a while: the next upload goes to another key.
    coolDown(h, keyId(home), "*", { ms: 60_000 });
    const b = await upload(h, { bytes: "second file", mimeType: "text/plain", displayName: "b" });
    assert.notEqual(h.mock.requests.at(-1)!.key, home);
    const before = h.mock.requests.length;
    const res = await postJson(h, "/v1beta/models/gemini-2.5-flash:generateContent", {
      contents: [{
        role: "user",
        parts: [{ fileData: { fileUri: a.uri } }, { fileData: { fileUri: b.uri } }, { text: "compare" }],
      }],
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.status, "INVALID_ARGUMENT");
    assert.match(
      res.json.error.message,
      new RegExp(`names ${a.name} and ${b.name}, which were created with different`),
    );
    assert.equal(h.mock.requests.length, before);
  } finally {
    await h.close();
  }
});
