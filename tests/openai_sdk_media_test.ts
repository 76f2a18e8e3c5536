/**
 * Media on the OpenAI route through the SDK: text-to-speech (`/audio/speech`), image models in chat
 * (markdown data-URL answers, earlier images sent back as inlineData, whole-answer streams) and image
 * URLs in prompts (private hosts blocked unless allowed).
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { type Harness, startHarness } from "./support/harness.ts";
import { openAIEdge } from "../routes/openai.ts";
import type { Forward } from "../lib/pipeline/types.ts";
import { edgeDeps, serveEdge } from "./support/edge.ts";

function sdk(h: Harness, baseURL = h.url + "/v1"): OpenAI {
  return new OpenAI({ apiKey: h.token, baseURL, maxRetries: 0 });
}

type Json = Record<string, unknown>;

function lastBody(h: Harness): { path: string; json: Json } {
  const r = h.mock.requests.filter((x) => /:(stream)?[gG]enerateContent$/.test(x.path)).at(-1)!;
  return { path: r.path, json: r.json as Json };
}

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

Deno.test("speech: wav has a valid RIFF header; pcm is raw; the Gemini TTS request is right", async () => {
  const h = await startHarness();
  try {
    const client = sdk(h);
    const wavRes = await client.audio.speech.create({
      model: "tts-1",
      voice: "alloy",
      input: "hi",
      response_format: "wav",
    });
    assert.equal(wavRes.headers.get("content-type"), "audio/wav");
    const wav = new Uint8Array(await wavRes.arrayBuffer());
    const view = new DataView(wav.buffer);
    const ascii = (o: number) => String.fromCharCode(...wav.subarray(o, o + 4));
    assert.equal(ascii(0), "RIFF");
    assert.equal(view.getUint32(4, true), wav.length - 8);
    assert.equal(ascii(8), "WAVE");
    assert.equal(ascii(12), "fmt ");
    assert.equal(view.getUint16(20, true), 1, "PCM");
    assert.equal(view.getUint16(22, true), 1, "mono");
    assert.equal(view.getUint32(24, true), 24000);
    assert.equal(view.getUint16(34, true), 16);
    assert.equal(ascii(36), "data");
    assert.equal(view.getUint32(40, true), wav.length - 44);
    const up = lastBody(h);
    assert.equal(up.path, "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent");
    const gc = up.json.generationConfig as Json;
    assert.deepEqual(gc.responseModalities, ["AUDIO"]);
    assert.deepEqual(gc.speechConfig, { voiceConfig: { prebuiltVoiceConfig: { voiceName: "Kore" } } });
    assert.equal(h.records.at(-1)!.route, "openai");

    const pcmRes = await client.audio.speech.create({
      model: "tts-1",
      voice: "alloy",
      input: "hi",
      response_format: "pcm",
    });
    const pcm = new Uint8Array(await pcmRes.arrayBuffer());
    assert.equal(pcm.length, wav.length - 44);
    assert.deepEqual(pcm, wav.subarray(44));
  } finally {
    await h.close();
  }
});

Deno.test("speech: mp3 is a BadRequestError naming the supported formats", async () => {
  const h = await startHarness();
  try {
    const err = await sdk(h).audio.speech.create({
      model: "tts-1",
      voice: "alloy",
      input: "hi",
      response_format: "mp3",
    }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.match(err.message, /wav/);
    assert.match(err.message, /pcm/);
    assert.equal(h.mock.requests.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("image model in chat: the image comes back as a markdown data URL", async () => {
  const h = await startHarness();
  try {
    const res = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash-image",
      messages: [{ role: "user", content: "draw a cat" }],
    });
    assert.match(res.choices[0].message.content!, /!\[[^\]]*\]\(data:image\/png;base64,[A-Za-z0-9+/=]+\)/);
  } finally {
    await h.close();
  }
});

Deno.test("image model in chat, stream: answered whole (generateContent) with the markdown image", async () => {
  const h = await startHarness({ env: { KEEP_ALIVE_MS: "1" } });
  try {
    const stream = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash-image",
      messages: [{ role: "user", content: "draw a cat" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    assert.match(content, /!\[[^\]]*\]\(data:image\/png;base64,[A-Za-z0-9+/=]+\)/);
    assert.equal(lastBody(h).path, "/v1beta/models/gemini-2.5-flash-image:generateContent");
    assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === "stop"));
    assert.ok(chunks.at(-1)!.usage!.total_tokens >= 0);
    // Any chunk before the answer is an empty keep-alive delta.
    const firstReal = chunks.findIndex((c) => c.choices[0]?.delta.role === "assistant");
    for (const c of chunks.slice(0, firstReal)) assert.deepEqual(c.choices[0].delta, {});
  } finally {
    await h.close();
  }
});

Deno.test("image model in chat, stream: empty keep-alive chunks (KEEP_ALIVE_MS) while waiting", async () => {
  const h = await startHarness();
  let open!: () => void;
  const gate = new Promise<void>((r) => open = r);
  const forward: Forward = async (req) => (await gate, h.gw.forward(req));
  const edge = serveEdge(openAIEdge, edgeDeps(forward, { settings: { keepAliveMs: 1 } }));
  try {
    const stream = await sdk(h, edge.url).chat.completions.create({
      model: "gemini-2.5-flash-image",
      messages: [{ role: "user", content: "draw" }],
      stream: true,
    });
    let empties = 0;
    let content = "";
    for await (const c of stream) {
      const delta = c.choices[0].delta;
      if (Object.keys(delta).length === 0 && !c.choices[0].finish_reason) {
        assert.equal(content, "", "keep-alive chunks only come before the answer");
        if (++empties === 2) open();
      }
      content += delta.content ?? "";
    }
    assert.ok(empties >= 2);
    assert.match(content, /!\[[^\]]*\]\(data:image\/png;base64,/);
  } finally {
    open();
    await edge.shutdown();
    await h.close();
  }
});

Deno.test("image model in chat: an earlier markdown image goes back upstream as inlineData in the model turn", async () => {
  const h = await startHarness();
  try {
    await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash-image",
      messages: [
        { role: "user", content: "draw a cat" },
        { role: "assistant", content: `Here it is:\n\n![image](data:image/png;base64,${PNG})` },
        { role: "user", content: "make it blue" },
      ],
    });
    const contents = lastBody(h).json.contents as { role: string; parts: Json[] }[];
    assert.equal(contents[1].role, "model");
    assert.deepEqual(contents[1].parts, [
      { text: "Here it is:\n\n" },
      { inlineData: { mimeType: "image/png", data: PNG } },
    ]);
  } finally {
    await h.close();
  }
});

Deno.test("image URL: private hosts are blocked by default; allowPrivateImageHosts lets loopback through", async () => {
  const h = await startHarness();
  const png = Uint8Array.from(atob(PNG), (c) => c.charCodeAt(0));
  const img = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(png, { headers: { "content-type": "image/png" } }),
  );
  const url = `http://127.0.0.1:${img.addr.port}/cat.png`;
  const messages: OpenAI.ChatCompletionMessageParam[] = [{
    role: "user",
    content: [{ type: "text", text: "what" }, { type: "image_url", image_url: { url } }],
  }];
  const edge = serveEdge(openAIEdge, edgeDeps(h.gw.forward, { settings: { allowPrivateImageHosts: true } }));
  try {
    const err = await sdk(h).chat.completions.create({ model: "gemini-2.5-flash", messages })
      .then(() => null, (e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.match(err.message, /must be public http\(s\) addresses/); // one neutral error (was: "private")
    assert.equal(h.mock.requests.length, 0);

    const res = await sdk(h, edge.url).chat.completions.create({
      model: "gemini-2.5-flash",
      messages,
    });
    assert.equal(res.choices[0].message.content, "echo: what");
    const parts = (lastBody(h).json.contents as { parts: Json[] }[])[0].parts;
    assert.deepEqual(parts[1], { inlineData: { mimeType: "image/png", data: PNG } });
  } finally {
    await edge.shutdown();
    await img.shutdown();
    await h.close();
  }
});
