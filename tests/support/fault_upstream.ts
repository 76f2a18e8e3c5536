/**
 * A raw-TCP upstream that misbehaves on purpose, for the gateway's fault tests and benchmarks: it
 * speaks HTTP/1.1 by hand so that it can do what no well-behaved server does: close the connection
 * after the headers (or in the middle of a body), stall before or after the headers, drip a body
 * slowly, answer garbage with a 200, or send a huge body. Every request is answered by the next
 * scripted {@link Fault}, else by a normal Gemini answer in Google's shapes. It listens on 127.0.0.1
 * only.
 *
 * @example
 * ```ts
 * const up = FaultUpstream.start();
 * up.script({ kind: "stall_after_headers" }, { kind: "answer" });
 * // ... point the gateway's UPSTREAM_BASE_URL at up.url ...
 * await up.close();
 * ```
 * @module
 */

/** One scripted behaviour for one request. */
export type Fault =
  /** A normal answer: `body` is sent as one piece, or its pieces `delayMs` apart (a drip). Default: Gemini's answer. */
  | {
    kind: "answer";
    status?: number;
    contentType?: string;
    body?: string | string[];
    /** Pause between pieces, in ms. */
    delayMs?: number;
    /** Pause between the headers and the first piece, in ms. */
    startDelayMs?: number;
  }
  /** Sends the headers (and `body`, the first bytes), then closes the connection mid-answer. */
  | {
    kind: "reset_after_headers";
    status?: number;
    contentType?: string;
    body?: string;
    contentLength?: number;
  }
  /** Reads the request and never answers (until the peer or the server closes). */
  | { kind: "stall_before_headers" }
  /**
   * Sends the headers (and `body`), then sends nothing more (until the peer or the server closes); the
   * body is chunked unless `contentLength` declares its length.
   */
  | {
    kind: "stall_after_headers";
    status?: number;
    contentType?: string;
    body?: string;
    contentLength?: number;
  }
  /** Sends `bytes` bytes of body as fast as the peer reads them (a valid JSON string when unary). */
  | { kind: "huge"; bytes: number; status?: number; contentType?: string }
  /** Closes the connection as soon as the request arrived, before any answer. */
  | { kind: "close_before_headers" };

/** One request as the fault upstream received it. */
export interface FaultRequest {
  method: string;
  /** Path with query. */
  target: string;
  headers: Headers;
  body: string;
}

const enc = new TextEncoder();
const MODEL_LIST = JSON.stringify({
  models: ["gemini-2.5-flash", "gemini-2.5-pro"].map((id) => ({
    name: `models/${id}`,
    supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"],
  })),
});

/** A Gemini generateContent answer with `text`. */
export function geminiAnswer(text = "fine"): string {
  return JSON.stringify({
    candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: "STOP", index: 0 }],
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
    modelVersion: "gemini-2.5-flash",
  });
}

