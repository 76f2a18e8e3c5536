/**
 * Each error class the OpenAI SDK raises, produced by the gateway (auth, validation) or mapped from the
 * mock upstream (unknown model, rate limits on every key, 503 on every key).
 */
import assert from "node:assert/strict";
import OpenAI, { type APIError } from "./support/sdk/openai.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";

function sdk(h: Harness, apiKey = h.token): OpenAI {
  return new OpenAI({ apiKey, baseURL: h.url + "/v1", maxRetries: 0 });
}

const MSG: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "hi" }];

async function rejects<T extends APIError>(
  p: Promise<unknown>,
  cls: new (...a: never[]) => T,
): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err}`);
    return err;
  }
  throw new assert.AssertionError({ message: `expected ${cls.name}, but the call succeeded` });
}

Deno.test("errors: a bad token is an AuthenticationError (401) and nothing goes upstream", async () => {
  const h = await startHarness();
  try {
    const err = await rejects(
      sdk(h, "wrong-token-123456").chat.completions.create({ model: "gemini-2.5-flash", messages: MSG }),
      OpenAI.AuthenticationError,
    );
    assert.equal(err.status, 401);
    assert.equal(h.mock.requests.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("errors: validation is a BadRequestError naming the field", async () => {
  const h = await startHarness();
  try {
    const err = await rejects(
      sdk(h).chat.completions.create({
        model: "gemini-2.5-flash",
        messages: MSG,
        temperature: "hot" as unknown as number,
      }),
      OpenAI.BadRequestError,
    );
    assert.equal(err.status, 400);
    assert.equal(err.param, "temperature");
    assert.match(err.message, /temperature/);
    const noMsgs = await rejects(
      sdk(h).chat.completions.create({ model: "gemini-2.5-flash", messages: [] }),
      OpenAI.BadRequestError,
    );
    assert.match(noMsgs.message, /messages/);
    assert.equal(h.mock.requests.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("errors: an unknown model is a NotFoundError", async () => {
  const h = await startHarness();
  try {
    const err = await rejects(
      sdk(h).chat.completions.create({ model: "gemini-9-ultra", messages: MSG }),
      OpenAI.NotFoundError,
    );
    assert.equal(err.status, 404);
    assert.match(err.message, /gemini-9-ultra/);
  } finally {
    await h.close();
  }
});

Deno.test("errors: every key rate limited is a RateLimitError with retry-after", async () => {
  const h = await startHarness({ keys: [fakeKey(1), fakeKey(2)] });
  try {
    h.mock.setKey(fakeKey(1), { rpm: 1 });
    h.mock.setKey(fakeKey(2), { rpm: 1 });
    const client = sdk(h);
    for (let i = 0; i < 2; i++) {
      await client.chat.completions.create({ model: "gemini-2.5-flash", messages: MSG });
    }
    const err = await rejects(
      client.chat.completions.create({ model: "gemini-2.5-flash", messages: MSG }),
      OpenAI.RateLimitError,
    );
    assert.equal(err.status, 429);
    const retryAfter = Number(err.headers?.get("retry-after"));
    assert.ok(retryAfter > 0, `retry-after header: ${err.headers?.get("retry-after")}`);
    assert.equal(err.type, "requests");
  } finally {
    await h.close();
  }
});

Deno.test("errors: 503 on every key is an InternalServerError; the pipeline tried each key", async () => {
  const h = await startHarness();
  try {
    h.mock.failNext({ status: 503, count: 10 });
    const err = await rejects(
      sdk(h).chat.completions.create({ model: "gemini-2.5-flash", messages: MSG }),
      OpenAI.InternalServerError,
    );
    assert.equal(err.status, 503);
    const keys = new Set(h.mock.requests.filter((r) => r.method === "POST").map((r) => r.key));
    assert.equal(keys.size, 3, "each key was tried once");
    const rec = h.records.findLast((r) => r.route === "openai" && r.method === "POST")!;
    assert.equal(rec.status, 503);
  } finally {
    await h.close();
  }
});
