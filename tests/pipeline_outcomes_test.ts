/**
 * Every outcome Google really sends, through the gateway with the official SDK (or raw HTTP) against
 * the mock upstream answering Google's real bodies: location/billing refusals move to another key,
 * `limit: 0` is no access, a 503 storm is Google's capacity (never the gateway's 429), a no-access
 * model gets Google's own answer, and error bodies reach native clients byte for byte.
 */
import assert from "node:assert/strict";
import { ApiError, GoogleGenAI } from "./support/sdk/genai.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";

function client(h: Harness) {
  return new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
}

const idOf = (h: Harness, key: string) => h.gw.pool.records().find((r) => r.key === key)!.id;
const body = (text: string) => JSON.stringify({ contents: [{ role: "user", parts: [{ text }] }] });

for (const location of ["unsupported", "no_billing", "free_tier_country"] as const) {
  Deno.test(`400 FAILED_PRECONDITION (${location}): retried on another key, which serves; the key is marked with Google's reason`, async () => {
    const h = await startHarness();
    try {
      h.mock.setKey(fakeKey(1), { location });
      const ai = client(h);
      for (let i = 0; i < 3; i++) {
        const res = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: `q${i}` });
        assert.equal(res.text, `echo: q${i}`);
      }
      const cd = h.gw.pool.cooldownsOf(idOf(h, fakeKey(1)));
      assert.equal(cd.length, 1);
      assert.equal(cd[0].kind, "no_access");
      assert.match(cd[0].reason, /FAILED_PRECONDITION: (User location|Gemini API free tier)/);
      assert.equal(h.mock.callsFor(fakeKey(1)), 1, "the refusing key is not tried again for the model");
      const rec = h.records.find((r) => r.tries && r.tries.length > 1)!;
      assert.equal(rec.tries![0].status, 400);
      assert.equal(rec.tries![1].reason, "served");
    } finally {
      await h.close();
    }
  });
}

Deno.test("429 with limit: 0 in the message and no quotaValue: no access for (key, model), the next key serves", async () => {
  const h = await startHarness();
  try {
    h.mock.setKey(fakeKey(1), { noFreeTier: ["gemini-2.5-pro"] });
    const ai = client(h);
    for (let i = 0; i < 3; i++) await ai.models.generateContent({ model: "gemini-2.5-pro", contents: "x" });
    const cd = h.gw.pool.cooldownsOf(idOf(h, fakeKey(1)));
    assert.deepEqual(cd.map((c) => [c.model, c.kind]), [["gemini-2.5-pro", "no_access"]]);
    assert.equal(cd[0].until, Infinity, "until a re-check, not the next Pacific midnight");
    const flash = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "y" });
    assert.equal(flash.text, "echo: y", "other models still use the key");
  } finally {
    await h.close();
  }
});

for (const shape of ["noFreeTier", "noAccess"] as const) {
  Deno.test(`no key with access to a model (${shape}): later requests get Google's own answer, not 503`, async () => {
    const h = await startHarness();
    try {
      for (let i = 1; i <= 3; i++) h.mock.setKey(fakeKey(i), { [shape]: ["gemini-2.5-pro"] });
      const send = () =>
        fetch(`${h.url}/v1beta/models/gemini-2.5-pro:generateContent`, {
          method: "POST",
          headers: { "x-goog-api-key": h.token },
          body: body("x"),
        });
      const first = await send();
      const firstText = await first.text();
      assert.equal(first.status, 429);
      assert.equal(h.mock.requests.length, 3);
      for (let i = 0; i < 2; i++) {
        const later = await send();
        assert.equal(later.status, 429, "Google's status, not the gateway's 503");
        const text = await later.text();
        assert.equal(text, firstText, "Google's body, byte for byte");
        assert.match(JSON.parse(text).error.message, /limit: 0|exceeded your current quota/);
      }
      assert.equal(h.mock.requests.length, 3, "no key is asked again");
      await assert.rejects(
        client(h).models.generateContent({ model: "gemini-2.5-pro", contents: "x" }),
        (e: unknown) => e instanceof ApiError && e.status === 429 && /quota/.test(e.message),
      );
    } finally {
      await h.close();
    }
  });
}

Deno.test("a 503 storm is Google's capacity: 503 with Retry-After, never the gateway's 429; keys stay in rotation", async () => {
  const h = await startHarness();
  try {
    const ai = client(h);
    for (let round = 0; round < 3; round++) {
      h.mock.failNext({
        status: 503,
        count: 3,
        message: round === 1
          ? undefined
          : "This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.",
      });
      const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": h.token },
        body: body("x"),
      });
      assert.equal(r.status, 503, `round ${round}`);
      assert.ok(Number(r.headers.get("retry-after")) >= 1, "Retry-After on a persisting 503");
      assert.equal((await r.json()).error.status, "UNAVAILABLE");
    }
    assert.equal(h.mock.requests.length, 9, "each round tried every key");
    for (const k of h.gw.pool.records()) {
      assert.deepEqual(h.gw.pool.cooldownsOf(k.id), [], "no key backs off");
    }
    const ok = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "after" });
    assert.equal(ok.text, "echo: after", "served at once when Google has capacity again");
    const rec = h.records.find((r) => r.status === 503)!;
    assert.deepEqual(rec.tries!.map((t) => t.status), [503, 503, 503], "each attempt logged with its reason");
    assert.match(rec.tries![0].reason, /high demand/);
    await h.gw.logs.flush();
    const logged = (await h.gw.logs.query({ status: 503 })).entries[0];
    assert.deepEqual(
      logged.tries?.map((t) => t.status),
      [503, 503, 503],
      "the request log keeps the attempts",
    );
  } finally {
    await h.close();
  }
});

Deno.test("503 once, then served: retried on another key after a short pause", async () => {
  const h = await startHarness();
  try {
    h.mock.failNext({ status: 503, count: 1 });
    const res = await client(h).models.generateContent({ model: "gemini-2.5-flash", contents: "ok" });
    assert.equal(res.text, "echo: ok");
    assert.equal(h.mock.requests.length, 2);
    assert.notEqual(h.mock.requests[0].key, h.mock.requests[1].key);
  } finally {
    await h.close();
  }
});

Deno.test("native error bodies reach the client byte for byte, keys quoted in them redacted", async () => {
  const h = await startHarness({ keys: [fakeKey(1)] });
  try {
    const direct = await fetch(`${h.mock.url}/v1beta/models/no-such-model:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": fakeKey(9) },
      body: body("x"),
    });
    const google = await direct.text();
    assert.match(google, /\n {2}"error": \{\n/, "Google pretty-prints its errors");
    const via = await fetch(`${h.url}/v1beta/models/no-such-model:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: body("x"),
    });
    assert.equal(via.status, 404);
    assert.equal(via.headers.get("content-type"), "application/json; charset=UTF-8");
    assert.equal(await via.text(), google);

    h.mock.setKey(fakeKey(1), { denied: "suspended" });
    const suspended = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token },
      body: body("x"),
    });
    const text = await suspended.text();
    assert.equal(suspended.status, 403);
    assert.ok(!text.includes(fakeKey(1)), "the key is redacted");
    const raw = await (await fetch(`${h.mock.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": fakeKey(1) },
      body: body("x"),
    })).text();
    assert.equal(text, raw.replace(fakeKey(1), "AIza…xxx1"), "the rest is Google's body unchanged");
  } finally {
    await h.close();
  }
});
