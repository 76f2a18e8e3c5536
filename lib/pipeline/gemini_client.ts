/**
 * The one edge contract. Every dialect's edge parses its request into a {@link GeminiCall} (method,
 * model, body), calls it through a {@link GeminiCaller} bound to the request, places the stream
 * decorators it wants, and formats the answer (or the thrown `GatewayError`) in its dialect:
 *
 *   edge parse -> GeminiCaller.call -> prepare (model, aliases, suffixes, features) -> pipeline
 *   (key choice, retries, usage, logs) -> stream decorators -> edge format
 *
 * Calls that name no model method (files, batches, operations, the model list) go through
 * {@link GeminiCaller.send}, the same pipeline; the prepare step there only resolves a model the body
 * names (`cachedContents.create`). Both check the client token's model allow-list.
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import { modelNames, type ParsedModel } from "../gemini/model_names.ts";
import { bareModel } from "../gemini/model_id.ts";
import type { CallPreparer, GeminiCall, PreparedCall } from "./prepare.ts";
import type { Forward, ForwardRequest, ForwardResult } from "./types.ts";
import type { ClientInfo } from "../http/client_address.ts";
import { headerRecord } from "./client_headers.ts";

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
  /**
   * The model as the client named it, when the edge mapped it to a Gemini model before the call
   * (Anthropic's `claude-*` names); default: the call's own model name.
   */
  clientModel?: string;
  /** The gateway's public origin, for rewriting upload URLs (native uploads only). */
  origin?: string;
  /** True when the edge passes answers on as they arrive (native); else it reads unary answers whole. */
  passThrough?: boolean;
}

/**
 * A second look at a model call's outcome, which may ask the pipeline for one more attempt (each kind
 * at most once per call). The Gemini checks are in `../gemini/answer_check.ts`.
 */
export interface AnswerCheck {
  /** For a failed call: a body to send once more (e.g. without thought signatures), or undefined. */
  retryBodyAfter?(
    err: GatewayError,
    body: Uint8Array<ArrayBuffer> | null,
  ): Uint8Array<ArrayBuffer> | undefined;
  /**
   * For a whole 2xx answer (its text, and its JSON value, undefined when it is not JSON): true to try
   * once more, on another key when one can serve.
   */
  retryAnswer?(text: string, json: unknown): boolean;
  /**
   * For a 2xx SSE stream: the body the client reads. `again()` sends the call once more (on another
   * key when one can serve) and gives its body; it throws when that attempt fails.
   */
  retryStream?(
    body: ReadableStream<Uint8Array>,
    again: () => Promise<ReadableStream<Uint8Array>>,
  ): ReadableStream<Uint8Array>;
}

/** Options of one model call besides the call itself. */
export interface CallOptions {
  /** Query parameters for the upstream (the client's credential already removed), e.g. `alt=sse`. */
  query?: URLSearchParams;
  /**
   * Request headers to forward, lower-case names (see `ForwardRequest.headers`); default
   * `content-type: application/json`.
   */
  headers?: Readonly<Record<string, string>>;
  /** A check of the outcome that may ask for one more attempt. */
  check?: AnswerCheck;
}

/** A successful model call. */
export interface GeminiAnswer extends ForwardResult {
  /** How the call was prepared (real model, search on, notes). */
  prepared: PreparedCall;
}

/** A result whose answer a check already parsed: {@link readJson} takes that value, not a second parse. */
type CheckedResult = ForwardResult & { json?: unknown };

/** One decoder for whole answers (it keeps no state between calls). */
const UTF8 = new TextDecoder();

/** A call that names no model method, sent through the pipeline as it is. */
export type ResourceRequest = Omit<
  ForwardRequest,
  "route" | "tokenName" | "signal" | "origin" | "client" | "clientModel" | "modelNames"
>;

/** The pipeline, bound to one client request. */
export interface GeminiCaller {
  /** The request's context. */
  readonly context: CallContext;
  /** Resolves a client model name (aliases, suffixes) without calling upstream. */
  resolve(model: string): ParsedModel;
  /**
   * True when the request's client token may use the model a client name resolves to (its
   * allow-list admits the name, its alias or the real model), as every call checks it.
   */
  allows(model: string): boolean;
  /**
   * Refuses a model the request's client token may not use, as every call does.
   *
   * @throws {GatewayError} 403 `model_not_allowed`.
   */
  admit(model: string): void;
  /** Prepares and sends a model call. Failures are thrown as `GatewayError`. */
  call(call: GeminiCall, options?: CallOptions): Promise<GeminiAnswer>;
  /** Sends a call that names no model method. Failures are thrown as `GatewayError`. */
  send(request: ResourceRequest): Promise<ForwardResult>;
}

/** The context of a call the gateway makes on its own (the model list it keeps), not for a client. */
export function internalContext(route: string): CallContext {
  return { route, client: { method: "GET", path: `(${route})`, address: "gateway", time: Date.now() } };
}

