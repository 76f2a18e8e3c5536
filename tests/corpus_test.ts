/**
 * The recorded-response corpus (tests/corpus/, real Gemini API answers kept as public projects recorded
 * them; sources in tests/corpus/manifest.json) served by a scripted upstream, for every recording:
 *
 * - native route: the body reaches the client byte for byte, sent whole and in 7-byte pieces (error
 *   bodies, which the gateway reads to judge the key, come back as the same Google envelope);
 * - OpenAI route: the answer is right field by field (content, reasoning, tool calls, images,
 *   annotations, text signature, finish reason, usage), whole and streamed, and the stream parses in
 *   the openai SDK's stream helper; errors reach the SDK as the right APIError. A stream in which
 *   Gemini never says it is done (no candidate's finishReason, no block reason: two Firebase fixtures of
 *   failed answers) ends with an error event after what arrived, never as a complete answer.
 *
 * Recordings of Vertex AI answers (`upstream: "vertex"` in the manifest) are served at Vertex's URLs to
 * a pool of Vertex AI express keys: the native route gives them in the Gemini API's shape (the
 * documented rules of `geminiShape`), the OpenAI route as any other answer.
 *
 * The expected OpenAI fields come from the rules below (the documented mapping), not from the
 * gateway's code.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import {
  geminiShape,
  loadCorpus,
  type LoadedRecording,
  mergeEvents,
  otherMethodBody,
  type RecordedEvent,
  recordedEvents,
  wireBody,
} from "./support/corpus.ts";
import { jsonAnswer, sseResponse, startScripted } from "./support/scripted_upstream.ts";
import type { GeminiGenerateContentResponse, GeminiPart } from "../lib/gemini/types.ts";

const corpus = await loadCorpus();
const ENV = { SEARCH_LINKS: "false" };

Deno.test("the corpus has at least 30 recordings, each with its source and licence", () => {
  assert.ok(corpus.length >= 30, `${corpus.length} recordings`);
  for (const r of corpus) {
    assert.match(r.commit, /^[0-9a-f]{40}$/, r.file);
    assert.ok(r.repository && r.path && r.license, r.file);
  }
});

/** Answers the recording for its own method, and the derived body for the other one. */
function serve(r: LoadedRecording, piece?: number) {
  return (call: { method: string }) => {
    const own = call.method === r.method;
    const body = own ? wireBody(r) : otherMethodBody(r) ?? wireBody(r);
    const sse = call.method === "streamGenerateContent" && r.status === 200;
    return sse
      ? sseResponse(body, { piece, status: r.status })
      : jsonAnswer(body, { piece, status: r.status });
  };
}

// ---- Expected OpenAI fields, from the documented mapping -----------------------------------------

const FINISH: Record<string, string> = {
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
  IMAGE_SAFETY: "content_filter",
  IMAGE_PROHIBITED_CONTENT: "content_filter",
  IMAGE_RECITATION: "content_filter",
};

interface Expected {
  content: string;
  reasoning: string;
  toolCalls: Array<{ name: string; args: unknown }>;
  images: string[];
  urls: string[];
  textSignature?: string;
  finishReason: string;
  usage: { prompt: number; completion: number; total: number; cached: number; reasoning: number };
}

function rendered(p: GeminiPart, before: string): string {
  if (p.text !== undefined) return p.text;
  if (p.inlineData) {
    const sep = !before || before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
    return `${sep}![image](data:${p.inlineData.mimeType};base64,${p.inlineData.data})`;
  }
  if (p.executableCode) {
    return `\n\`\`\`${(p.executableCode.language ?? "").toLowerCase()}\n${p.executableCode.code}\n\`\`\`\n`;
  }
  if (p.codeExecutionResult?.output) return `\n\`\`\`\n${p.codeExecutionResult.output}\n\`\`\`\n`;
  return "";
}

function expected(answer: GeminiGenerateContentResponse): Expected {
  const cand = answer.candidates?.[0];
  const parts = cand?.content?.parts ?? [];
  let content = "";
  for (const p of parts) if (!p.thought) content += rendered(p, content);
  const gm = cand?.groundingMetadata;
  const urls = (gm?.groundingSupports ?? []).flatMap((s) =>
    (s.groundingChunkIndices ?? []).flatMap((i) => gm?.groundingChunks?.[i]?.web?.uri ?? [])
  );
  const calls = parts.filter((p) => p.functionCall);
  const u = answer.usageMetadata;
  const prompt = (u?.promptTokenCount ?? 0) + (u?.toolUsePromptTokenCount ?? 0);
  const completion = (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0);
  return {
    content,
    reasoning: parts.filter((p) => p.thought && p.text).map((p) => p.text).join(""),
    toolCalls: calls.map((p) => ({ name: p.functionCall!.name, args: p.functionCall!.args ?? {} })),
    images: parts.flatMap((p) =>
      p.inlineData && !p.thought && p.inlineData.mimeType.startsWith("image/")
        ? [`data:${p.inlineData.mimeType};base64,${p.inlineData.data}`]
        : []
    ),
    urls,
    textSignature: parts.find((p) => p.thoughtSignature && !p.functionCall && !p.inlineData)
      ?.thoughtSignature,
    finishReason: calls.length
      ? "tool_calls"
      : !cand && answer.promptFeedback?.blockReason
      ? "content_filter"
      : FINISH[cand?.finishReason ?? ""] ?? "stop",
    usage: {
      prompt,
      completion,
      total: u?.totalTokenCount ?? prompt + completion,
      cached: u?.cachedContentTokenCount ?? 0,
      reasoning: u?.thoughtsTokenCount ?? 0,
    },
  };
}

