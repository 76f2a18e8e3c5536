/**
 * The recorded-response corpus (`tests/corpus/`): real Gemini API answers that public projects keep as
 * test fixtures, each file as recorded, listed with its source in `tests/corpus/manifest.json`. This
 * reads the manifest, gives each recording's wire body (as the recording project serves it) and its
 * events, and derives the answer for the other method (a whole answer as a one-event stream, a stream
 * merged into one answer) so both OpenAI modes can be driven from every recording.
 *
 * @module
 */
import type { GeminiGenerateContentResponse } from "../../lib/gemini/types.ts";

/** One manifest entry. */
export interface Recording {
  /** Path under `tests/corpus/`. */
  file: string;
  repository: string;
  commit: string;
  /** Path in the source repository. */
  path: string;
  license: string;
  /** The Gemini method it answers. */
  method: "generateContent" | "streamGenerateContent" | "countTokens";
  /** `json`: one body; `sse`: Google's SSE body; `jsonl`: one event per line (served as SSE). */
  format: "json" | "sse" | "jsonl";
  /** HTTP status it is served with. */
  status: number;
  /** `vertex`: a Vertex AI answer, served by a Vertex upstream to a pool of Vertex express keys. */
  upstream?: "vertex";
}

/** A recording with its bytes. */
export interface LoadedRecording extends Recording {
  /** The file's text, exactly as recorded. */
  text: string;
}

/** One event of a recording: a response, or Google's error (an error event or a bare error object). */
export type RecordedEvent = GeminiGenerateContentResponse & {
  error?: { code: number; message: string; status: string };
};

const DIR = new URL("../corpus/", import.meta.url);

/** Every recording of the manifest, with its text. */
export async function loadCorpus(): Promise<LoadedRecording[]> {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("manifest.json", DIR))) as {
    recordings: Recording[];
  };
  return await Promise.all(
    manifest.recordings.map(async (r) => ({ ...r, text: await Deno.readTextFile(new URL(r.file, DIR)) })),
  );
}

/** The body the upstream sends for the recording's own method (jsonl events framed as Google's SSE). */
export function wireBody(r: LoadedRecording): string {
  if (r.format !== "jsonl") return r.text;
  return r.text.split("\n").filter((l) => l.trim()).map((l) => `data: ${l}\r\n\r\n`).join("");
}

/** The recording's events in order; a bare JSON error after (or instead of) SSE events is the last one. */
export function recordedEvents(r: LoadedRecording): RecordedEvent[] {
  if (r.format === "json") return [JSON.parse(r.text)];
  const events: RecordedEvent[] = [];
  let stray = "";
  for (const block of wireBody(r).split(/\r?\n\r?\n/)) {
    const data = block.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim());
    if (data.length) events.push(JSON.parse(data.join("\n")));
    else stray += block + "\n";
  }
  if (stray.trim()) events.push(JSON.parse(stray));
  return events;
}

/**
 * The body for the other method: a whole answer as a one-event SSE stream, or a stream's events merged
 * into one answer (parts joined per candidate, the last finish reason and usage, grounding combined).
 * Undefined for a stream that ends in an error (a whole call would answer the error instead).
 */
export function otherMethodBody(r: LoadedRecording): string | undefined {
  if (r.status !== 200) return r.text;
  if (r.method === "generateContent") return `data: ${JSON.stringify(JSON.parse(r.text))}\r\n\r\n`;
  const events = recordedEvents(r);
  if (events.some((e) => e.error)) return undefined;
  return JSON.stringify(mergeEvents(events));
}

/** Stream events merged into one whole answer. */
export function mergeEvents(events: readonly RecordedEvent[]): GeminiGenerateContentResponse {
  const out: GeminiGenerateContentResponse = {};
  const byIndex = new Map<number, NonNullable<GeminiGenerateContentResponse["candidates"]>[number]>();
  for (const e of events) {
    if (e.usageMetadata) out.usageMetadata = e.usageMetadata;
    if (e.promptFeedback) out.promptFeedback = e.promptFeedback;
    if (e.modelVersion) out.modelVersion = e.modelVersion;
    for (const [i, c] of (e.candidates ?? []).entries()) {
      const index = c.index ?? i;
      const m = byIndex.get(index) ?? { index, content: { role: "model", parts: [] } };
      m.content!.parts!.push(...(c.content?.parts ?? []));
      if (c.finishReason) m.finishReason = c.finishReason;
      if (c.groundingMetadata) {
        const g = (m.groundingMetadata ??= { groundingChunks: [], groundingSupports: [] });
        g.groundingChunks!.push(...(c.groundingMetadata.groundingChunks ?? []));
        g.groundingSupports!.push(...(c.groundingMetadata.groundingSupports ?? []));
      }
      byIndex.set(index, m);
    }
  }
  if (byIndex.size) out.candidates = [...byIndex.values()];
  return out;
}

/** Fields only Vertex AI sends, wherever they appear (README, "Vertex AI express keys"). */
const VERTEX_ONLY_FIELDS = new Set([
  "createTime",
  "trafficType",
  "probabilityScore",
  "severity",
  "severityScore",
  "totalBillableCharacters",
]);
const CITATION_SOURCE_FIELDS = ["startIndex", "endIndex", "uri", "license"];

/**
 * What a client of the gateway gets for a Vertex AI answer (or stream event), by the documented rules:
 * Vertex-only fields dropped (an emptied `usageMetadata` too), `citationMetadata.citations` renamed to
 * the Gemini API's `citationSources` with its four fields.
 */
export function geminiShape<T>(vertex: T): T {
  return JSON.parse(JSON.stringify(vertex), (key, value) => {
    if (VERTEX_ONLY_FIELDS.has(key)) return undefined;
    if (key === "usageMetadata" && value && Object.keys(value).length === 0) return undefined;
    if (key === "citationMetadata" && Array.isArray(value?.citations)) {
      const { citations, ...rest } = value;
      return {
        ...rest,
        citationSources: citations.map((c: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(c).filter(([k]) => CITATION_SOURCE_FIELDS.includes(k)))
        ),
      };
    }
    return value;
  });
}