/** The SSE events of a streamed Gemini answer, one text delta each (`data: {...}\r\n\r\n`). */
export function geminiEvents(pieces: string[]): string[] {
  return pieces.map((text, i) =>
    `data: ${
      JSON.stringify({
        candidates: [{
          content: { role: "model", parts: [{ text }] },
          index: 0,
          ...(i === pieces.length - 1 ? { finishReason: "STOP" } : {}),
        }],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: i + 1, totalTokenCount: 4 + i },
      })
    }\r\n\r\n`
  );
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** The raw-TCP fault upstream. */
export class FaultUpstream {
  /** Base URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: FaultRequest[] = [];
  /** Connections the peer (the gateway) closed while this server was stalling or sending. */
  peerClosed = 0;
  readonly #listener: Deno.Listener;
  readonly #queue: Fault[] = [];
  readonly #conns = new Set<Deno.Conn>();
  #closed = false;
  #fallback: Fault = { kind: "answer" };

  private constructor(listener: Deno.Listener) {
    this.#listener = listener;
    this.url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    void this.#accept();
  }

  /** Starts a fault upstream on a loopback port (random unless given). */
  static start(port = 0): FaultUpstream {
    return new FaultUpstream(Deno.listen({ hostname: "127.0.0.1", port }));
  }

  /** Queues behaviours for the next requests, in order. */
  script(...faults: Fault[]): void {
    this.#queue.push(...faults);
  }

  /** The behaviour for requests when the script is empty (default: Gemini's normal answer). */
  otherwise(fault: Fault): void {
    this.#fallback = fault;
  }

  /** Connections currently open. */
  get open(): number {
    return this.#conns.size;
  }

  /** Waits until `peerClosed` reaches `n` (or `ms` pass); returns whether it did. */
  async waitPeerClosed(n: number, ms = 5000): Promise<boolean> {
    const until = performance.now() + ms;
    while (this.peerClosed < n && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.peerClosed >= n;
  }

  /** Closes every connection and stops listening. */
  close(): void {
    this.#closed = true;
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    this.#conns.clear();
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // closed
      }
      this.#conns.add(conn);
      void this.#serve(conn).catch(() => {}).finally(() => {
        this.#conns.delete(conn);
        try {
          conn.close();
        } catch { /* already closed */ }
      });
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const req = await readRequest(conn);
    if (!req) return;
    this.requests.push(req);
    const fault = this.#queue.shift() ?? this.#fallback;
    const streamed = req.target.includes(":streamGenerateContent");
    if (req.method === "GET" && /\/models\/?(\?|$)/.test(req.target) && fault === this.#fallback) {
      return await this.#answer(conn, { kind: "answer", body: MODEL_LIST }, false);
    }
    switch (fault.kind) {
      case "close_before_headers":
        return;
      case "stall_before_headers":
        return await this.#stall(conn);
      case "stall_after_headers": {
        const length = fault.contentLength ?? "chunked";
        await conn.write(enc.encode(head(fault.status ?? 200, fault.contentType ?? type(streamed), length)));
        if (fault.body) await conn.write(enc.encode(length === "chunked" ? chunk(fault.body) : fault.body));
        return await this.#stall(conn);
      }
      case "reset_after_headers": {
        const length = fault.contentLength ?? (fault.body?.length ?? 0) + 1000;
        await conn.write(enc.encode(head(fault.status ?? 200, fault.contentType ?? type(streamed), length)));
        if (fault.body) await conn.write(enc.encode(fault.body));
        return; // the connection closes with the answer unfinished
      }
      case "huge":
        return await this.#huge(conn, fault, streamed);
      case "answer":
        return await this.#answer(conn, fault, streamed);
    }
  }

  async #answer(conn: Deno.Conn, f: Extract<Fault, { kind: "answer" }>, streamed: boolean): Promise<void> {
    const pieces = f.body === undefined
      ? (streamed ? geminiEvents(["one ", "two ", "three"]) : [geminiAnswer()])
      : Array.isArray(f.body)
      ? f.body
      : [f.body];
    const contentType = f.contentType ?? type(streamed);
    if (!f.delayMs && !f.startDelayMs && pieces.length === 1) {
      const bytes = enc.encode(pieces[0]);
      await conn.write(enc.encode(head(f.status ?? 200, contentType, bytes.length)));
      await conn.write(bytes);
      return;
    }
    await conn.write(enc.encode(head(f.status ?? 200, contentType, "chunked")));
    for (const [i, piece] of pieces.entries()) {
      const pause = i === 0 ? f.startDelayMs : f.delayMs;
      if (pause) await new Promise((r) => setTimeout(r, pause));
      if (!await this.#write(conn, chunk(piece))) return;
    }
    await this.#write(conn, "0\r\n\r\n");
  }

  async #huge(conn: Deno.Conn, f: Extract<Fault, { kind: "huge" }>, streamed: boolean): Promise<void> {
    await conn.write(enc.encode(head(f.status ?? 200, f.contentType ?? type(streamed), f.bytes)));
    const block = enc.encode("x".repeat(64 * 1024));
    let left = f.bytes;
    const open = enc.encode('"');
    if (left > 0 && !await this.#writeBytes(conn, open)) return;
    left--;
    while (left > 1) {
      const n = Math.min(block.length, left - 1);
      if (!await this.#writeBytes(conn, block.subarray(0, n))) return;
      left -= n;
    }
    if (left === 1) await this.#writeBytes(conn, open);
  }

  async #write(conn: Deno.Conn, text: string): Promise<boolean> {
    return await this.#writeBytes(conn, enc.encode(text));
  }

  async #writeBytes(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
    try {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
      return true;
    } catch {
      this.peerClosed++;
      return false;
    }
  }

  /** Holds the connection until the peer closes it (counted) or the server closes. */
  async #stall(conn: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(1024);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) {
        if (!this.#closed) this.peerClosed++;
        return;
      }
    }
  }
}

function type(streamed: boolean): string {
  return streamed ? "text/event-stream" : "application/json; charset=UTF-8";
}

function head(status: number, contentType: string, length: number | "chunked"): string {
  const framing = length === "chunked" ? "transfer-encoding: chunked" : `content-length: ${length}`;
  return `HTTP/1.1 ${status} ${
    REASONS[status] ?? "Status"
  }\r\ncontent-type: ${contentType}\r\n${framing}\r\nconnection: close\r\n\r\n`;
}

function chunk(text: string): string {
  return `${enc.encode(text).length.toString(16)}\r\n${text}\r\n`;
}

/** Reads one request (head, and a body of `content-length` bytes); null when the peer left first. */
async function readRequest(conn: Deno.Conn): Promise<FaultRequest | null> {
  const dec = new TextDecoder();
  let data: Uint8Array = new Uint8Array(0);
  const buf = new Uint8Array(64 * 1024);
  let headEnd = -1;
  while (headEnd < 0) {
    const n = await conn.read(buf);
    if (n === null) return null;
    data = join(data, buf.subarray(0, n));
    headEnd = indexOfBlankLine(data);
  }
  const [line, ...fields] = dec.decode(data.subarray(0, headEnd)).split("\r\n");
  const [method, target] = line.split(" ");
  const headers = new Headers();
  for (const f of fields) {
    const i = f.indexOf(":");
    if (i > 0) headers.append(f.slice(0, i).trim(), f.slice(i + 1).trim());
  }
  const length = Number(headers.get("content-length") ?? 0);
  let body: Uint8Array = data.subarray(headEnd + 4);
  while (body.length < length) {
    const n = await conn.read(buf);
    if (n === null) return null;
    body = join(body, buf.subarray(0, n));
  }
  return { method, target, headers, body: dec.decode(body) };
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfBlankLine(d: Uint8Array): number {
  for (let i = 0; i + 3 < d.length; i++) {
    if (d[i] === 13 && d[i + 1] === 10 && d[i + 2] === 13 && d[i + 3] === 10) return i;
  }
  return -1;
}
