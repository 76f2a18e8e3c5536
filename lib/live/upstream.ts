/**
 * One attempt to open a Live session upstream: connect the WebSocket with the credential in a handshake
 * header, send the client's setup message, and wait for Google's `setupComplete`. Until then nothing is
 * relayed to the client, so an attempt that Google refuses (it closes with a code and a reason) can be
 * retried on another key without the client noticing.
 *
 * @module
 */
import { type Frame, inspectServerFrame } from "./messages.ts";

/**
 * Deno's WebSocket constructor with its options (handshake headers, an HTTP client for proxies): the DOM
 * typings in the compiler options declare only the standard `protocols` overload.
 */
const DenoWebSocket = WebSocket as unknown as new (url: string, options: WebSocketOptions) => WebSocket;

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
  /** Google closed before `setupComplete` (a refusal, or 1006 when the connection failed). */
  | { kind: "closed"; code: number; reason: string; connected: boolean }
  /** No `setupComplete` within `timeoutMs`. */
  | { kind: "timeout" }
  /** The client left first. */
  | { kind: "aborted" };

/** Opens a Live WebSocket upstream and waits for `setupComplete`. Never throws. */
export function openUpstream(o: UpstreamAttempt): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let socket: WebSocket;
    try {
      socket = new DenoWebSocket(o.url, { headers: o.headers, client: o.client });
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
      socket.onopen =
        socket.onmessage =
        socket.onclose =
        socket.onerror =
          null;
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
    socket.onerror = () => {}; // the close event that follows carries the outcome
    socket.onclose = (e) => settle({ kind: "closed", code: e.code, reason: e.reason, connected });
  });
}
