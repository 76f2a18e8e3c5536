/**
 * Small helpers for calling the shared pipeline (`Forward`) with JSON bodies from the OpenAI edge.
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import type { Forward, ForwardResult } from "../pipeline/types.ts";

/** Per-request context passed down from the route. */
export interface CallContext {
  forward: Forward;
  tokenName?: string;
  signal?: AbortSignal;
}

/** Options for {@link forwardJson}. */
export interface ForwardJsonOptions {
  path: string;
  body?: unknown;
  method?: string;
  model?: string;
  query?: URLSearchParams;
  stream?: boolean;
}

/** Sends a JSON request upstream through the pipeline (route `openai`). */
export function forwardJson(ctx: CallContext, o: ForwardJsonOptions): Promise<ForwardResult> {
  const headers = new Headers();
  if (o.body !== undefined) headers.set("content-type", "application/json");
  return ctx.forward({
    method: o.method ?? (o.body === undefined ? "GET" : "POST"),
    path: o.path,
    query: o.query,
    headers,
    body: o.body === undefined ? null : new TextEncoder().encode(JSON.stringify(o.body)),
    model: o.model,
    stream: o.stream,
    signal: ctx.signal,
    route: "openai",
    tokenName: ctx.tokenName,
  });
}

/** Reads an upstream success body as JSON; a non-JSON body becomes a 502. */
export async function readJson<T>(result: ForwardResult): Promise<T> {
  const text = await result.response.text();
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new GatewayError(502, `Upstream returned a body that is not JSON: ${text.slice(0, 120)}`, {
      cause: err,
    });
  }
}
