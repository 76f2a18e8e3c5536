import assert from "node:assert/strict";
import { encodeSpeechAudio, parsePcmMime, pcmToWav } from "../lib/features/audio_encode.ts";
import { defaultFeatureSettings } from "../lib/features/settings.ts";
import { mapSpeechRequest, resolveVoice, speechAudioFromResponse } from "../lib/features/tts.ts";
import { GatewayError } from "../lib/http/errors.ts";

const settings = defaultFeatureSettings();

function is400(param: string) {
  return (e: unknown) => {
    assert.ok(e instanceof GatewayError);
    assert.equal(e.status, 400);
    assert.equal(e.options.param, param);
    return true;
  };
}

Deno.test("speech request maps to a Gemini TTS body", () => {
  const m = mapSpeechRequest(
    { model: "tts-1", input: "Hello", voice: "nova", response_format: "wav" },
    { settings },
  );
  assert.equal(m.model, "gemini-2.5-flash-preview-tts");
  assert.equal(m.format, "wav");
  assert.deepEqual(m.body, {
    contents: [{ role: "user", parts: [{ text: "Hello" }] }],
    generationConfig: {
      responseModalities: ["AUDIO"],
      speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: "Aoede" } } },
    },
  });
  const hd = mapSpeechRequest({ model: "tts-1-hd", input: "x", voice: "puck", speed: 1.5 }, { settings });
  assert.equal(hd.model, "gemini-2.5-pro-preview-tts");
  assert.equal(hd.format, "wav", "default format is wav (mp3 cannot be produced)");
  assert.match(hd.notes.join(" "), /speed/);
  const g = mapSpeechRequest(
    { model: "gemini-2.5-flash-preview-tts", input: "x", voice: { id: "Charon" } },
    { settings },
  );
  assert.equal(g.model, "gemini-2.5-flash-preview-tts");
  const instr = mapSpeechRequest(
    { model: "gpt-4o-mini-tts", input: "Hi", instructions: "Say cheerfully" },
    { settings },
  );
  assert.deepEqual(instr.body.contents, [{ role: "user", parts: [{ text: "Say cheerfully:\nHi" }] }]);
});

Deno.test("voices: OpenAI names map, Gemini names pass through, unknown is a 400", () => {
  assert.equal(resolveVoice("alloy"), "Kore");
  assert.equal(resolveVoice("ONYX"), "Fenrir");
  assert.equal(resolveVoice("zephyr"), "Zephyr");
  assert.throws(() => resolveVoice("bob"), is400("voice"));
});

Deno.test("bad requests give clear 400s", () => {
  assert.throws(
    () => mapSpeechRequest({ model: "tts-1", input: "x", response_format: "mp3" }, { settings }),
    (e) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.status, 400);
      assert.match(e.message, /wav, pcm/);
      return true;
    },
  );
  assert.throws(() => mapSpeechRequest({ model: "tts-1" }, { settings }), is400("input"));
  assert.throws(
    () => mapSpeechRequest({ model: "gemini-2.5-flash", input: "x" }, { settings }),
    is400("model"),
  );
});

Deno.test("WAV header parses back correctly", () => {
  const pcm = new Uint8Array([1, 0, 2, 0, 3, 0, 0xff, 0x7f]);
  const b64 = btoa(String.fromCharCode(...pcm));
  const { bytes, contentType } = encodeSpeechAudio({
    audio: b64,
    mimeType: "audio/L16;codec=pcm;rate=24000",
    format: "wav",
  });
  assert.equal(contentType, "audio/wav");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const str = (o: number) => String.fromCharCode(...bytes.subarray(o, o + 4));
  assert.equal(str(0), "RIFF");
  assert.equal(v.getUint32(4, true), bytes.length - 8);
  assert.equal(str(8), "WAVE");
  assert.equal(str(12), "fmt ");
  assert.equal(v.getUint32(16, true), 16);
  assert.equal(v.getUint16(20, true), 1, "PCM");
  assert.equal(v.getUint16(22, true), 1, "mono");
  assert.equal(v.getUint32(24, true), 24000);
  assert.equal(v.getUint32(28, true), 48000, "byte rate");
  assert.equal(v.getUint16(32, true), 2, "block align");
  assert.equal(v.getUint16(34, true), 16);
  assert.equal(str(36), "data");
  assert.equal(v.getUint32(40, true), pcm.length);
  assert.deepEqual(bytes.subarray(44), pcm);
  const stereo = pcmToWav(new Uint8Array(4), { sampleRate: 16000, channels: 2, bitsPerSample: 16 });
  assert.equal(new DataView(stereo.buffer).getUint32(28, true), 64000);
});

Deno.test("pcm output is raw and chunks are concatenated", () => {
  const { bytes, contentType } = encodeSpeechAudio({
    audio: ["AQI=", "AwQ="],
    mimeType: "audio/L16;rate=16000",
    format: "pcm",
  });
  assert.deepEqual(bytes, new Uint8Array([1, 2, 3, 4]));
  assert.equal(contentType, "audio/pcm;rate=16000");
  assert.deepEqual(parsePcmMime("audio/L16;codec=pcm;rate=24000"), {
    sampleRate: 24000,
    channels: 1,
    bitsPerSample: 16,
  });
  assert.throws(() => encodeSpeechAudio({ audio: "", mimeType: "audio/L16", format: "flac" }), GatewayError);
});

Deno.test("speechAudioFromResponse collects audio parts or fails with 502", () => {
  const audio = speechAudioFromResponse({
    candidates: [{
      content: { parts: [{ inlineData: { mimeType: "audio/L16;codec=pcm;rate=24000", data: "AAAA" } }] },
    }],
  });
  assert.deepEqual(audio, { data: ["AAAA"], mimeType: "audio/L16;codec=pcm;rate=24000" });
  assert.throws(() => speechAudioFromResponse({ candidates: [{ finishReason: "SAFETY" }] }), (e) => {
    assert.ok(e instanceof GatewayError);
    assert.equal(e.status, 502);
    assert.match(e.message, /SAFETY/);
    return true;
  });
});

Deno.test("speech models: an alias resolves through the prepare step's resolver; the family table decides TTS", () => {
  const resolve = (m: string) =>
    ({ voice: "gemini-2.5-flash-preview-tts", chat: "gemini-2.5-flash" })[m] ?? m;
  const aliased = mapSpeechRequest({ model: "voice", input: "x" }, { settings, resolve });
  assert.equal(aliased.model, "gemini-2.5-flash-preview-tts");
  assert.throws(() => mapSpeechRequest({ model: "chat", input: "x" }, { settings, resolve }), is400("model"));
  const newer = mapSpeechRequest({ model: "models/gemini-3.1-flash-tts-preview", input: "x" }, { settings });
  assert.equal(newer.model, "gemini-3.1-flash-tts-preview", "a TTS family the table knows");
});
