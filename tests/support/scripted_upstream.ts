/**
 * A Gemini upstream whose model answers the test writes (Google's wire format, chosen per call), for
 * behaviour the deterministic mock cannot be asked for: an empty answer, a failed tool call, an error
 * written into a stream, a recorded answer from the corpus. The model list is the mock's. Served on
 * loopback with a gateway in front of it, as {@link startHarness} does for the mock. With `vertex`, the
 * pool holds Vertex AI express keys and the same server answers at Vertex's URLs
 * (`/v1beta1/publishers/google/models/{model}:{method}`).
 *
 * @module
 */
import { createGateway, type Gateway } from "../../gateway.ts";
import type { RequestRecord } from "../../lib/pipeline/request_record.ts";
import { fakeKey } from "./harness.ts";
import { MOCK_MODELS } from "./mock_gemini_models.ts";
import { fakeVertexKey } from "./mock_vertex.ts";

/** One model call the upstream received. */
export interface ScriptedCall {
  /** `generateContent`, `streamGenerateContent`, ... (Vertex's names for a Vertex call: `predict`, ...) */
  method: string;
  /** Which service's URL was called. */
  upstream: "gemini" | "vertex";
  model: string;
  /** The API key it came with. */
  key: string;
  query: URLSearchParams;
  /** The parsed JSON body. */
  json: Record<string, unknown>;
}

/** Answers the `n`-th model call (0-based). */
export type Script = (call: ScriptedCall, n: number) => Response | Promise<Response>;

/** A gateway in front of a scripted upstream. */
export interface ScriptedHarness {
  url: string;
  token: string;
  gw: Gateway;
  /** Model calls received, in order. */
  calls: ScriptedCall[];
  records: RequestRecord[];
  close(): Promise<void>;
}

const MODEL_CALL = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):([A-Za-z]+)$/;
const VERTEX_CALL = /^\/v1(?:beta1)?\/publishers\/google\/models\/([^/:]+):([A-Za-z]+)$/;

/** An SSE body in Google's framing (`data: {...}\r\n\r\n`) from events; `trailer` is appended as is. */
export function sseBody(events: unknown[], trailer = ""): string {
  return events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join("") + trailer;
}

/** A 200 SSE response, sent in pieces of `piece` bytes (default: whole). */
export function sseResponse(text: string, o: { piece?: number; status?: number } = {}): Response {
  return new Response(pieces(new TextEncoder().encode(text), o.piece), {
    status: o.status ?? 200,
    headers: { "content-type": "text/event-stream" },
  });
}

/** A JSON response (status 200 unless given), sent in pieces of `piece` bytes (default: whole). */
export function jsonAnswer(body: unknown, o: { piece?: number; status?: number } = {}): Response {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new Response(pieces(new TextEncoder().encode(text), o.piece), {
    status: o.status ?? 200,
    headers: { "content-type": "application/json; charset=UTF-8" },
  });
}

/** `bytes` as a stream of chunks of at most `size` bytes. */
export function pieces(bytes: Uint8Array, size?: number): ReadableStream<Uint8Array> {
  const step = size && size > 0 ? size : Math.max(1, bytes.length);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + step));
      at += step;
    },
  });
}

/** Starts a scripted upstream and a gateway pointed at it. Close it at the end of the test. */
export async function startScripted(
  script: Script,
  o: { keys?: number; env?: Record<string, string>; vertex?: boolean } = {},
): Promise<ScriptedHarness> {
  const calls: ScriptedCall[] = [];
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (req.method === "GET" && /^\/v1(beta)?\/models\/?$/.test(url.pathname)) {
      return Response.json({ models: MOCK_MODELS });
    }
    const vertex = VERTEX_CALL.exec(url.pathname);
    const m = vertex ?? MODEL_CALL.exec(url.pathname);
    if (!m) {
      return Response.json({ error: { code: 404, message: "no such route", status: "NOT_FOUND" } }, {
        status: 404,
      });
    }
    const text = await req.text();
    const call: ScriptedCall = {
      method: m[2],
      upstream: vertex ? "vertex" : "gemini",
      model: decodeURIComponent(m[1]),
      key: req.headers.get("x-goog-api-key") ?? "",
      query: url.searchParams,
      json: text ? JSON.parse(text) : {},
    };
    calls.push(call);
    return await script(call, calls.length - 1);
  });
  const token = "scripted-client-token";
  const upstreamUrl = `http://127.0.0.1:${upstream.addr.port}`;
  const keys = Array.from(
    { length: o.keys ?? 3 },
    (_, i) => o.vertex ? `vertex:${fakeVertexKey(i + 1)}` : fakeKey(i + 1),
  );
  const records: RequestRecord[] = [];
  const gw = await createGateway({
    env: {
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: keys.join(","),
      ALLOWED_TOKENS: token,
      ADMIN_TOKEN: "scripted-admin-token-123456",
      UPSTREAM_BASE_URL: upstreamUrl,
      VERTEX_BASE_URL: upstreamUrl,
      MAX_WAIT_MS: "0",
      SYNC_INTERVAL_MS: "0",
      ...o.env,
    },
    onRecord: (r) => records.push(r),
  });
  await gw.ready;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, gw.app.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    token,
    gw,
    calls,
    records,
    async close() {
      await server.shutdown();
      await gw.close();
      await upstream.shutdown();
    },
  };
}
