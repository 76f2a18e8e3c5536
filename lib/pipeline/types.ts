/**
 * The contract between the route edges (Gemini-native, OpenAI) and the shared request pipeline.
 * Edges parse the caller's request into a {@link ForwardRequest}, call {@link Forward}, and format
 * the upstream {@link Response} (or the thrown `GatewayError`) in their dialect.
 *
 * @module
 */
import type { ClientInfo } from "../http/client_address.ts";

/** One request to send upstream through the key pool. */
export interface ForwardRequest {
  /** HTTP method, e.g. `POST`. */
  method: string;
  /** Upstream path starting with `/`, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`. */
  path: string;
  /** Query parameters to keep (the caller's credential already removed), e.g. `alt=sse`. */
  query?: URLSearchParams;
  /**
   * Request headers to forward (hop-by-hop and credential headers already removed), as a plain record
   * with lower-case names (a header sent more than once has its values joined with `, `, as `Headers`
   * joins them): targets copy it into the upstream request, never change it.
   */
  headers?: Readonly<Record<string, string>>;
  /** Request body bytes, forwarded unchanged. */
  body?: Uint8Array<ArrayBuffer> | null;
  /** Bare model id (`gemini-2.5-flash`) the request uses; per-model cooldowns key on it. */
  model?: string;
  /**
   * Every name of the model the client asked for (its own, the alias, the real model), for its
   * token's allow-list; default `[model]`.
   */
  modelNames?: readonly string[];
  /** A key to leave out when another can serve (a second try that should land elsewhere). */
  avoidKeyId?: string;
  /** True when the response is a stream (SSE or JSON array). */
  stream?: boolean;
  /** Aborted when the client disconnects; cancels the upstream request. */
  signal?: AbortSignal;
  /** Which edge sent it, for logs: `gemini`, `openai`, ... */
  route: string;
  /** The gateway's public origin (`https://gw.example`), for rewriting upload URLs. */
  origin?: string;
  /** The client token's name, for logs and per-token usage. */
  tokenName?: string;
  /** The client's own request (method, path, address), for logs. */
  client?: ClientInfo;
  /** The model as the client named it (an alias or a suffixed name), for logs. */
  clientModel?: string;
  /**
   * True when the edge passes the answer on as it arrives (the native edge): a unary answer larger than
   * `ANSWER_BUFFER_BYTES` then streams through. Otherwise the edge reads the answer whole to translate
   * it, and such an answer is refused with 502 (memory stays bounded).
   */
  passThrough?: boolean;
}

/** A successful upstream answer (2xx). Failures are thrown as `GatewayError`. */
export interface ForwardResult {
  /** The upstream response; its body streams as it arrives. */
  response: Response;
  /** Id of the key that served it (never the key itself). */
  keyId: string;
  /** Number of upstream attempts made, 1 when the first key answered. */
  attempts: number;
  /** True for a unary answer larger than `ANSWER_BUFFER_BYTES`, which streams through instead of being held. */
  streamedThrough?: boolean;
  /**
   * The answer's body when the pipeline read it whole (a unary answer): the bytes `response` holds, for
   * an edge that translates them (reading them here spares a read of the response's stream).
   */
  body?: Uint8Array<ArrayBuffer>;
}

/** The pipeline entry point that every edge calls. */
export type Forward = (req: ForwardRequest) => Promise<ForwardResult>;
