/**
 * A mock of Google's Gemini API (`generativelanguage.googleapis.com`) for gateway tests and benchmarks.
 * Speaks the real wire format (see /work/shared/docs/gemini-openai-wire.md parts A-D): routes under
 * `/v1beta`, `/v1`, `/v1alpha` and `/upload/{version}` (note: @google/genai 3.x defaults to `/v1/...`),
 * Google's error envelopes, SSE and JSON-array streams, per-project fixed-window quotas, resumable uploads,
 * cached contents, batches (inline and file input, results file), Veo's long-running operations, file
 * search stores, media downloads (`files/{id}:download` redirects to `/download/...`) and Gemini 3 thought
 * signatures. Every resource belongs to the project of the key that created it: another project's key
 * gets Google's 403 (files, caches) or 404 (batches, operations, stores).
 *
 * Deterministic replies (`:generateContent`, and `:streamGenerateContent` split into >= 3 deltas):
 * - default text `echo: <text of the last user turn>`; usage counts are word counts;
 * - `generationConfig.candidateCount` n -> n candidates; `maxOutputTokens` < 5 -> truncated, `MAX_TOKENS`;
 * - user text containing `BLOCKME` -> no candidates, `promptFeedback.blockReason: "SAFETY"`;
 * - `responseMimeType: application/json` -> JSON built from `responseJsonSchema`/`responseSchema`
 *   (strings "x", numbers 1, booleans true, one array item, first enum value), else `{"echo": ...}`;
 * - `thinkingConfig.includeThoughts` -> first part `{text: "Thinking about it.", thought: true}`;
 *   `thoughtsTokenCount: 3` whenever thinking is configured;
 * - function declarations + a user turn -> a call to the first function (all of them if the text
 *   contains `parallel`); Gemini 3 models (`gemini-3*`, `gemini-flash-latest`) add `thoughtSignature`,
 *   reject histories without it and refuse thinking levels they lack, with Google's 400
 *   (`MockOptions.functionCallIds` adds `functionCall.id`);
 * - a last turn with `functionResponse` parts -> `result: <JSON of the responses' .response, in order>`;
 * - `MockOptions.reply` scripts the parts of an answer (function calls signed as above);
 * - `googleSearch` tool -> `groundingMetadata`; IMAGE modality or an `*image*` model -> PNG `inlineData`;
 *   AUDIO modality -> 4800 bytes of 24 kHz PCM.
 * Live API sessions (WebSocket upgrades at Google's Live paths) and ephemeral tokens are served by
 * {@link MockGemini.live} (`mock_gemini_live.ts`).
 * Key behaviours come from {@link MockGemini.setKey}; limits are read from the calling key, counters are
 * shared by keys of the same `project` (files and caches too). {@link MockGemini.stats} counts model calls
 * (`POST models/{model}:{method}`) only.
 *
 * @example
 * ```ts
 * const mock = await MockGemini.start({ minuteMs: 1000 });
 * mock.setKey("k1", { rpm: 2 });
 * // ... point the gateway at mock.url ...
 * await mock.close();
 * ```
 * @module
 */

import {
  deniedKeyError,
  invalidKeyError,
  locationError,
  noKeyError,
  notFoundError,
  transientError,
} from "./mock_gemini_http.ts";
import { QuotaCounter } from "./mock_gemini_limits.ts";
import { MODEL_ROUTES, rpcMethodName } from "./mock_gemini_model_routes.ts";
import { RESOURCE_ROUTES } from "./mock_gemini_resource_routes.ts";
import { JOB_ROUTES } from "./mock_gemini_jobs.ts";
import { LIVE_ROUTES, LiveMock } from "./mock_gemini_live.ts";
import type {
  Injection,
  MidStreamFailure,
  MockKeyBehavior,
  MockOptions,
  MockState,
  MockStats,
  RecordedRequest,
  Route,
  RouteContext,
} from "./mock_gemini_types.ts";
import { hash32 } from "./mock_gemini_util.ts";

export type { MockKeyBehavior, MockOptions, MockStats, RecordedRequest } from "./mock_gemini_types.ts";

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const body = route.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/:]+)";
  });
  const prefix = route.upload
    ? "^/upload/(v1|v1beta|v1alpha)"
    : route.download
    ? "^/download/(v1|v1beta|v1alpha)"
    : "^/(v1|v1beta|v1alpha)";
  return { route, regex: new RegExp(prefix + body + "$"), names };
}

/**
 * The route table: model routes, then files/caches, then batches, operations, stores and downloads,
 * then ephemeral tokens.
 */
const ROUTES: CompiledRoute[] = [...MODEL_ROUTES, ...RESOURCE_ROUTES, ...JOB_ROUTES, ...LIVE_ROUTES].map(
  compile,
);

