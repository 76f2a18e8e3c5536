/**
 * Vertex AI's answers in the pool: its error bodies and quota errors are classified by the same table
 * as the Gemini API's (lib/pool/classify.ts, read through lib/gemini/rpc_status.ts), and a pool of
 * Vertex express keys gets the same cooldown, disable and retry logic, end to end against the mock
 * Vertex upstream.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { classify } from "../lib/pool/classify.ts";
import { type GoogleErrorBody, parseGoogleError } from "../lib/gemini/rpc_status.ts";
import { nextPacificMidnight } from "../lib/pool/quota_clock.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { startVertexHarness, type VertexHarness } from "./support/vertex_harness.ts";
import {
  vertexInvalidKey,
  vertexKeysNotSupported,
  vertexModelNotFound,
  vertexProjectQuota,
  vertexRpcMethod,
  vertexServiceDisabled,
  vertexSharedQuota,
} from "./support/mock_vertex_wire.ts";

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

async function verdictOf(res: Response) {
  const body = parseGoogleError(await res.text()) as GoogleErrorBody;
  return classify({ status: res.status, body, now: NOW, defaultCooldownMs: 60_000 });
}

Deno.test("classify: Vertex's dynamic shared quota 429 cools the pair for the default cooldown, named as such", async () => {
  const v = await verdictOf(vertexSharedQuota());
  assert.deepEqual(v, {
    kind: "cooldown",
    window: "minute",
    until: NOW + 60_000,
    reason: "Vertex AI shared capacity exhausted (429 RESOURCE_EXHAUSTED)",
  });
});

Deno.test("classify: Vertex's project quota sentence says which window: per minute, per day", async () => {
  const minute = await verdictOf(vertexProjectQuota("gemini-2.5-pro", "minute"));
  assert.deepEqual(minute, {
    kind: "cooldown",
    window: "minute",
    until: NOW + 60_000,
    reason: "quota reached (generate_content_requests_per_minute_per_project_per_base_model)",
  });
  const day = await verdictOf(vertexProjectQuota("gemini-2.5-pro", "day"));
  assert.deepEqual(day, {
    kind: "cooldown",
    window: "day",
    until: nextPacificMidnight(NOW),
    reason: "daily quota reached (generate_content_requests_per_day_per_project_per_base_model)",
  });
});

Deno.test("classify: Vertex's 404 Publisher Model is 'no access' for a model express mode lists, the caller's error otherwise", async () => {
  assert.deepEqual(await verdictOf(vertexModelNotFound("123", "gemini-2.5-pro")), {
    kind: "no_access",
    reason: "this project has no access to gemini-2.5-pro on Vertex AI (404)",
  });
  assert.deepEqual(await verdictOf(vertexModelNotFound("123", "gemini-9-ultra")), { kind: "client_error" });
  // The shorter wording Vertex also uses (google/adk-python#833).
  const short = {
    error: {
      code: 404,
      message:
        "Publisher Model `projects/ID/locations/asia-south1/publishers/google/models/gemini-2.5-flash` not found.",
      status: "NOT_FOUND",
    },
  };
  assert.equal(classify({ status: 404, body: short, now: NOW, defaultCooldownMs: 1 }).kind, "no_access");
});

Deno.test("classify: 401 'API keys are not supported' disables a key for generate calls, but only blocks the model for :predict; an invalid key or a disabled Vertex AI API disables it", async () => {
  const generate = await verdictOf(vertexKeysNotSupported(vertexRpcMethod("v1", "generateContent")));
  assert.equal(generate.kind, "disable");
  assert.match((generate as { reason: string }).reason, /^CREDENTIALS_MISSING: API keys are not supported/);
  const predict = await verdictOf(vertexKeysNotSupported(vertexRpcMethod("v1", "predict")));
  assert.equal(predict.kind, "no_access");
  assert.match((predict as { reason: string }).reason, /Vertex AI takes no API key for Predict/);
  const invalid = await verdictOf(vertexInvalidKey());
  assert.deepEqual(invalid, {
    kind: "disable",
    reason: "API_KEY_INVALID: API key not valid. Please pass a valid API key.",
  });
  const disabled = await verdictOf(vertexServiceDisabled("123"));
  assert.equal(disabled.kind, "disable");
  assert.match((disabled as { reason: string }).reason, /^SERVICE_DISABLED: Vertex AI API has not been used/);
});

const genai = (h: VertexHarness) => new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
const vertexId = (key: string) => keyId(`vertex:${key}`);

Deno.test("an invalid Vertex key is disabled after one call, with Google's reason; the request succeeds on another", async () => {
  const h = await startVertexHarness({ vertex: 2 });
  try {
    const [bad, good] = h.vertexKeys;
    h.vertex.setKey(bad, { invalid: true });
    for (let i = 0; i < 4; i++) {
      const res = await genai(h).models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
      assert.equal(res.text, "echo: hi");
    }
    assert.equal(h.vertex.callsFor(bad), 1);
    assert.equal(h.vertex.callsFor(good), 4);
    const rec = h.gw.pool.get(vertexId(bad))!;
    assert.equal(rec.enabled, false);
    assert.match(rec.disabledReason!, /API_KEY_INVALID/);
  } finally {
    await h.close();
  }
});

Deno.test("a Vertex 429 cools the (key, model) pair and the request moves to the other key", async () => {
  const h = await startVertexHarness({ vertex: 2 });
  try {
    const [limited, other] = h.vertexKeys;
    h.vertex.setKey(limited, { rpm: 1 });
    for (let i = 0; i < 4; i++) {
      const res = await genai(h).models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
      assert.equal(res.text, "echo: hi");
    }
    assert.equal(h.vertex.callsFor(limited), 2, "one served, one 429, then left alone while cooling");
    assert.equal(h.vertex.callsFor(other), 3);
    const [cool] = h.gw.pool.cooldownsOf(vertexId(limited));
    assert.equal(cool.model, "gemini-2.5-flash");
    assert.equal(cool.kind, "minute");
    assert.match(cool.reason, /shared capacity/);
    assert.equal(h.gw.pool.get(vertexId(limited))!.enabled, true);
    // Other models keep using the key.
    await genai(h).models.generateContent({ model: "gemini-2.5-pro", contents: "hi" });
    await genai(h).models.generateContent({ model: "gemini-2.5-pro", contents: "hi" });
    assert.equal(
      h.vertex.requests.filter((r) => r.key === limited && r.model === "gemini-2.5-pro").length,
      1,
    );
  } finally {
    await h.close();
  }
});

Deno.test("a Vertex key without access to a model is left out for that model; an unknown model is the client's 404", async () => {
  const h = await startVertexHarness({ vertex: 2 });
  try {
    const [lacking] = h.vertexKeys;
    h.vertex.setKey(lacking, { noAccess: ["gemini-2.5-pro"] });
    for (let i = 0; i < 3; i++) {
      const res = await genai(h).models.generateContent({ model: "gemini-2.5-pro", contents: "hi" });
      assert.equal(res.text, "echo: hi");
    }
    assert.equal(h.vertex.requests.filter((r) => r.key === lacking).length, 1);
    assert.equal(h.gw.pool.cooldownsOf(vertexId(lacking))[0]?.kind, "no_access");
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${h.url}/v1beta/models/gemini-9-ultra:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
      });
      const body = await r.json();
      assert.equal(r.status, 404, JSON.stringify(body));
      // The Gemini API's 404 (qa4: Vertex's "Publisher Model `projects/<number>/…`" told clients the key's project).
      assert.match(body.error.message, /models\/gemini-9-ultra is not found for API version v1beta/);
      assert.doesNotMatch(JSON.stringify(body), /projects\/\d+/);
    }
    assert.equal(
      h.vertex.requests.filter((r) => r.model === "gemini-9-ultra").length,
      2,
      "one call each, no retry",
    );
    for (const k of h.vertexKeys) {
      assert.ok(
        !h.gw.pool.cooldownsOf(vertexId(k)).some((c) => c.model === "gemini-9-ultra"),
        "no key blamed",
      );
    }
  } finally {
    await h.close();
  }
});

Deno.test(":predict refused to API keys leaves the Vertex key enabled and sends embeddings to a Gemini API key", async () => {
  const h = await startVertexHarness({ gemini: 1, vertex: 1 });
  try {
    h.vertex.setKey(h.vertexKeys[0], { predictNeedsOAuth: true });
    for (let i = 0; i < 3; i++) {
      const res = await genai(h).models.embedContent({ model: "gemini-embedding-001", contents: ["alpha"] });
      assert.equal(res.embeddings?.length, 1);
    }
    const id = vertexId(h.vertexKeys[0]);
    assert.equal(h.gw.pool.get(id)!.enabled, true, "the key still serves generate calls");
    assert.deepEqual(h.gw.pool.cooldownsOf(id).map((c) => [c.model, c.kind]), [[
      "gemini-embedding-001",
      "no_access",
    ]]);
    assert.equal(h.vertex.requests.length, 1, "tried once");
    const res = await genai(h).models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
    assert.equal(res.text, "echo: hi");
  } finally {
    await h.close();
  }
});

Deno.test("a Cloud key not enabled for express mode (401) and a suspended one are disabled; the key never shows", async () => {
  const h = await startVertexHarness({ vertex: 3 });
  try {
    const [notExpress, suspended] = h.vertexKeys;
    h.vertex.setKey(notExpress, { notExpress: true });
    h.vertex.setKey(suspended, { suspended: true });
    for (let i = 0; i < 3; i++) {
      const res = await genai(h).models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
      assert.equal(res.text, "echo: hi");
    }
    const a = h.gw.pool.get(vertexId(notExpress))!;
    assert.equal(a.enabled, false);
    assert.match(a.disabledReason!, /CREDENTIALS_MISSING: API keys are not supported by this API/);
    const b = h.gw.pool.get(vertexId(suspended))!;
    assert.equal(b.enabled, false);
    assert.match(b.disabledReason!, /CONSUMER_SUSPENDED/);
    const shown = JSON.stringify([b.disabledReason, b.lastError, h.records]);
    assert.ok(
      !shown.includes(suspended),
      "the quoted key is masked in the reason, the last error and the logs",
    );
    assert.match(shown, /AQ\.A…/);
  } finally {
    await h.close();
  }
});
