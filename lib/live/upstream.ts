/**
 * One attempt to open a Live session upstream: connect the WebSocket with the credential in a handshake
 * header, send the client's setup message, and wait for Google's `setupComplete`. Until then nothing is
 * relayed to the client, so an attempt that Google refuses (it closes with a code and a reason) can be
 * retried on another key without the client noticing.
 *
 * @module
 */
import { WebSocket as NodeWs } from "ws";
import { type Frame, inspectServerFrame } from "./messages.ts";

/**
 * Deno's WebSocket constructor with its options (handshake headers, an HTTP client for proxies): the DOM
 * typings in the compiler options declare only the standard `protocols` overload.
 */
const DenoWebSocket = WebSocket as unknown as new (url: string, options: WebSocketOptions) => WebSocket;

/**
 * The `ws` package's client, typed as the WHATWG `WebSocket` it mirrors (`onopen`, `onmessage` with
 * string or ArrayBuffer data, `onclose` with code and reason, `send`, `close`, `readyState`,
 * `binaryType`). It sets TCP_NODELAY on its socket; Deno's own client does not, and each 4-16 KiB
 * message it sends (an audio chunk) then waits for the peer's delayed ACK (~40 ms on loopback).
 */
const NodeWebSocket = NodeWs as unknown as new (
  url: string,
  options: { headers: Record<string, string>; perMessageDeflate: boolean },
) => WebSocket;

/**
 * A client WebSocket to Google: `ws` (no Nagle delay, no compression: frames pass as they are), or
 * Deno's client when the key goes through an upstream proxy (only it takes a proxy `HttpClient`).
 */
function dial(url: string, headers: Headers, client?: Deno.HttpClient): WebSocket {
  if (client) return new DenoWebSocket(url, { headers, client });
  return new NodeWebSocket(url, { headers: Object.fromEntries(headers), perMessageDeflate: false });
}

/** A `ws` socket must always have an error listener (an `error` event without one throws). */
const ignore = () => {};

/** The HTTP status in the error of a refused upgrade (`ws`, Deno). */
const UPGRADE_STATUS = /(?:server response|status code):?\s*(\d{3})\b/i;

/** Options of {@link openUpstream}. */
export interface UpstreamAttempt {
  /** `wss://…/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent` (no credential). */
  url: string;
  /** Handshake headers: the credential (`x-goog-api-key` or `authorization: Token …`) and the client's SDK headers. */
  headers: Headers;
  /** An HTTP client for this key's upstream proxy, if any. */
  client?: Deno.HttpClient;
  /** The client's setup message, sent as it came (same frame type). */
  setup: Frame;
  /** How long to wait for `setupComplete` (ms). */
  timeoutMs: number;
  /** Aborted when the client leaves: the attempt is dropped. */
  signal: AbortSignal;
}

/** How an attempt ended. */
export type AttemptResult =
  /** Google confirmed the setup: `frames` are its messages so far, `setupComplete` last. */
  | { kind: "open"; socket: WebSocket; frames: Frame[] }
  /**
   * Google closed before `setupComplete` (a refusal), or the connection failed (1006, `connected`
   * false; `httpStatus` when Google answered the upgrade with an HTTP error instead).
   */
  | { kind: "closed"; code: number; reason: string; connected: boolean; httpStatus?: number }
  /** No `setupComplete` within `timeoutMs`. */
  | { kind: "timeout" }
  /** The client left first. */
  | { kind: "aborted" };

/** Opens a Live WebSocket upstream and waits for `setupComplete`. Never throws. */
export function openUpstream(o: UpstreamAttempt): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let socket: WebSocket;
    try {
      socket = dial(o.url, o.headers, o.client);
    } catch (e) {
      resolve({
        kind: "closed",
        code: 1006,
        reason: String(e instanceof Error ? e.message : e),
        connected: false,
      });
      return;
    }
    socket.binaryType = "arraybuffer";
    const frames: Frame[] = [];
    let connected = false;
    let settled = false;
    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal.removeEventListener("abort", onAbort);
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.onerror = ignore;
      if (result.kind !== "open" && socket.readyState < WebSocket.CLOSING) socket.close();
      resolve(result);
    };
    const onAbort = () => settle({ kind: "aborted" });
    const timer = setTimeout(() => settle({ kind: "timeout" }), o.timeoutMs);
    o.signal.addEventListener("abort", onAbort, { once: true });
    if (o.signal.aborted) return onAbort();
    socket.onopen = () => {
      connected = true;
      socket.send(o.setup);
    };
    socket.onmessage = (e: MessageEvent<Frame>) => {
      frames.push(e.data);
      if (inspectServerFrame(e.data)?.setupComplete) settle({ kind: "open", socket, frames });
    };
    let httpStatus: number | undefined;
    // The close event that follows carries the outcome; a failed upgrade's error names the HTTP status
    // (`ws`: "Unexpected server response: 429").
    socket.onerror = (e) => {
      const m = UPGRADE_STATUS.exec((e as ErrorEvent).message ?? "");
      if (m) httpStatus = Number(m[1]);
    };
    socket.onclose = (e) =>
      settle({
        kind: "closed",
        code: e.code,
        reason: e.reason,
        connected,
        ...(httpStatus && !connected ? { httpStatus } : {}),
      });
  });
}
