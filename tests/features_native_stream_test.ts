/**
 * Smoother and keep-alive on the Gemini-native SSE route, through the gateway to the mock: the raw
 * stream shows what they did, the official @google/genai SDK still assembles the same answer.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import { type Harness, startHarness } from "./support/harness.ts";

type Obj = Record<string, unknown>;

/** One long word: the mock streams text word by word, so this arrives as one large delta. */
const WORD = Array.from({ length: 30 }, (_, i) => `word${String(i).padStart(2, "0")}-`).join("");
/** The prompt: a few short words first (the mock only streams word by word from three words on). */
const LONG = `a b ${WORD}`;
const EXPECTED = `echo: ${LONG}`;
const UNSMOOTHED = ["echo: ", "a ", "b ", WORD];

async function rawSse(h: Harness, text: string, model = "gemini-2.5-flash"): Promise<string> {
  const r = await fetch(`${h.url}/v1beta/models/${model}:streamGenerateContent?alt=sse`, {
    method: "POST",
    headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text }] }] }),
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /text\/event-stream/);
  return await r.text();
}

/** The JSON events of an SSE body (comments skipped). */
function events(raw: string): Obj[] {
  return raw.split(/\r\n\r\n|\n\n/).filter((f) => f.startsWith("data:")).map((f) =>
    JSON.parse(f.replace(/^data: ?/gm, ""))
  );
}

function textOf(ev: Obj): string {
  const cands = ev.candidates as Array<{ content?: { parts?: Array<{ text?: string }> } }> | undefined;
  return (cands?.[0]?.content?.parts ?? []).map((p) => p.text ?? "").join("");
}

async function sdkStream(h: Harness, text: string, model = "gemini-2.5-flash") {
  const ai = new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } });
  const stream = await ai.models.generateContentStream({ model, contents: text });
  const pieces: string[] = [];
  let finish: unknown;
  let usage: unknown;
  let grounded = false;
  for await (const c of stream) {
    pieces.push(c.text ?? "");
    finish ??= c.candidates?.[0]?.finishReason;
    usage = c.usageMetadata ?? usage;
    grounded ||= !!c.candidates?.[0]?.groundingMetadata;
  }
  return { pieces, finish, usage: usage as Obj | undefined, grounded };
}

Deno.test("smoother: a large text delta arrives as several small events; the SDK assembles the same text", async () => {
  const h = await startHarness({ env: { KEEP_ALIVE_MS: "0" } });
  try {
    // Off (the default): the long word is one event.
    const plain = events(await rawSse(h, LONG));
    assert.deepEqual(plain.map(textOf), UNSMOOTHED);

    await h.gw.settings.update({ smoother: true, smootherChunkChars: 24, smootherMaxDelayMs: 2 });
    const smooth = events(await rawSse(h, LONG));
    const texts = smooth.map(textOf);
    assert.equal(texts.join(""), EXPECTED, "no text lost or repeated");
    assert.ok(texts.length >= 3 + Math.ceil(WORD.length / 24), `split into small events: ${texts.length}`);
    for (const t of texts) assert.ok(t.length <= 24, `piece longer than chunkChars: ${t.length}`);
    // Final-only fields ride on the last piece only.
    const finishes = smooth.map((e) => (e.candidates as Obj[])[0].finishReason).filter(Boolean);
    assert.deepEqual(finishes, ["STOP"]);
    assert.ok(smooth.at(-1)!.usageMetadata, "usage on the last piece");
    // The first three events are the mock's short words (usage on each); the rest are the split one.
    assert.ok(smooth.slice(3, -1).every((e) => e.usageMetadata === undefined), "not on earlier pieces");

    const viaSdk = await sdkStream(h, LONG);
    assert.equal(viaSdk.pieces.join(""), EXPECTED);
    assert.ok(viaSdk.pieces.length >= texts.length - 1, `SDK sees the pieces: ${viaSdk.pieces.length}`);
    assert.equal(viaSdk.finish, "STOP");
    assert.equal(viaSdk.usage?.candidatesTokenCount, 4, "echo: a b WORD = 4 words");

    // Grounding survives smoothing (it goes on the last piece).
    const searched = await sdkStream(h, LONG, "gemini-2.5-flash-search");
    assert.equal(searched.pieces.join(""), EXPECTED);
    assert.ok(searched.grounded);

    // Turning it off at run time: the next stream is untouched again.
    await h.gw.settings.update({ smoother: false });
    assert.deepEqual(events(await rawSse(h, LONG)).map(textOf), UNSMOOTHED);
  } finally {
    await h.close();
  }
});

/**
 * The line rule of Google's SDKs: every non-empty line of a native stream is `data: <JSON>` (the
 * Python SDK parses every non-empty line that way and fails with "Failed to parse response as JSON";
 * the older @google/generative-ai fails with "Failed to parse stream" on anything else).
 */
function assertGoogleFraming(raw: string) {
  for (const line of raw.split(/\r\n|\n/)) {
    if (!line) continue;
    assert.ok(line.startsWith("data: "), `a line that is not data: ${JSON.stringify(line)}`);
    JSON.parse(line.slice(6));
  }
}

Deno.test("native streams carry only Google's framing: no keep-alive comments on a slow stream", async () => {
  const h = await startHarness({ env: { KEEP_ALIVE_MS: "60" }, mock: { chunkDelayMs: 300 } });
  try {
    const raw = await rawSse(h, "slow answer");
    assertGoogleFraming(raw);
    assert.equal(events(raw).map(textOf).join(""), "echo: slow answer");

    const viaSdk = await sdkStream(h, "slow answer");
    assert.equal(viaSdk.pieces.join(""), "echo: slow answer");
    assert.equal(viaSdk.finish, "STOP");

    // Together with the smoother, on a long delta: re-chunked, still only Google's framing.
    await h.gw.settings.update({ smoother: true, smootherChunkChars: 40, smootherMaxDelayMs: 1 });
    const both = await rawSse(h, LONG);
    assertGoogleFraming(both);
    assert.ok(events(both).length > 3);
    assert.equal(events(both).map(textOf).join(""), EXPECTED);
    assert.equal((await sdkStream(h, LONG)).pieces.join(""), EXPECTED);

    // KEEP_ALIVE_MS pins the setting: a run-time change is refused with the variable's name.
    await assert.rejects(() => h.gw.settings.update({ keepAliveMs: 0 }), /KEEP_ALIVE_MS/);
  } finally {
    await h.close();
  }
});

Deno.test("keep-alive set at run time reaches the OpenAI route only; the JSON-array stream is never touched", async () => {
  const h = await startHarness({ mock: { chunkDelayMs: 150 } });
  try {
    await h.gw.settings.update({ keepAliveMs: 40, smoother: true, smootherChunkChars: 5 });
    assertGoogleFraming(await rawSse(h, "two words"));
    const openai = async () => {
      const r = await fetch(`${h.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "gemini-2.5-flash",
          stream: true,
          messages: [{ role: "user", content: "two words" }],
        }),
      });
      return await r.text();
    };
    assert.ok((await openai()).includes(": keep-alive"), "the next request follows the change");
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: LONG }] }] }),
    });
    const arr = JSON.parse(await r.text()) as Obj[];
    assert.deepEqual(arr.map(textOf), UNSMOOTHED, "no comments, no re-chunking in a JSON array");
    await h.gw.settings.update({ keepAliveMs: 0 });
    assert.ok(!(await openai()).includes("keep-alive"), "0 turns it off");
  } finally {
    await h.close();
  }
});
