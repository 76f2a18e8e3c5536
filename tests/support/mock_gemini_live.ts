/**
 * The Live API part of the mock Gemini upstream: WebSocket sessions at
 * `/ws/google.ai.generativelanguage.{v1,v1beta,v1alpha}.GenerativeService.BidiGenerateContent[Constrained]`
 * (accepted with `Deno.upgradeWebSocket`) and ephemeral tokens at `POST /v1alpha/auth_tokens`, in
 * Google's message shapes (https://ai.google.dev/api/live; @google/genai `LiveServerMessage`). Like
 * Google, the mock sends every server message as a binary frame holding UTF-8 JSON, answers a refusal
 * by closing with a code and a reason cut to 123 bytes, and sends `usageMetadata` once per turn.
 *
 * Behaviour:
 * - credentials: `x-goog-api-key` or `?key=`; on the Constrained method an ephemeral token from
 *   `Authorization: Token …` or `?access_token=` (its key's behaviour applies; `uses` counted);
 * - refusals after the setup message, from the key's behaviour: invalid/expired key → 1007, denied →
 *   1008, `liveQuota` → 1011 quota, more than `liveSessions` open on the project → 1011 "Maximum
 *   concurrent sessions", `hang` → no answer; a model containing `unknown` → 1008 not found; a
 *   resumption handle of another project → 1007; `liveUpgradeStatus` answers the upgrade itself with that
 *   HTTP status;
 * - then `{"setupComplete": {}}`, and a `sessionResumptionUpdate` after setup and every turn when the
 *   setup asked for session resumption;
 * - `clientContent` / `realtimeInput.text`: a turn answering `echo: <text>` (two text messages, or, with
 *   AUDIO modality, 24 kHz PCM inline data), `generationComplete`, then `turnComplete` with
 *   `usageMetadata` (prompt = words in, response = words out); with function declarations in the setup,
 *   a `toolCall` instead (ids `function-call-<n>`), and a `toolResponse` then gets `result: <JSON>`;
 * - `realtimeInput.audio` chunks are collected; `audioStreamEnd` answers with the same audio (AUDIO
 *   modality, chunks of 3200 bytes) or `heard <n> bytes <audioHash>`;
 * - commands in a turn's text: `GOAWAY` → `goAway {timeLeft: "1s"}` then close 1000; `CLOSE <code>
 *   <reason>` → that close.
 *
 * @module
 */
import type { MockKeyBehavior, Route, RouteContext } from "./mock_gemini_types.ts";
import {
  hash32,
  isObject,
  type Json,
  randomId,
  SINE_PCM_BASE64,
  toBase64,
  wordCount,
} from "./mock_gemini_util.ts";
import { googleError, jsonResponse, notFoundError } from "./mock_gemini_http.ts";

/** One Live connection as the mock saw it. */
export interface LiveConnection {
  /** e.g. `/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`. */
  path: string;
  method: "BidiGenerateContent" | "BidiGenerateContentConstrained";
  query: URLSearchParams;
  headers: Headers;
  /** The API key from `x-goog-api-key` (preferred) or `?key=`; for an ephemeral token, its creator's key. */
  key: string | null;
  keySource: "header" | "query" | "token" | null;
  /** The ephemeral token, when one was used. */
  token: string | null;
  tokenSource: "header" | "query" | null;
  /** The setup message's `setup`. */
  setup?: Json;
  /** Client messages after the setup, in order, with their frame type. */
  received: Array<{ binary: boolean; message: Json }>;
  /** Set when setupComplete was sent. */
  accepted: boolean;
  /** The close, once the connection ended. */
  closed?: { code: number; reason: string; by: "client" | "mock" };
  /** Resolves when the connection has closed. */
  ended: Promise<void>;
}