type Json = Record<string, unknown>;

function checkMessage(file: string, msg: Json, want: Expected) {
  assert.equal(msg.content ?? "", want.content, `${file}: content`);
  assert.equal(msg.reasoning_content ?? "", want.reasoning, `${file}: reasoning_content`);
  const calls = (msg.tool_calls as Array<{ id: string; function: { name: string; arguments: string } }>) ??
    [];
  assert.deepEqual(
    calls.map((c) => ({ name: c.function.name, args: JSON.parse(c.function.arguments) })),
    want.toolCalls,
    `${file}: tool_calls`,
  );
  for (const c of calls) assert.ok(c.id.length <= 40, `${file}: tool-call id ${c.id}`);
  assert.deepEqual(
    ((msg.images as Array<{ image_url: { url: string } }>) ?? []).map((i) => i.image_url.url),
    want.images,
    `${file}: images`,
  );
}

function checkUsage(file: string, usage: OpenAI.CompletionUsage | undefined, want: Expected) {
  assert.deepEqual(
    usage && {
      prompt: usage.prompt_tokens,
      completion: usage.completion_tokens,
      total: usage.total_tokens,
      cached: usage.prompt_tokens_details?.cached_tokens,
      reasoning: usage.completion_tokens_details?.reasoning_tokens,
    },
    want.usage,
    `${file}: usage`,
  );
}

const REQUEST = {
  model: "gemini-2.5-flash",
  messages: [{ role: "user" as const, content: "hi" }],
  reasoning_effort: "low" as const,
};

/** OpenAI's status for Google's error (an invalid key is 401 on OpenAI's side). */
function openAIStatus(r: LoadedRecording): number {
  return r.status === 400 && r.text.includes("API_KEY_INVALID") ? 401 : r.status;
}

/** The recording's model calls went to the URLs of its service (Vertex's for a Vertex recording). */
function assertServedBy(calls: ReadonlyArray<{ upstream: string }>, vertex: boolean) {
  assert.deepEqual(
    [...new Set(calls.map((c) => c.upstream))],
    [vertex ? "vertex" : "gemini"],
    "served at its URLs",
  );
}

/** What the native route answers for a Vertex recording: its events in the Gemini API's shape. */
function assertGeminiShaped(r: LoadedRecording, body: string) {
  const got = recordedEvents({ ...r, text: body, format: r.format === "json" ? "json" : "sse" });
  assert.deepEqual(
    got,
    recordedEvents(r).map(geminiShape),
    `${r.file}: the answer in the Gemini API's shape`,
  );
}

/**
 * True when Gemini said the answer is done: a block reason, or a finish reason on every candidate that
 * appeared (Candidate.finishReason: "If empty, the model has not stopped generating tokens").
 */
function saysDone(events: readonly RecordedEvent[]): boolean {
  if (events.some((e) => e.promptFeedback?.blockReason)) return true;
  const finished = new Map<number, boolean>();
  for (const e of events) {
    for (const [i, c] of (e.candidates ?? []).entries()) {
      finished.set(c.index ?? i, finished.get(c.index ?? i) === true || !!c.finishReason);
    }
  }
  return finished.size > 0 && [...finished.values()].every(Boolean);
}

