/**
 * One Live API session relayed between a client and Google. The session reads the client's first
 * message (the setup, naming the model), chooses a key for that model through the pool (or the key an
 * ephemeral token or a resumption handle belongs to), opens the upstream WebSocket with that key and
 * waits for `setupComplete`. A refusal before that is classified like any HTTP attempt
 * (`lib/pool/classify.ts` on the close mapped by `close_codes.ts`): the key is cooled, disabled or
 * counted full, and the next key tries, so the client only sees a failure no key could avoid. After
 * `setupComplete`, frames pass both ways as they come (text stays text, binary stays binary, in order,
 * nothing buffered), and whichever side closes first closes the other with its code and reason (keys
 * redacted). The session is one log record: setup latency, duration, turns, close code, tokens.
 *
 * @module
 */
import type { KeyChoice, KeyPool, NoKey } from "../pool/key_pool.ts";
import { kindOf } from "../pool/key_record.ts";
import { classify, type Verdict } from "../pool/classify.ts";
import type { UsageCounter, UsageDelta } from "../pool/usage.ts";
import type { RecordSink, RequestRecord } from "../pipeline/request_record.ts";
import type { Settings } from "../settings_schema.ts";
import { redactKeys } from "../secrets/redact.ts";
import {
  clientCloseCode,
  CLOSE,
  closeCodeFor,
  closeReason,
  type Refusal,
  refusalOf,
  upgradeRefusal,
  upstreamCloseCode,
} from "./close_codes.ts";
import { type LiveEndpoint, livePath, liveUpstreamUrl } from "./endpoints.ts";
import {
  type Frame,
  frameBytes,
  goAwayFrame,
  inspectServerFrame,
  readSetup,
  type ServerFacts,
  usageTokens,
} from "./messages.ts";
import type { LivePins } from "./pins.ts";
import type { SessionCounts } from "./session_counts.ts";
import { type AttemptResult, openUpstream } from "./upstream.ts";

/** Resumption handles stay valid for 2 hours after a session ends (Google's Live API session management guide). */
export const HANDLE_TTL_MS = 2 * 3600_000;

/** The settings a session reads. */
export type SessionSettings = Pick<
  Settings,
  | "upstreamBaseUrl"
  | "maxAttempts"
  | "requestTimeoutMs"
  | "defaultCooldownMs"
  | "liveMaxFrameBytes"
  | "liveSetupTimeoutMs"
>;

/** What every session needs (shared by all sessions). */
export interface SessionDeps {
  pool: KeyPool;
  counts: SessionCounts;
  pins: LivePins;
  settings: () => SessionSettings;
  usage?: UsageCounter;
  onRecord?: RecordSink;
  /** An HTTP client per key (upstream proxies), if any. */
  clientFor?: (keyId: string) => Deno.HttpClient | undefined;
  /** Told when a key's upstream could not be reached (so a failing proxy can be skipped). */
  onNetworkError?: (keyId: string, error: unknown) => void;
  /** Whether the client token may use the model (its allow-list). */
  modelAllowed: (tokenName: string, model: string) => boolean;
  /**
   * Masks secrets in close reasons, key reasons and logs (default: secret shapes only; the gateway
   * passes its `Redactor`, which knows every pool key whatever its shape).
   */
  redact?: (text: string) => string;
}

/** One session's start. */
export interface SessionInit {
  /** The client's socket (from `Deno.upgradeWebSocket`). */
  client: WebSocket;
  /** The endpoint to open upstream (the client's version; its method). */
  endpoint: LiveEndpoint;
  /** The client token's name (the creator's, for an ephemeral token). */
  tokenName: string;
  /** The client's ephemeral token and the key it belongs to (Constrained sessions). */
  ephemeral?: { token: string; keyId: string };
  /** Handshake headers to pass on (the client SDK's `user-agent`, `x-goog-api-client`). */
  headers: Headers;
  /** Called once when the session has ended. */
  onEnd: (session: LiveSession) => void;
}

/** How a session ends. */
interface Ending {
  by: "client" | "upstream" | "gateway";
  /** The code the client sent or gets (Google's own, for upstream closes). */
  code: number;
  reason: string;
  /** The HTTP status of the record when the session never opened. */
  status?: number;
  /** The error of the record (a Google error body as JSON, or a sentence). */
  error?: string;
}