const DEFAULTS: Required<MockOptions> = {
  minuteMs: 60_000,
  chunkDelayMs: 0,
  pageSize: 3,
  functionCallIds: false,
  reply: () => undefined,
  now: () => Date.now(),
  pendingPolls: 0,
};

/** A running mock Gemini server on 127.0.0.1 (random port). */
export class MockGemini {
  /** Base URL, e.g. `http://127.0.0.1:PORT` (use as the SDK's `httpOptions.baseUrl`). */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Live API sessions (WebSocket) and ephemeral tokens; `live.connections` records every session. */
  readonly live: LiveMock;

  #server: Deno.HttpServer<Deno.NetAddr>;
  #state: MockState;
  #closing = new AbortController();
  #keys = new Map<string, MockKeyBehavior>();
  #injections: Injection[] = [];
  #live = 0;
  #stats: MockStats = { ok: 0, rateLimited: 0, byKey: {} };

  private constructor(server: Deno.HttpServer<Deno.NetAddr>, options: Required<MockOptions>) {
    this.#server = server;
    this.url = `http://127.0.0.1:${server.addr.port}`;
    this.live = new LiveMock({ behaviorOf: (key) => this.#keys.get(key) ?? {} });
    this.#state = {
      url: this.url,
      options,
      quotas: new QuotaCounter({ minuteMs: options.minuteMs, now: options.now }),
      closing: this.#closing.signal,
      files: new Map(),
      uploads: new Map(),
      caches: new Map(),
      operations: new Map(),
      stores: new Map(),
      signatures: new Set(),
      live: this.live,
    };
  }

  /** Starts a mock on 127.0.0.1 with a random port. */
  static start(opts: MockOptions = {}): Promise<MockGemini> {
    const options = { ...DEFAULTS, ...opts };
    const holder: { mock?: MockGemini } = {};
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => holder.mock ? holder.mock.#handle(req) : new Response("starting", { status: 503 }),
    );
    holder.mock = new MockGemini(server, options);
    return Promise.resolve(holder.mock);
  }

  /** Sets how a key behaves (unknown keys are valid and unlimited). */
  setKey(key: string, b: MockKeyBehavior): void {
    this.#keys.set(key, b);
  }

  /**
   * Makes the next `count` (default 1) model calls, optionally only for `key`/`model`, fail with Google's
   * body. With `afterChunks`, only `:streamGenerateContent` calls match: they answer 200, send that many
   * chunks, then the error object (`data: {"error":...}` in SSE) and end.
   */
  failNext(
    opts: {
      status: 500 | 503 | 504;
      count?: number;
      key?: string;
      model?: string;
      afterChunks?: number;
      message?: string;
    },
  ): void {
    const { count, ...rest } = opts;
    this.#injections.push({ ...rest, remaining: count ?? 1 });
  }

  /** Number of recorded requests that carried `key`. */
  callsFor(key: string): number {
    return this.requests.filter((r) => r.key === key).length;
  }

  /** Requests currently in flight (streams count until they end or the client aborts). */
  liveConnections(): number {
    return this.#live;
  }