for (const r of corpus) {
  // Token counts are checked with the other Vertex answers (tests/vertex_corpus_test.ts).
  if (r.method === "countTokens") continue;
  const events = recordedEvents(r);
  const failed = r.status !== 200;
  const streamError = events.find((e) => e.error)?.error;
  /** A stream (as served to the streamed test) that ends without Gemini saying it is done. */
  const cutOff = !failed && !streamError && !saysDone(events);
  const vertex = r.upstream === "vertex";
  const name = vertex ? `${r.file} via Vertex` : r.file;
  const served = { env: ENV, vertex };

  Deno.test(`corpus ${name}: native route, ${vertex ? "in the Gemini API's shape" : "byte for byte"} (whole and in 7-byte pieces)`, async () => {
    for (const piece of [undefined, 7]) {
      const h = await startScripted(serve(r, piece), served);
      try {
        const stream = r.method === "streamGenerateContent";
        const res = await fetch(
          `${h.url}/v1beta/models/gemini-2.5-flash:${r.method}${stream ? "?alt=sse" : ""}`,
          {
            method: "POST",
            headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
            body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
          },
        );
        assert.equal(res.status, r.status, r.file);
        const body = await res.text();
        assertServedBy(h.calls, vertex);
        if (failed) {
          assert.deepEqual(JSON.parse(body), JSON.parse(r.text), `${r.file}: Google's error envelope`);
        } else if (vertex) assertGeminiShaped(r, body);
        else assert.equal(body, wireBody(r), `${r.file}: the bytes as recorded`);
      } finally {
        await h.close();
      }
    }
  });

  // A Vertex stream that fails midway has no whole-answer twin: only its native and streamed tests run.
  const twinless = vertex && r.method === "streamGenerateContent" && otherMethodBody(r) === undefined;
  const wholeAnswerTest = twinless ? () => {} : Deno.test;
  wholeAnswerTest(`corpus ${name}: OpenAI route, whole answer field by field`, async () => {
    const other = otherMethodBody(r);
    if (r.method === "streamGenerateContent" && other === undefined) {
      // A stream that fails midway has no whole-answer twin; its streamed test covers it.
      assert.ok(streamError);
      return;
    }
    const h = await startScripted(serve(r), served);
    try {
      const client = new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1", maxRetries: 0 });
      const res = await client.chat.completions.create(REQUEST).then((v) => v, (e) => e);
      assertServedBy(h.calls, vertex);
      if (failed) {
        assert.ok(res instanceof OpenAI.APIError, `${r.file}: ${res}`);
        assert.equal(res.status, openAIStatus(r), r.file);
        assert.equal((res.error as Json).message, JSON.parse(r.text).error.message);
        return;
      }
      assert.ok(!(res instanceof Error), `${r.file}: ${res}`);
      const answer = r.method === "generateContent" ? events[0] : mergeEvents(events);
      const want = expected(answer);
      assert.equal(res.choices[0].finish_reason, want.finishReason, `${r.file}: finish_reason`);
      const msg = res.choices[0].message as unknown as Json;
      checkMessage(r.file, msg, want);
      assert.deepEqual(
        ((msg.annotations as Array<{ url_citation: { url: string } }>) ?? []).map((a) => a.url_citation.url),
        want.urls,
        `${r.file}: annotations`,
      );
      assert.equal(
        (msg.extra_content as Json | undefined)?.google &&
          ((msg.extra_content as Json).google as Json).thought_signature,
        want.textSignature,
        `${r.file}: text signature`,
      );
      checkUsage(r.file, res.usage, want);
    } finally {
      await h.close();
    }
  });

  Deno.test(`corpus ${name}: OpenAI route, streamed through the SDK's stream helper`, async () => {
    const h = await startScripted(serve(r, 7), served);
    try {
      const client = new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1", maxRetries: 0 });
      const stream = client.chat.completions.stream({ ...REQUEST, stream_options: { include_usage: true } });
      let reasoning = "";
      const images: Array<{ image_url: { url: string } }> = [];
      const annotations: Array<{ url_citation: { url: string } }> = [];
      let content = "";
      const error = await (async () => {
        try {
          for await (const chunk of stream) {
            const delta = (chunk.choices[0]?.delta ?? {}) as Json;
            content += (delta.content as string) ?? "";
            reasoning += (delta.reasoning_content as string) ?? "";
            images.push(...((delta.images as typeof images) ?? []));
            annotations.push(...((delta.annotations as typeof annotations) ?? []));
          }
        } catch (e) {
          return e;
        }
      })();
      assertServedBy(h.calls, vertex);
      if (failed || streamError || cutOff) {
        assert.ok(error instanceof OpenAI.APIError, `${r.file}: ${error}`);
        const message = failed
          ? JSON.parse(r.text).error.message
          : streamError
          ? streamError.message
          : "ended before Gemini finished the answer (no finishReason)";
        assert.equal(error.message.includes(message), true, `${r.file}: ${error.message}`);
        if (failed) assert.equal(error.status, openAIStatus(r), r.file);
        if (streamError || cutOff) {
          const before = expected(mergeEvents(events.filter((e) => !e.error)));
          assert.equal(content, before.content, `${r.file}: content before the error`);
        }
        return;
      }
      assert.equal(error, undefined, `${r.file}: ${error}`);
      const final = await stream.finalChatCompletion();
      const answer = r.method === "generateContent" ? events[0] : mergeEvents(events);
      const want = expected(answer);
      assert.equal(final.choices[0].finish_reason, want.finishReason, `${r.file}: finish_reason`);
      assert.equal(content, want.content, `${r.file}: streamed content`);
      checkMessage(r.file, { ...final.choices[0].message, reasoning_content: reasoning, images }, want);
      assert.deepEqual(annotations.map((a) => a.url_citation.url), want.urls, `${r.file}: annotations`);
      checkUsage(r.file, final.usage ?? undefined, want);
    } finally {
      await h.close();
    }
  });
}
