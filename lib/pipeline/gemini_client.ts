/**
 * The one edge contract. Every dialect's edge parses its request into a {@link GeminiCall} (method,
 * model, body), calls it through a {@link GeminiCaller} bound to the request, places the stream
 * decorators it wants, and formats the answer (or the thrown `GatewayError`) in its dialect:
 *
 *   edge parse -> GeminiCaller.call -> prepare (model, aliases, suffixes, features) -> pipeline
 *   (key choice, retries, usage, logs) -> stream decorators -> edge format
 *
 * Calls that name no model method (files, batches, operations, the model list) go through
 * {@link GeminiCaller.send}, the same pipeline without the prepare step.
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import type { ParsedModel } from "../gemini/model_names.ts";
import type { CallPreparer, GeminiCall, PreparedCall } from "./prepare.ts";
import type { Forward, ForwardRequest, ForwardResult } from "./types.ts";
import type { ClientInfo } from "../http/client_address.ts";

export type { GeminiCall, PreparedCall } from "./prepare.ts";

/** What an edge knows about the client's request (build it with `callContext` from `edge.ts`). */
export interface CallContext {
  /** The edge (dialect) that took the request, for logs: `gemini`, `openai`, ... */
  route: string;
  /**
   * The client's own request as it arrived (method, path, address), so every dialect's log entries
   * show the route the client called and where it came from.
   */
  client: ClientInfo;
  /** The client token's name, for logs, usage and limits. */
  tokenName?: string;
  /** Aborted when the client disconnects; cancels the upstream request. */
  signal?: AbortSignal;
  /** The gateway's public origin, for rewriting upload URLs (native uploads only). */
  origin?: string;
}

/** Options of one model call besides the call itself. */
export interface CallOptions {
  /** Query parameters for the upstream (the client's credential already removed), e.g. `alt=sse`. */
  query?: URLSearchParams;
  /** Request headers to forward; default `content-type: application/json`. */
  headers?: Headers;
}

/** A successful model call. */
export interface GeminiAnswer extends ForwardResult {
  /** How the call was prepared (real model, search on, notes). */
  prepared: PreparedCall;
}

/** A call that names no model method, sent through the pipeline as it is. */
export type ResourceRequest = Omit<
  ForwardRequest,
  "route" | "tokenName" | "signal" | "origin" | "client" | "clientModel"
>;

/** The pipeline, bound to one client request. */
export interface GeminiCaller {
  /** The request's context. */
  readonly context: CallContext;
  /** Resolves a client model name (aliases, suffixes) without calling upstream. */
  resolve(model: string): ParsedModel;
  /** Prepares and sends a model call. Failures are thrown as `GatewayError`. */
  call(call: GeminiCall, options?: CallOptions): Promise<GeminiAnswer>;
  /** Sends a call that names no model method. Failures are thrown as `GatewayError`. */
  send(request: ResourceRequest): Promise<ForwardResult>;
}

/** The context of a call the gateway makes on its own (the model list it keeps), not for a client. */
export function internalContext(route: string): CallContext {
  return { route, client: { method: "GET", path: `(${route})`, address: "gateway", time: Date.now() } };
}

const JSON_HEADERS = () => new Headers({ "content-type": "application/json" });

/** Binds the pipeline and the prepare step to requests. */
export class GeminiClient {
  constructor(private readonly deps: { forward: Forward; preparer: CallPreparer }) {}

  /** The pipeline bound to one client request. */
  for(context: CallContext): GeminiCaller {
    const { forward, preparer } = this.deps;
    const base = {
      route: context.route,
      tokenName: context.tokenName,
      signal: context.signal,
      origin: context.origin,
      client: context.client,
    };
    return {
      context,
      resolve: (model) => preparer.resolve(model),
      async call(call, options = {}) {
        const prepared = preparer.prepare(call);
        const result = await forward({
          ...base,
          method: "POST",
          path: prepared.path,
          query: options.query,
          headers: options.headers ?? JSON_HEADERS(),
          body: prepared.body,
          model: prepared.model,
          clientModel: call.model,
          stream: call.method === "streamGenerateContent",
        });
        return { ...result, prepared };
      },
      send: (request) => forward({ ...base, ...request, clientModel: request.model }),
    };
  }
}

/** The query of a streamed call in SSE framing (`alt=sse`), which every translating edge reads. */
export function sseQuery(): URLSearchParams {
  return new URLSearchParams({ alt: "sse" });
}

/**
 * Reads an upstream success body as JSON.
 *
 * @throws {GatewayError} 502 when the body is not JSON.
 */
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