type State = "setup" | "connecting" | "open" | "closed";

/** The key a session must use, and the credential that pins it there (named in refusals). */
interface Pinned {
  keyId: string;
  by: "ephemeral token" | "session resumption handle";
}

/** Verdicts that hold a key's credential responsible (it is disabled, or its project has no access). */
const CREDENTIAL_VERDICTS: ReadonlySet<Verdict["kind"]> = new Set(["disable", "no_access"]);

/** One relayed Live session. */
export class LiveSession {
  readonly #deps: SessionDeps;
  readonly #init: SessionInit;
  readonly #client: WebSocket;
  readonly #t0 = performance.now();
  readonly #abort = new AbortController();
  readonly #rec: RequestRecord;
  #state: State = "setup";
  #upstream?: WebSocket;
  #release = () => {};
  #queue: Frame[] = [];
  #queuedBytes = 0;
  #turns = 0;
  #goAway = false;
  #resumed = false;
  #lastHandle?: string;
  #inputTokens = 0;
  #outputTokens = 0;
  #finished = Promise.withResolvers<void>();
  #setupTimer?: ReturnType<typeof setTimeout>;

  constructor(deps: SessionDeps, init: SessionInit) {
    this.#deps = deps;
    this.#init = init;
    this.#client = init.client;
    this.#rec = {
      time: Date.now(),
      route: "live",
      method: "WS",
      path: livePath(init.endpoint),
      tokenName: init.tokenName,
      status: 0,
      latencyMs: 0,
      attempts: 0,
      stream: true,
    };
    const client = this.#client;
    client.binaryType = "arraybuffer";
    client.onmessage = (e: MessageEvent<Frame>) => this.#fromClient(e.data);
    client.onclose = (e) => {
      this.#end({ by: "client", code: e.code, reason: e.reason });
      this.#finished.resolve();
    };
    client.onerror = () => {}; // the close event that follows ends the session
    // A client that never sends its setup would hold its place (LIVE_MAX_SESSIONS_PER_TOKEN) for good.
    const setupMs = deps.settings().liveSetupTimeoutMs;
    this.#setupTimer = setTimeout(() => {
      if (this.#state !== "setup") return;
      const why =
        `No setup message arrived within ${setupMs} ms of the WebSocket opening (LIVE_SETUP_TIMEOUT_MS).`;
      this.#end({ by: "gateway", code: CLOSE.policyViolation, reason: why, status: 408, error: why });
    }, setupMs);
  }

  /** Settles when the client's socket has closed. */
  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  /** Tells the client the session ends in `timeLeftMs` (a `goAway` in Google's shape), when it is open. */
  goAway(timeLeftMs: number): void {
    if (this.#state === "open" && this.#client.readyState === WebSocket.OPEN) {
      this.#client.send(goAwayFrame(timeLeftMs));
    }
  }

  /** Ends the session now: the client gets 1001 (going away), the upstream a normal close. */
  shutdown(): void {
    this.#end({
      by: "gateway",
      code: CLOSE.goingAway,
      reason: "The gateway is shutting down; reconnect to continue the session.",
      status: 503,
    });
  }

  get #redact(): (text: string) => string {
    return this.#deps.redact ?? redactKeys;
  }

  #elapsed(): number {
    return Math.round(performance.now() - this.#t0);
  }

  #fromClient(frame: Frame): void {
    const size = frameBytes(frame);
    const max = this.#deps.settings().liveMaxFrameBytes;
    if (size > max) {
      return this.#refuse(413, `A message of ${size} bytes is larger than LIVE_MAX_FRAME_BYTES (${max}).`);
    }
    switch (this.#state) {
      case "open":
        this.#upstream!.send(frame);
        return;
      case "connecting":
        // Until Google confirms the setup, messages wait here (at most one frame's worth of bytes).
        if (this.#queuedBytes + size > max) {
          return this.#refuse(413, `More than ${max} bytes arrived before the session was set up.`);
        }
        this.#queue.push(frame);
        this.#queuedBytes += size;
        return;
      case "setup":
        return this.#setup(frame);
    }
  }

  /** Ends a session the gateway refuses, with the close code for `status`. */
  #refuse(status: number, why: string): void {
    this.#end({ by: "gateway", code: closeCodeFor(status), reason: why, status, error: why });
  }

  #setup(frame: Frame): void {
    const facts = readSetup(frame);
    if ("error" in facts) return this.#refuse(400, facts.error);
    const { ephemeral, tokenName } = this.#init;
    if (!facts.model && !ephemeral) {
      return this.#refuse(400, 'The setup names no model: {"setup": {"model": "models/<model>", ...}}.');
    }
    if (facts.model && !this.#deps.modelAllowed(tokenName, facts.model)) {
      return this.#refuse(403, `The client token '${tokenName}' may not use model '${facts.model}'.`);
    }
    this.#rec.model = facts.model;
    this.#resumed = facts.handle !== undefined;
    const handleKey = facts.handle ? this.#deps.pins.find("handle", facts.handle)?.keyId : undefined;
    const pinned: Pinned | undefined = ephemeral
      ? { keyId: ephemeral.keyId, by: "ephemeral token" }
      : handleKey
      ? { keyId: handleKey, by: "session resumption handle" }
      : undefined;
    this.#state = "connecting";
    clearTimeout(this.#setupTimer);
    void this.#connect(frame, pinned).catch((e) => {
      console.error(`Live session failed: ${this.#redact(String(e instanceof Error ? e.stack : e))}`);
      this.#end({ by: "gateway", code: CLOSE.internalError, reason: "Internal gateway error.", status: 500 });
    });
  }

  /** Tries keys until Google confirms the setup, a refusal says no other key can help, or none is left. */
  async #connect(setup: Frame, pinned?: Pinned): Promise<void> {
    const s = this.#deps.settings();
    const model = this.#rec.model ?? "*";
    const tried = new Set<string>();
    let last: Ending | undefined;
    while (this.#rec.attempts < s.maxAttempts) {
      const choice = this.#chooseKey(model, tried, pinned);
      if ("freeAt" in choice) {
        last ??= this.#noKey(choice);
        break;
      }
      tried.add(choice.id);
      this.#rec.attempts++;
      this.#rec.keyId = choice.id;
      const release = this.#deps.counts.acquire(choice.id);
      const result = await openUpstream({
        url: liveUpstreamUrl(s.upstreamBaseUrl, this.#init.endpoint),
        headers: this.#upstreamHeaders(choice),
        client: this.#deps.clientFor?.(choice.id),
        setup,
        timeoutMs: s.requestTimeoutMs,
        signal: this.#abort.signal,
      });
      if (result.kind === "open") return this.#opened(choice, release, result);
      release();
      if (result.kind === "aborted") return; // the client left; #end has recorded it
      const failure = this.#failed(choice, result, model);
      last = failure.ending;
      if (!failure.retry || pinned) break;
    }
    this.#end(
      last ??
        { by: "gateway", code: CLOSE.tryAgainLater, reason: "No key could serve this session.", status: 503 },
    );
  }

  #chooseKey(model: string, tried: ReadonlySet<string>, pinned?: Pinned): KeyChoice | NoKey {
    if (!pinned) return this.#deps.counts.choose(model, tried);
    const r = this.#deps.pool.get(pinned.keyId);
    if (r) return { id: r.id, key: r.key, kind: kindOf(r) };
    return { freeAt: Infinity, reason: `the key that issued this ${pinned.by} was removed from the pool` };
  }

  #noKey(no: NoKey): Ending {
    const status = this.#deps.pool.size === 0 || !Number.isFinite(no.freeAt) ? 503 : 429;
    // A close reason holds 123 bytes: the pool's sentence alone, the full one in the record.
    const reason = `${no.reason[0].toUpperCase()}${no.reason.slice(1)}.`;
    return {
      by: "gateway",
      code: CLOSE.tryAgainLater,
      reason,
      status,
      error: `No key can serve this session: ${reason}`,
    };
  }

  /** The handshake headers: the credential (only ever in a header) and the client SDK's headers. */
  #upstreamHeaders(choice: KeyChoice): Headers {
    const headers = new Headers(this.#init.headers);
    const { ephemeral } = this.#init;
    if (ephemeral) headers.set("authorization", `Token ${ephemeral.token}`);
    else headers.set("x-goog-api-key", choice.key);
    return headers;
  }

  /**
   * An attempt that ended before `setupComplete`: tells the pool what it means for the key and counts it.
   *
   * @returns the ending to give the client if no other key serves, and whether another key may try.
   */
  #failed(
    choice: KeyChoice,
    result: Exclude<AttemptResult, { kind: "open" | "aborted" }>,
    model: string,
  ): { ending: Ending; retry: boolean } {
    const { pool, counts, settings } = this.#deps;
    const s = settings();
    if (result.kind === "timeout") {
      const reason = `Google did not confirm the setup within ${s.requestTimeoutMs} ms (REQUEST_TIMEOUT_MS).`;
      pool.report(choice.id, model, { kind: "transient", reason });
      this.#count(choice.id, { requests: 1, errors: 1 });
      return {
        ending: { by: "gateway", code: CLOSE.badGateway, reason, status: 504, error: reason },
        retry: true,
      };
    }
    if (!result.connected && !result.httpStatus) {
      this.#deps.onNetworkError?.(choice.id, new Error(result.reason || "connection failed"));
    }
    const refusal = result.httpStatus
      ? upgradeRefusal(result.httpStatus)
      : refusalOf(result.code, result.reason, this.#redact);
    const error = JSON.stringify(refusal.body);
    const rateLimited = refusal.status === 429 ? 1 : 0;
    this.#count(choice.id, { requests: 1, errors: 1, rateLimited });
    const ending: Ending = result.connected
      ? { by: "upstream", code: result.code, reason: result.reason, status: refusal.status, error }
      : {
        by: "gateway",
        code: result.httpStatus ? closeCodeFor(refusal.status) : CLOSE.badGateway,
        reason: result.httpStatus ? refusal.body.error.message : "Could not reach Google's Live API.",
        status: result.httpStatus ? refusal.status : 502,
        error,
      };
    if (refusal.sessionLimit) {
      counts.learnLimit(choice.id, s.defaultCooldownMs);
      return { ending, retry: true };
    }
    const verdict = this.#judge(choice.id, model, refusal);
    return { ending, retry: verdict.kind !== "client_error" };
  }

  /**
   * Classifies a refusal like an HTTP answer and tells the pool what it means for the key. On a session
   * with an ephemeral token only the token went upstream, so a refusal of the credential (a used-up,
   * expired or misused token reads like a bad key: "Method doesn't allow unregistered callers", "API
   * key not valid") says nothing about the pool key that created it: the key is left as it is.
   */
  #judge(keyId: string, model: string, refusal: Refusal): Verdict {
    const { pool, settings } = this.#deps;
    const verdict = classify({
      status: refusal.status,
      body: refusal.body,
      now: Date.now(),
      defaultCooldownMs: settings().defaultCooldownMs,
    });
    if (this.#init.ephemeral && CREDENTIAL_VERDICTS.has(verdict.kind)) return verdict;
    pool.report(keyId, model, verdict);
    if (verdict.kind === "disable") pool.patch(keyId, { lastError: refusal.body.error.message });
    return verdict;
  }

  /** Google confirmed the setup: relay its first messages and the client's queued ones, then everything. */
  #opened(choice: KeyChoice, release: () => void, result: Extract<AttemptResult, { kind: "open" }>): void {
    const { socket, frames } = result;
    this.#state = "open";
    this.#upstream = socket;
    this.#release = release;
    this.#rec.status = 101;
    this.#rec.latencyMs = this.#elapsed();
    this.#deps.pool.report(choice.id, this.#rec.model ?? "*", { kind: "ok" });
    this.#count(choice.id, { requests: 1, ok: 1 });
    socket.onmessage = (e: MessageEvent<Frame>) => this.#fromUpstream(e.data);
    socket.onclose = (e) => {
      // A quota crossed (or a key revoked) during the session: the pool learns it for the next ones.
      if (e.code !== CLOSE.normal && e.reason) {
        const refusal = refusalOf(e.code, e.reason, this.#redact);
        if (refusal.status === 429 || refusal.status === 400 || refusal.status === 403) {
          this.#judge(choice.id, this.#rec.model ?? "*", refusal);
        }
      }
      this.#end({ by: "upstream", code: e.code, reason: e.reason });
    };
    socket.onerror = () => {};
    for (const f of frames) this.#fromUpstream(f);
    for (const f of this.#queue) socket.send(f);
    this.#queue = [];
    this.#queuedBytes = 0;
  }

  #fromUpstream(frame: Frame): void {
    const facts = inspectServerFrame(frame);
    if (facts) this.#observe(facts);
    if (this.#client.readyState === WebSocket.OPEN) this.#client.send(frame);
  }

  #observe(facts: ServerFacts): void {
    const keyId = this.#rec.keyId!;
    if (facts.turnComplete) this.#turns++;
    if (facts.goAway !== undefined) this.#goAway = true;
    if (facts.newHandle) {
      this.#lastHandle = facts.newHandle;
      this.#deps.pins.pin("handle", facts.newHandle, {
        keyId,
        tokenName: this.#init.tokenName,
        ttlMs: HANDLE_TTL_MS,
      });
    }
    if (facts.usage) {
      const t = usageTokens(facts.usage);
      this.#inputTokens += t.inputTokens;
      this.#outputTokens += t.outputTokens;
      this.#count(keyId, t);
    }
  }

  #count(keyId: string, delta: UsageDelta): void {
    this.#deps.usage?.count({ keyId, model: this.#rec.model, tokenName: this.#init.tokenName }, delta);
  }

  /** Closes both sides (once) and writes the session's record. */
  #end(e: Ending): void {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    clearTimeout(this.#setupTimer);
    this.#abort.abort();
    this.#release();
    const upstream = this.#upstream;
    if (upstream) upstream.onmessage = upstream.onclose = null;
    let code = e.code;
    const reason = closeReason(e.reason, this.#redact);
    if (e.by === "client") {
      if (upstream && upstream.readyState < WebSocket.CLOSING) {
        const up = upstreamCloseCode(e.code);
        upstream.close(up, up === e.code ? reason : undefined);
      }
    } else {
      const out = e.by === "upstream" ? clientCloseCode(e.code) : e.code;
      code = out ?? e.code;
      if (this.#client.readyState < WebSocket.CLOSING) {
        if (out === undefined) this.#client.close();
        else this.#client.close(out, reason);
      }
      if (upstream && upstream.readyState < WebSocket.CLOSING) upstream.close(CLOSE.normal);
    }
    this.#record(e, { wasOpen, code, reason });
    if (this.#lastHandle) {
      // The handle stays valid for two hours after the session ends.
      this.#deps.pins.pin("handle", this.#lastHandle, {
        keyId: this.#rec.keyId!,
        tokenName: this.#init.tokenName,
        ttlMs: HANDLE_TTL_MS,
      });
    }
    this.#init.onEnd(this);
  }

  #record(e: Ending, closed: { wasOpen: boolean; code: number; reason: string }): void {
    const rec = this.#rec;
    if (!closed.wasOpen) {
      rec.status = e.status ?? (e.by === "client" ? 499 : 502);
      rec.latencyMs = this.#elapsed();
      rec.error = e.error ??
        (e.by === "client" ? "The client closed the session before it was set up." : undefined);
    } else if (e.by !== "client" && closed.code !== CLOSE.normal && closed.reason) {
      rec.error = closed.reason;
    }
    if (this.#inputTokens || this.#outputTokens) {
      rec.inputTokens = this.#inputTokens;
      rec.outputTokens = this.#outputTokens;
    }
    rec.live = {
      durationMs: this.#elapsed(),
      turns: this.#turns,
      closeCode: closed.code,
      ...(closed.reason ? { closeReason: closed.reason } : {}),
      closedBy: e.by,
      ...(this.#goAway ? { goAway: true } : {}),
      ...(this.#resumed ? { resumed: true } : {}),
    };
    this.#deps.onRecord?.(rec);
  }
}
