/**
 * Live API clients for tests: the official SDK's `ai.live.connect` with its messages collected, a raw
 * WebSocket client (frame types visible), and a bare TCP client that can drop the connection without a
 * close frame.
 *
 * @module
 */
import { GoogleGenAI, type LiveConnectConfig, type LiveServerMessage, type Session } from "./sdk/genai.ts";

/** `ws://127.0.0.1:PORT/ws/google.ai.generativelanguage.{version}.GenerativeService.{method}`. */
export function liveUrl(
  httpUrl: string,
  o: { version?: string; method?: string; prefix?: string; query?: Record<string, string> } = {},
): string {
  const base = httpUrl.replace(/^http/, "ws");
  const path = `${o.prefix ?? ""}/ws/google.ai.generativelanguage.${
    o.version ?? "v1beta"
  }.GenerativeService.${o.method ?? "BidiGenerateContent"}`;
  const q = o.query ? `?${new URLSearchParams(o.query)}` : "";
  return base + path + q;
}

/** Resolves when `test` holds, checking after every event (rejects after `ms`). */
function waitUntil<T>(
  subscribe: (check: () => void) => () => void,
  test: () => T | undefined,
  what: string,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const now = test();
    if (now !== undefined) return resolve(now);
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const unsubscribe = subscribe(() => {
      const v = test();
      if (v === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(v);
    });
  });
}

/** A session opened with @google/genai, and what it received. */
export interface SdkLive {
  session: Session;
  messages: LiveServerMessage[];
  /** The first received message (from `from` on) that `test` accepts. */
  waitFor(test: (m: LiveServerMessage) => boolean, what: string, from?: number): Promise<LiveServerMessage>;
  /** The close event (code, reason). */
  closed: Promise<{ code: number; reason: string }>;
}

/** Connects through `baseUrl` with `apiKey` (a client token or an ephemeral token) like an app would. */
export async function connectSdk(o: {
  baseUrl: string;
  apiKey: string;
  model?: string;
  config?: LiveConnectConfig;
  apiVersion?: string;
}): Promise<SdkLive> {
  const ai = new GoogleGenAI({
    apiKey: o.apiKey,
    httpOptions: { baseUrl: o.baseUrl, ...(o.apiVersion ? { apiVersion: o.apiVersion } : {}) },
  });
  const messages: LiveServerMessage[] = [];
  const listeners = new Set<() => void>();
  const closed = Promise.withResolvers<{ code: number; reason: string }>();
  const session = await ai.live.connect({
    model: o.model ?? "gemini-live-2.5-flash-preview",
    config: o.config,
    callbacks: {
      onmessage: (m) => {
        messages.push(m);
        for (const l of [...listeners]) l();
      },
      onclose: (e) => closed.resolve({ code: e.code, reason: e.reason }),
      onerror: () => {},
    },
  });
  return {
    session,
    messages,
    closed: closed.promise,
    waitFor(test, what, from = 0) {
      return waitUntil(
        (check) => {
          listeners.add(check);
          return () => listeners.delete(check);
        },
        () => messages.slice(from).find(test),
        what,
      );
    },
  };
}

/** One received frame of a raw client. */
export interface RawFrame {
  binary: boolean;
  json: Record<string, unknown>;
}

/** A raw WebSocket Live client. */
export interface RawLive {
  ws: WebSocket;
  frames: RawFrame[];
  /** Sends a message as a text frame, or as a binary frame of UTF-8 JSON. */
  send(msg: unknown, o?: { binary?: boolean }): void;
  waitFor(test: (f: RawFrame) => boolean, what: string, from?: number): Promise<RawFrame>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a raw WebSocket (resolves once open; rejects if it closes first). */
export function connectRaw(url: string, headers?: Record<string, string>): Promise<RawLive> {
  const Ws = WebSocket as unknown as new (url: string, o: WebSocketOptions) => WebSocket;
  const ws = new Ws(url, { headers });
  ws.binaryType = "arraybuffer";
  const frames: RawFrame[] = [];
  const listeners = new Set<() => void>();
  const closed = Promise.withResolvers<{ code: number; reason: string }>();
  const decoder = new TextDecoder();
  ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
    const binary = typeof e.data !== "string";
    frames.push({
      binary,
      json: JSON.parse(binary ? decoder.decode(e.data as ArrayBuffer) : e.data as string),
    });
    for (const l of [...listeners]) l();
  };
  ws.onerror = () => {};
  ws.onclose = (e) => closed.resolve({ code: e.code, reason: e.reason });
  const raw: RawLive = {
    ws,
    frames,
    closed: closed.promise,
    send(msg, o = {}) {
      const text = JSON.stringify(msg);
      ws.send(o.binary ? new TextEncoder().encode(text) : text);
    },
    waitFor(test, what, from = 0) {
      return waitUntil(
        (check) => {
          listeners.add(check);
          return () => listeners.delete(check);
        },
        () => frames.slice(from).find(test),
        what,
      );
    },
  };
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(raw);
    closed.promise.then((c) => reject(new Error(`closed before open: ${c.code} ${c.reason}`)));
  });
}

/** The HTTP answer to a WebSocket upgrade request sent with `fetch`-like headers over raw TCP. */
export interface TcpLive {
  /** The status line and headers of the handshake answer. */
  head: string;
  /** Sends a masked text frame (a client must mask). */
  sendText(text: string): Promise<void>;
  /** Reads bytes until `pattern` appears in what was received (as latin1 text). */
  readUntil(pattern: string): Promise<string>;
  /** Drops the TCP connection without a close frame. */
  drop(): void;
}

/** Opens a WebSocket over bare TCP (so it can be dropped without a close frame). */
export async function connectTcp(httpUrl: string, path: string): Promise<TcpLive> {
  const u = new URL(httpUrl);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  let received = "";
  const buf = new Uint8Array(65536);
  const readUntil = async (pattern: string) => {
    while (!received.includes(pattern)) {
      const n = await conn.read(buf);
      if (n === null) throw new Error(`connection ended before ${JSON.stringify(pattern)}`);
      for (let i = 0; i < n; i++) received += String.fromCharCode(buf[i]);
    }
    const at = received.indexOf(pattern) + pattern.length;
    const out = received.slice(0, at);
    received = received.slice(at);
    return out;
  };
  const head = await readUntil("\r\n\r\n");
  return {
    head,
    readUntil,
    async sendText(text) {
      const payload = new TextEncoder().encode(text);
      const mask = crypto.getRandomValues(new Uint8Array(4));
      const len = payload.length;
      const header = len < 126 ? [0x81, 0x80 | len] : [0x81, 0x80 | 126, len >> 8, len & 0xff];
      const frame = new Uint8Array(header.length + 4 + len);
      frame.set(header);
      frame.set(mask, header.length);
      for (let i = 0; i < len; i++) frame[header.length + 4 + i] = payload[i] ^ mask[i % 4];
      await conn.write(frame);
    },
    drop: () => conn.close(),
  };
}