const LIVE_PATH =
  /^\/ws\/google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)\.GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** FNV-1a 32-bit hash of bytes, hex (the mock's audio fingerprint). */
export function audioHash(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

/** A close reason cut the way Google cuts it (123 bytes of UTF-8). */
function cut(reason: string): string {
  const bytes = encoder.encode(reason);
  return bytes.length <= 123 ? reason : decoder.decode(bytes.subarray(0, 123)).replace(/\uFFFD$/, "");
}

/** Google's refusals (reasons as Google words them, before the 123-byte cut). */
export const LIVE_REFUSALS = {
  invalid: { code: 1007, reason: "API key not valid. Please pass a valid API key." },
  expired: { code: 1007, reason: "API key expired. Please renew the API key." },
  noKey: {
    code: 1008,
    reason:
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key.",
  },
  quota: {
    code: 1011,
    reason:
      "You exceeded your current quota, please check your plan and billing details. For more information on " +
      "this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
  },
  sessions: {
    code: 1011,
    reason:
      "Request trace id: 5f2c9e1a7b3d4c60, [ORIGINAL ERROR] generic::resource_exhausted: RESOURCE_EXHAUSTED: " +
      "Maximum concurrent sessions exceeded for this project.",
  },
  badToken: { code: 1008, reason: "Unauthenticated: the access token is not valid or has expired." },
  badHandle: {
    code: 1007,
    reason: "Request contains an invalid argument: the session resumption handle is invalid.",
  },
} as const;

const UPGRADE_STATUS: Record<NonNullable<MockKeyBehavior["liveUpgradeStatus"]>, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

interface Session {
  conn: LiveConnection;
  socket: WebSocket;
  owner: string;
  audio: boolean;
  tools: string[];
  resumption: boolean;
  heard: Uint8Array[];
  calls: number;
  handles: number;
  release: () => void;
}

/** Options of {@link LiveMock}. */
export interface LiveMockOptions {
  /** The behaviour of a key (unknown keys are valid and unlimited). */
  behaviorOf: (key: string) => MockKeyBehavior;
}

/** Live sessions and ephemeral tokens of the mock upstream. */
export class LiveMock {
  /** Every Live connection, in arrival order. */
  readonly connections: LiveConnection[] = [];
  #tokens = new Map<string, { key: string; uses: number }>();
  #handles = new Map<string, string>();
  #open = new Map<string, number>();
  #sockets = new Set<WebSocket>();
  readonly #behaviorOf: (key: string) => MockKeyBehavior;

  constructor(o: LiveMockOptions) {
    this.#behaviorOf = o.behaviorOf;
  }

  /** Sessions open now (set up and not closed). */
  openSessions(): number {
    let n = 0;
    for (const v of this.#open.values()) n += v;
    return n;
  }

  /** Forgets connections (not tokens or handles). */
  reset(): void {
    this.connections.length = 0;
  }

  /** Closes every connection (the mock is closing). */
  closeAll(): void {
    for (const s of this.#sockets) if (s.readyState < WebSocket.CLOSING) s.close(1001, "mock closing");
  }

  /** `POST /v1alpha/auth_tokens`: an ephemeral token for the calling key. */
  createToken(ctx: RouteContext): Response {
    if (ctx.version !== "v1alpha") {
      return notFoundError(`Method not found: auth_tokens is served on v1alpha.`);
    }
    const body = isObject(ctx.json) ? ctx.json : {};
    const uses = typeof body.uses === "number" ? body.uses : 1;
    const name = `auth_tokens/${randomId(32)}`;
    this.#tokens.set(name, { key: ctx.key!, uses });
    const now = Date.now();
    return jsonResponse({
      name,
      expireTime: typeof body.expireTime === "string"
        ? body.expireTime
        : new Date(now + 30 * 60_000).toISOString(),
      newSessionExpireTime: typeof body.newSessionExpireTime === "string"
        ? body.newSessionExpireTime
        : new Date(now + 60_000).toISOString(),
      uses,
    });
  }

  /** Accepts a Live WebSocket upgrade (404 for any other path). */
  upgrade(req: Request): Response {
    const url = new URL(req.url);
    const m = LIVE_PATH.exec(url.pathname);
    if (!m) return notFoundError(`The mock has no WebSocket at ${url.pathname}.`);
    const method = m[2] as LiveConnection["method"];
    const headerKey = req.headers.get("x-goog-api-key");
    const queryKey = url.searchParams.get("key");
    const auth = req.headers.get("authorization");
    const headerToken = auth?.startsWith("Token ") ? auth.slice(6) : null;
    const queryToken = url.searchParams.get("access_token");
    const ended = Promise.withResolvers<void>();
    const conn: LiveConnection = {
      path: url.pathname,
      method,
      query: url.searchParams,
      headers: new Headers(req.headers), // the request is gone once upgraded
      key: headerKey ?? queryKey,
      keySource: headerKey !== null ? "header" : queryKey !== null ? "query" : null,
      token: headerToken ?? queryToken,
      tokenSource: headerToken !== null ? "header" : queryToken !== null ? "query" : null,
      received: [],
      accepted: false,
      ended: ended.promise,
    };
    this.connections.push(conn);
    const refusedWith = conn.key ? this.#behaviorOf(conn.key).liveUpgradeStatus : undefined;
    if (refusedWith) {
      conn.closed = { code: 1006, reason: `HTTP ${refusedWith}`, by: "mock" };
      ended.resolve();
      return googleError({
        code: refusedWith,
        status: UPGRADE_STATUS[refusedWith],
        message: `The mock refused the upgrade with ${refusedWith}.`,
      });
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    this.#sockets.add(socket);
    let session: Session | undefined;
    socket.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
      const binary = typeof e.data !== "string";
      let message: Json;
      try {
        message = JSON.parse(typeof e.data === "string" ? e.data : decoder.decode(e.data));
      } catch {
        return this.#close(socket, conn, 1007, "Request contains an invalid argument.");
      }
      if (!session && !conn.setup) {
        if (!isObject(message.setup)) {
          return this.#close(socket, conn, 1007, "Request contains an invalid argument.");
        }
        conn.setup = message.setup;
        session = this.#setup(socket, conn);
        return;
      }
      conn.received.push({ binary, message });
      if (session) this.#onMessage(session, message);
    };
    socket.onclose = (e) => {
      this.#sockets.delete(socket);
      conn.closed ??= { code: e.code, reason: e.reason, by: "client" };
      session?.release();
      ended.resolve();
    };
    socket.onerror = () => {};
    return response;
  }

  #close(socket: WebSocket, conn: LiveConnection, code: number, reason: string): undefined {
    conn.closed ??= { code, reason: cut(reason), by: "mock" };
    if (socket.readyState < WebSocket.CLOSING) socket.close(code, cut(reason));
    return undefined;
  }

  /** Checks the credential and the setup; answers setupComplete or refuses. */
  #setup(socket: WebSocket, conn: LiveConnection): Session | undefined {
    let key = conn.key;
    if (conn.method === "BidiGenerateContentConstrained") {
      const t = conn.token ? this.#tokens.get(conn.token) : undefined;
      if (!t || t.uses <= 0) return this.#refuse(socket, conn, LIVE_REFUSALS.badToken);
      t.uses--;
      key = t.key;
      conn.key = key;
      conn.keySource = "token";
    }
    if (!key) return this.#refuse(socket, conn, LIVE_REFUSALS.noKey);
    const b = this.#behaviorOf(key);
    if (b.invalid) return this.#refuse(socket, conn, LIVE_REFUSALS.invalid);
    if (b.expired) return this.#refuse(socket, conn, LIVE_REFUSALS.expired);
    if (b.denied === "suspended") {
      return this.#refuse(socket, conn, {
        code: 1008,
        reason: `Permission denied: Consumer 'api_key:${key}' has been suspended.`,
      });
    }
    if (b.denied) {
      return this.#refuse(socket, conn, { code: 1008, reason: "Your API key was reported as leaked." });
    }
    if (b.hang) return undefined;
    const owner = b.project ?? key;
    if (b.liveQuota) return this.#refuse(socket, conn, LIVE_REFUSALS.quota);
    if (b.liveSessions !== undefined && (this.#open.get(owner) ?? 0) >= b.liveSessions) {
      return this.#refuse(socket, conn, LIVE_REFUSALS.sessions);
    }
    const setup = conn.setup!;
    const model = String(setup.model ?? "");
    if (!model.startsWith("models/") || model.includes("unknown")) {
      return this.#refuse(socket, conn, {
        code: 1008,
        reason:
          `${model} is not found for API version v1beta, or is not supported for bidiGenerateContent. ` +
          "Call ListModels to see the list of available models and their supported methods.",
      });
    }
    const resumption = isObject(setup.sessionResumption) ? setup.sessionResumption : undefined;
    const handle = typeof resumption?.handle === "string" ? resumption.handle : undefined;
    if (handle !== undefined && this.#handles.get(handle) !== owner) {
      return this.#refuse(socket, conn, LIVE_REFUSALS.badHandle);
    }
    this.#open.set(owner, (this.#open.get(owner) ?? 0) + 1);
    let released = false;
    const generation = isObject(setup.generationConfig) ? setup.generationConfig : {};
    const modalities = Array.isArray(generation.responseModalities) ? generation.responseModalities : [];
    const tools = (Array.isArray(setup.tools) ? setup.tools : []).flatMap((t) =>
      isObject(t) && Array.isArray(t.functionDeclarations)
        ? t.functionDeclarations.map((d) => String(isObject(d) ? d.name : ""))
        : []
    );
    const session: Session = {
      conn,
      socket,
      owner,
      audio: modalities.includes("AUDIO"),
      tools,
      resumption: resumption !== undefined,
      heard: [],
      calls: 0,
      handles: 0,
      release: () => {
        if (released) return;
        released = true;
        this.#open.set(owner, (this.#open.get(owner) ?? 1) - 1);
      },
    };
    conn.accepted = true;
    this.#send(session, { setupComplete: {} });
    this.#newHandle(session);
    return session;
  }

  #refuse(socket: WebSocket, conn: LiveConnection, r: { code: number; reason: string }): undefined {
    return this.#close(socket, conn, r.code, r.reason);
  }

  /** Sends a server message as Google does: one binary frame of UTF-8 JSON. */
  #send(s: Session, msg: Json): void {
    if (s.socket.readyState === WebSocket.OPEN) s.socket.send(encoder.encode(JSON.stringify(msg)));
  }

  #newHandle(s: Session): void {
    if (!s.resumption) return;
    const handle = `handle-${hash32(s.owner).toString(16)}-${++s.handles}-${randomId(8)}`;
    this.#handles.set(handle, s.owner);
    this.#send(s, { sessionResumptionUpdate: { newHandle: handle, resumable: true } });
  }

  #onMessage(s: Session, msg: Json): void {
    if (isObject(msg.clientContent)) {
      const turns = Array.isArray(msg.clientContent.turns) ? msg.clientContent.turns : [];
      const text = turns.flatMap((t) => isObject(t) && Array.isArray(t.parts) ? t.parts : [])
        .map((p) => isObject(p) && typeof p.text === "string" ? p.text : "").join("");
      if (msg.clientContent.turnComplete !== false) this.#turn(s, text);
      return;
    }
    if (isObject(msg.realtimeInput)) {
      const input = msg.realtimeInput;
      const chunks = [input.audio, ...(Array.isArray(input.mediaChunks) ? input.mediaChunks : [])];
      for (const c of chunks) {
        if (isObject(c) && typeof c.data === "string") {
          s.heard.push(Uint8Array.from(atob(c.data), (ch) => ch.charCodeAt(0)));
        }
      }
      if (typeof input.text === "string") this.#turn(s, input.text);
      if (input.audioStreamEnd === true) this.#answerAudio(s);
      return;
    }
    if (isObject(msg.toolResponse)) {
      const responses = Array.isArray(msg.toolResponse.functionResponses)
        ? msg.toolResponse.functionResponses
        : [];
      const result = `result: ${JSON.stringify(responses.map((r) => isObject(r) ? r.response : null))}`;
      this.#answer(s, { prompt: responses.length, text: result });
    }
  }

  #turn(s: Session, text: string): void {
    if (text === "GOAWAY") {
      this.#send(s, { goAway: { timeLeft: "1s" } });
      setTimeout(() => this.#close(s.socket, s.conn, 1000, ""), 50);
      return;
    }
    const close = /^CLOSE (\d{4}) ?(.*)$/.exec(text);
    if (close) return void this.#close(s.socket, s.conn, Number(close[1]), close[2]);
    if (s.tools.length) {
      const id = `function-call-${1_000_000_000 + ++s.calls}`;
      this.#send(s, { toolCall: { functionCalls: [{ id, name: s.tools[0], args: { query: text } }] } });
      return;
    }
    this.#answer(s, { prompt: wordCount(text), text: `echo: ${text}` });
  }

  /** A model turn: text in two messages (or audio), generationComplete, turnComplete with usage. */
  #answer(s: Session, o: { prompt: number; text?: string; audio?: Uint8Array }): void {
    if (o.audio) {
      for (let i = 0; i < o.audio.length; i += 3200) {
        const data = toBase64(o.audio.subarray(i, i + 3200));
        this.#send(s, {
          serverContent: {
            modelTurn: { parts: [{ inlineData: { mimeType: "audio/pcm;rate=24000", data } }] },
          },
        });
      }
    } else if (s.audio) {
      this.#send(s, {
        serverContent: {
          modelTurn: { parts: [{ inlineData: { mimeType: "audio/pcm;rate=24000", data: SINE_PCM_BASE64 } }] },
        },
      });
      this.#send(s, { serverContent: { outputTranscription: { text: o.text } } });
    } else {
      const text = o.text ?? "";
      const cutAt = Math.min(6, text.length);
      for (const piece of [text.slice(0, cutAt), text.slice(cutAt)]) {
        this.#send(s, { serverContent: { modelTurn: { parts: [{ text: piece }] } } });
      }
    }
    const response = o.audio ? Math.ceil(o.audio.length / 320) : wordCount(o.text ?? "");
    this.#send(s, { serverContent: { generationComplete: true } });
    this.#send(s, {
      serverContent: { turnComplete: true },
      usageMetadata: {
        promptTokenCount: o.prompt,
        responseTokenCount: response,
        totalTokenCount: o.prompt + response,
      },
    });
    this.#newHandle(s);
  }

  #answerAudio(s: Session): void {
    const total = s.heard.reduce((n, c) => n + c.length, 0);
    const all = new Uint8Array(total);
    let at = 0;
    for (const c of s.heard) {
      all.set(c, at);
      at += c.length;
    }
    s.heard = [];
    const prompt = Math.ceil(total / 320);
    if (s.audio) return this.#answer(s, { prompt, audio: all });
    this.#answer(s, { prompt, text: `heard ${total} bytes ${audioHash(all)}` });
  }
}

/** The mock's Live HTTP route: ephemeral tokens. */
export const LIVE_ROUTES: Route[] = [
  { method: "POST", path: "/auth_tokens", handle: (ctx) => ctx.state.live.createToken(ctx) },
];