  /** Counters of model calls (POST models/{model}:method) by outcome. */
  stats(): MockStats {
    return structuredClone(this.#stats);
  }

  /** Clears quota counters, recorded requests, stats and pending failure injections. */
  reset(): void {
    this.requests.length = 0;
    this.#injections = [];
    this.#state.quotas.reset();
    this.#stats = { ok: 0, rateLimited: 0, byKey: {} };
    this.live.reset();
  }

  /** Ends hanging requests and streams, then stops the server. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return await this.#server.finished;
    this.#closing.abort();
    this.live.closeAll();
    await this.#server.shutdown();
  }

  #count(key: string | null, status: number): void {
    const outcome = status < 400 ? "ok" : status === 429 ? "rateLimited" : "rejected";
    if (outcome === "ok") this.#stats.ok++;
    if (outcome === "rateLimited") this.#stats.rateLimited++;
    if (key === null) return;
    const entry = this.#stats.byKey[key] ??= { ok: 0, rateLimited: 0, rejected: 0 };
    entry[outcome]++;
  }

  /** Consumes the first matching injection: an error response now, or a failure for the stream. */
  #takeInjection(
    o: { key: string | null; model: string; method: string },
  ): Response | MidStreamFailure | null {
    const i = this.#injections.findIndex((inj) =>
      inj.remaining > 0 && (inj.key === undefined || inj.key === o.key) &&
      (inj.model === undefined || inj.model === o.model) &&
      (inj.afterChunks === undefined || o.method === "streamGenerateContent")
    );
    if (i < 0) return null;
    const inj = this.#injections[i];
    if (--inj.remaining <= 0) this.#injections.splice(i, 1);
    return inj.afterChunks === undefined
      ? transientError(inj.status, inj.message)
      : { status: inj.status, afterChunks: inj.afterChunks };
  }

  /** Auth check: null when the key may proceed. */
  #authError(
    ctx: { key: string | null; behavior: MockKeyBehavior; version: string; method?: string },
  ): Response | null {
    const { key, behavior } = ctx;
    if (key === null || key === "") return noKeyError();
    if (behavior.invalid || behavior.expired) return invalidKeyError(!behavior.invalid && !!behavior.expired);
    if (behavior.denied) {
      return deniedKeyError({
        kind: behavior.denied,
        key,
        project: String(100000000000 + (hash32(behavior.project ?? key) % 899999999999)),
        rpcMethod: rpcMethodName(ctx.method),
        version: ctx.version,
      });
    }
    return null;
  }

  async #handle(req: Request): Promise<Response> {
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") return this.live.upgrade(req);
    const url = new URL(req.url);
    let bodyBytes: Uint8Array;
    try {
      bodyBytes = new Uint8Array(await req.arrayBuffer());
    } catch {
      return new Response(null, { status: 499 }); // the client went away while sending the body
    }
    const bodyText = new TextDecoder().decode(bodyBytes);
    const headerKey = req.headers.get("x-goog-api-key");
    const queryKey = url.searchParams.get("key");
    const key = headerKey ?? queryKey;
    let json: unknown;
    let jsonError: string | undefined;
    if (bodyText.trim() !== "") {
      try {
        json = JSON.parse(bodyText);
      } catch (e) {
        jsonError = `Unexpected token. ${e instanceof Error ? e.message : String(e)}`;
      }
    }

    let match: { compiled: CompiledRoute; m: RegExpExecArray } | undefined;
    for (const compiled of ROUTES) {
      const m = compiled.route.method === req.method ? compiled.regex.exec(url.pathname) : null;
      if (m) {
        match = { compiled, m };
        break;
      }
    }
    const params: Record<string, string> = {};
    match?.compiled.names.forEach((n, i) => params[n] = decodeURIComponent(match.m[i + 2]));
    const model = params.model?.replace(/^models\//, "");
    if (model !== undefined) params.model = model;
    this.requests.push({
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      key,
      keySource: headerKey !== null ? "header" : queryKey !== null ? "query" : null,
      bodyText,
      ...(json !== undefined ? { json } : {}),
      ...(model !== undefined ? { model } : {}),
    });

    this.#live++;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        this.#live--;
      }
    };
    let streaming = false;
    const isModelCall = params.method !== undefined;
    try {
      const res = await this.#dispatch({
        req,
        url,
        match,
        params,
        key,
        bodyBytes,
        json,
        jsonError,
        release,
        stream: () => streaming = true,
      });
      if (isModelCall) this.#count(key, res.status);
      return res;
    } finally {
      if (!streaming) release();
    }
  }

  async #dispatch(o: {
    req: Request;
    url: URL;
    match: { compiled: CompiledRoute; m: RegExpExecArray } | undefined;
    params: Record<string, string>;
    key: string | null;
    bodyBytes: Uint8Array;
    json: unknown;
    jsonError?: string;
    release: () => void;
    stream: () => void;
  }): Promise<Response> {
    if (!o.match) return notFoundError(`The mock has no route for ${o.req.method} ${o.url.pathname}.`);
    const version = o.match.m[1];
    const uploadSession = o.match.compiled.route.upload === true && o.url.searchParams.has("upload_id");
    const behavior = (o.key !== null ? this.#keys.get(o.key) : undefined) ?? {};
    if (!uploadSession) {
      const denied = this.#authError({ key: o.key, behavior, version, method: o.params.method });
      if (denied) return denied;
    }
    if (behavior.hang) {
      await new Promise<void>((resolve) => {
        const signal = AbortSignal.any([o.req.signal, this.#closing.signal]);
        if (signal.aborted) return resolve();
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
      return new Response(null, { status: 499 });
    }
    if (behavior.location && o.params.method !== undefined) return locationError(behavior.location);
    const injected = o.params.method === undefined
      ? null
      : this.#takeInjection({ key: o.key, model: o.params.model, method: o.params.method });
    if (injected instanceof Response) return injected;
    const ctx: RouteContext = {
      req: o.req,
      url: o.url,
      version,
      params: o.params,
      key: o.key,
      owner: behavior.project ?? o.key ?? "",
      behavior,
      bodyBytes: o.bodyBytes,
      json: o.json,
      jsonError: o.jsonError,
      midStreamFailure: injected ?? undefined,
      state: this.#state,
      keepOpen: () => {
        o.stream();
        return o.release;
      },
    };
    return await o.match.compiled.route.handle(ctx);
  }
}