/** Which models a client token may use (its allow-list): `TokenLimits`. */
export interface ModelAccess {
  /** True when the token may use the model known by these names (the client's first). */
  allowsModel(tokenName: string, names: readonly string[]): boolean;
  /** Throws a 403 `GatewayError` unless the token may use the model known by these names. */
  admitModel(tokenName: string | undefined, names: readonly string[]): void;
}

/** What {@link GeminiClient} binds to requests. */
export interface GeminiClientDeps {
  /** The pipeline. */
  forward: Forward;
  /** The prepare step (model names, features). */
  preparer: CallPreparer;
  /** The client tokens' model allow-lists; absent: every model is allowed. */
  access?: ModelAccess;
}

/** The default request headers: one frozen record shared by every call (targets copy, never change it). */
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json" });

/** Binds the pipeline and the prepare step to requests. */
export class GeminiClient {
  constructor(private readonly deps: GeminiClientDeps) {}

  /** The pipeline bound to one client request. */
  for(context: CallContext): GeminiCaller {
    const { forward, preparer, access } = this.deps;
    const { tokenName } = context;
    const base = {
      route: context.route,
      tokenName,
      signal: context.signal,
      origin: context.origin,
      client: context.client,
      passThrough: context.passThrough,
    };
    /** The names of a client model name, for the allow-list (a name that does not parse is its own). */
    const namesOf = (model: string): string[] => {
      try {
        return modelNames(model, preparer.resolve(model));
      } catch {
        return [bareModel(model)];
      }
    };
    return {
      context,
      resolve: (model) => preparer.resolve(model),
      allows: (model) => !tokenName || !access || access.allowsModel(tokenName, namesOf(model)),
      admit: (model) => access?.admitModel(tokenName, namesOf(model)),
      async call(call, options = {}) {
        const prepared = preparer.prepare(call);
        const names = modelNames(call.model, prepared.parsed);
        const stream = call.method === "streamGenerateContent";
        let body = prepared.body;
        const send = (avoidKeyId?: string) =>
          forward({
            ...base,
            method: "POST",
            path: prepared.path,
            query: options.query,
            headers: options.headers ?? JSON_HEADERS,
            body,
            model: prepared.model,
            clientModel: context.clientModel ?? call.model,
            modelNames: names,
            stream,
            avoidKeyId,
          });
        const { check } = options;
        let result: ForwardResult;
        try {
          result = await send();
        } catch (err) {
          const retryBody = err instanceof GatewayError ? check?.retryBodyAfter?.(err, body) : undefined;
          if (!retryBody) throw err;
          body = retryBody;
          result = await send();
        }
        // Without a check the answer is the result as it is: no review, no second promise around it.
        if (!check) return { ...result, prepared };
        return {
          ...await checked(result, { check, stream, sse: options.query?.get("alt") === "sse", send }),
          prepared,
        };
      },
      send(request) {
        const named = preparer.prepareResource(request);
        if (named) {
          const names = modelNames(named.clientModel, named.parsed);
          return forward({
            ...base,
            ...request,
            body: named.body,
            clientModel: named.clientModel,
            modelNames: names,
          });
        }
        return forward({
          ...base,
          ...request,
          clientModel: request.model,
          modelNames: request.model ? namesOf(request.model) : undefined,
        });
      },
    };
  }
}

/** Applies a check's answer review: one more attempt (another key preferred) when it asks for one. */
async function checked(
  result: ForwardResult,
  o: {
    check?: AnswerCheck;
    stream: boolean;
    sse: boolean;
    send: (avoidKeyId?: string) => Promise<ForwardResult>;
  },
): Promise<ForwardResult> {
  const { response } = result;
  // The answer's headers as a record (the list as it is: no sorted `Headers` copy per answer).
  const init = () => ({ status: response.status, headers: headerRecord(response.headers) });
  if (o.stream) {
    if (!o.check?.retryStream || !o.sse || !response.body) return result;
    const again = async () => (await o.send(result.keyId)).response.body ?? new ReadableStream();
    return { ...result, response: new Response(o.check.retryStream(response.body, again), init()) };
  }
  if (!o.check?.retryAnswer || result.streamedThrough) return result;
  // An answer read whole is reviewed from its bytes; its response stays unread for the edge.
  const text = result.body ? UTF8.decode(result.body) : await response.text();
  const json = parseOrUndefined(text);
  if (o.check.retryAnswer(text, json)) {
    try {
      const second = await o.send(result.keyId);
      return { ...second, attempts: result.attempts + second.attempts };
    } catch {
      // The first answer after all.
    }
  }
  const checked: CheckedResult = result.body
    ? { ...result, json }
    : { ...result, response: new Response(text, init()), json };
  return checked;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
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
  const parsed = (result as CheckedResult).json;
  if (parsed !== undefined) return parsed as T;
  const text = result.body ? UTF8.decode(result.body) : await result.response.text();
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new GatewayError(502, `Upstream returned a body that is not JSON: ${text.slice(0, 120)}`, {
      cause: err,
    });
  }
}
