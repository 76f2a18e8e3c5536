/**
 * Where one attempt goes: an upstream target per key kind. The pipeline hands a target the request in
 * Gemini API terms (path `/v1beta/models/{id}:{method}`, Gemini's JSON) and the chosen key; the target
 * sends it the way its service expects and answers in Gemini API terms, so everything after the attempt
 * (classification, retries, usage, the edges) is the same for every kind.
 *
 * - {@link geminiTarget}: Google's Gemini API, the request as it is (`x-goog-api-key`; thought
 *   signatures Vertex AI minted become the skip value).
 * - `vertexTarget` (`../vertex/upstream.ts`): Vertex AI in express mode.
 *
 * @module
 */
import type { KeyKind } from "../pool/key_record.ts";
import type { ForwardRequest } from "./types.ts";
import { mayCarryVertexSignatures, signaturesFor } from "../gemini/signature_kinds.ts";

/** One upstream call of an attempt. */
export interface UpstreamCall {
  /** The request in Gemini API terms. */
  request: ForwardRequest;
  /** The key's secret; targets send it in a header, never in a URL. */
  key: string;
  /** Aborted on the attempt's timeout or when the client leaves. */
  signal: AbortSignal;
  /** The key's HTTP client (its upstream proxy), if any. */
  client?: Deno.HttpClient;
}

/** Sends an attempt to one service. */
export interface UpstreamTarget {
  /**
   * Sends the call; answers the service's response in Gemini API terms (status, headers, body: errors
   * keep their `google.rpc.Status` body for the pool to classify).
   *
   * @throws whatever `fetch` throws (network errors, the abort reason).
   */
  send(call: UpstreamCall): Promise<Response>;
  /**
   * The requests `request` becomes when this service cannot take it in one call (Vertex takes a batch
   * of gemini-embedding-001 inputs one per call), and how their answers join into the answer to
   * `request`; undefined when one call serves it. The pipeline sends each part as a request of its own
   * (its own key, pacing, retries), so a key's limits count every call.
   */
  split?(request: ForwardRequest): RequestSplit | undefined;
}

/** One request as several (see {@link UpstreamTarget.split}). */
export interface RequestSplit {
  /** The parts, in order; each in Gemini API terms. */
  requests: ForwardRequest[];
  /** The answer to the whole request (Gemini API JSON) from the parts' answers, in order. */
  join(answers: unknown[]): unknown;
}

/** A target per key kind. */
export type UpstreamTargets = Readonly<Record<KeyKind, UpstreamTarget>>;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
/** Model methods whose body carries a conversation (`contents`), and so may carry thought signatures. */
const CARRIES_CONTENTS = /:(?:streamGenerateContent|generateContent|countTokens)$/;

/**
 * A request body with the thought signatures Vertex AI minted (in a pool with both kinds of key) made
 * Google's skip value, which the Gemini API accepts (`../gemini/signature_kinds.ts`); any other body
 * as it is.
 */
function geminiSignatures(body: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const text = decoder.decode(body);
  if (!mayCarryVertexSignatures(text)) return body;
  try {
    const json = JSON.parse(text);
    return json && typeof json === "object" && signaturesFor("gemini", json)
      ? encoder.encode(JSON.stringify(json))
      : body;
  } catch {
    return body; // not JSON: Google answers it
  }
}

/** The Gemini API at `baseUrl()` (`https://generativelanguage.googleapis.com`): the request as it is. */
export function geminiTarget(baseUrl: () => string): UpstreamTarget {
  return {
    send({ request: req, key, signal, client }) {
      const base = baseUrl();
      const url = (base.endsWith("/") ? base.slice(0, -1) : base) + req.path +
        (req.query?.size ? `?${req.query}` : "");
      // A plain record: `fetch` copies its headers either way, and a record is the cheaper source. The
      // request's own record is shared by its attempts, so the key goes into a copy.
      return fetch(url, {
        method: req.method,
        headers: { ...req.headers, "x-goog-api-key": key },
        body: req.body?.length
          ? (CARRIES_CONTENTS.test(req.path) ? geminiSignatures(req.body) : req.body)
          : undefined,
        signal,
        client,
      });
    },
  };
}
