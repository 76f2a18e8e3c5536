/**
 * Public and internal types of the mock Gemini upstream.
 *
 * @module
 */

import type { QuotaCounter, QuotaSpec } from "./mock_gemini_limits.ts";
import type { Json } from "./mock_gemini_util.ts";
import type { LiveMock } from "./mock_gemini_live.ts";

/** How the mock treats one API key. Unknown keys behave as valid unlimited keys. */
export interface MockKeyBehavior extends QuotaSpec {
  /** Keys with the same project share rate-limit counters, files and caches (quota is per project). */
  project?: string;
  /** 400 INVALID_ARGUMENT, ErrorInfo API_KEY_INVALID, "API key not valid. ...". */
  invalid?: boolean;
  /** Same shape as `invalid`, message "API key expired. Please renew the API key.". */
  expired?: boolean;
  /** 403 PERMISSION_DENIED variants (blocked => ErrorInfo API_KEY_SERVICE_BLOCKED). */
  denied?: "suspended" | "leaked" | "blocked";
  /** Never answers (until the request is aborted or the mock closes); a Live setup gets no setupComplete. */
  hang?: boolean;
  /**
   * The key's project cannot be served from here: model calls get Google's 400 FAILED_PRECONDITION
   * (`LOCATION_MESSAGES` in mock_gemini_http.ts).
   */
  location?: "unsupported" | "no_billing" | "free_tier_country";
  /** Live sessions are refused for quota (close 1011 "You exceeded your current quota…"). */
  liveQuota?: boolean;
  /** Live sessions the key's project may hold open at once (more: close 1011 "Maximum concurrent sessions"). */
  liveSessions?: number;
  /** The Live WebSocket upgrade is answered with this HTTP status and Google's error body (no WebSocket). */
  liveUpgradeStatus?: 400 | 403 | 429 | 500 | 503;
}

/** Options of `MockGemini.start`. */
export interface MockOptions {
  /** Length of a rate "minute" in ms (default 60000). */
  minuteMs?: number;
  /** Delay between stream chunks in ms (default 0); header `x-mock-chunk-delay-ms` overrides per request. */
  chunkDelayMs?: number;
  /** Models page size when the client sends none (default 3). */
  pageSize?: number;
  /** When true, generated functionCall parts carry an `id` (like Gemini 3 does). Default false. */
  functionCallIds?: boolean;
  /**
   * Scripted answers: the candidate's parts for a generate request (`undefined`: the default reply).
   * `functionCall` parts get a thought signature on Gemini 3 models (and an `id` with
   * `functionCallIds`), as generated calls do. Tests of real agents answer with their tools this way.
   */
  reply?: (request: { model: string; body: Json }) => Json[] | undefined;
  /** Clock for the quota windows (epoch ms); tests can pass a fake one. Default `Date.now`. */
  now?: () => number;
  /** Polls a batch or long-running operation answers "running" before it is done (default 0). */
  pendingPolls?: number;
}

/** One request as the mock received it. */
export interface RecordedRequest {
  method: string;
  /** Path without query, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`. */
  path: string;
  query: URLSearchParams;
  headers: Headers;
  /** The API key from `x-goog-api-key` (preferred) or `?key=`. */
  key: string | null;
  /** Where the key came from. */
  keySource: "header" | "query" | null;
  bodyText: string;
  /** Parsed body when it was valid JSON. */
  json?: unknown;
  /** Bare model id for `models/{model}...` routes. */
  model?: string;
}

/** Counters of model calls (POST models/{model}:method). */
export interface MockStats {
  ok: number;
  rateLimited: number;
  byKey: Record<string, { ok: number; rateLimited: number; rejected: number }>;
}

/** A transient failure queued by `failNext`. */
export interface Injection {
  status: 500 | 503 | 504;
  /** Replaces Google's message (e.g. the newer 503 "high demand" text). */
  message?: string;
  remaining: number;
  key?: string;
  model?: string;
  /** Only for streams: send this many chunks (HTTP 200), then the error object, then end the body. */
  afterChunks?: number;
}

/** A failure to write into a stream after some chunks. */
export interface MidStreamFailure {
  status: 500 | 503 | 504;
  afterChunks: number;
}

/** A file being uploaded through a resumable session. */
export interface UploadSession {
  owner: string;
  displayName?: string;
  mimeType: string;
  chunks: Uint8Array[];
  size: number;
}

/** A batch or long-running operation: polled `pendingPolls` times before it is done. */
export interface MockOperation {
  owner: string;
  /** Polls answered so far. */
  polls: number;
  /** How many polls see it still running. */
  pendingPolls: number;
  /** What a poll answers while it runs. */
  running: Json;
  /** What a poll answers once done. */
  done: Json;
}

/** Everything the route handlers share. */
export interface MockState {
  readonly url: string;
  readonly options: Required<MockOptions>;
  readonly quotas: QuotaCounter;
  /** Aborted when the mock closes (ends hangs and streams). */
  readonly closing: AbortSignal;
  /** Files by id; `bytes` is what `files/{id}:download` serves (uploads, batch results, videos). */
  readonly files: Map<string, { owner: string; resource: Json; bytes?: Uint8Array }>;
  readonly uploads: Map<string, UploadSession>;
  readonly caches: Map<string, { owner: string; resource: Json }>;
  /** Batches and long-running operations by full name (`batches/x`, `models/veo/operations/y`). */
  readonly operations: Map<string, MockOperation>;
  /** File search stores by id. */
  readonly stores: Map<string, { owner: string; resource: Json }>;
  /** Thought signatures the mock handed out (valid in later requests). */
  readonly signatures: Set<string>;
  /** Live API sessions and ephemeral tokens. */
  readonly live: LiveMock;
}

/** Per-request data given to a route handler. */
export interface RouteContext {
  readonly req: Request;
  readonly url: URL;
  /** `v1`, `v1beta` or `v1alpha`. */
  readonly version: string;
  /** Values of the `{name}` placeholders of the route path. */
  readonly params: Record<string, string>;
  readonly key: string | null;
  /** Owner of resources and quota bucket: the key's project, or the key itself. */
  readonly owner: string;
  readonly behavior: MockKeyBehavior;
  readonly bodyBytes: Uint8Array;
  readonly json: unknown;
  readonly jsonError?: string;
  readonly state: MockState;
  /** Set when `failNext({afterChunks})` picked this (streaming) request. */
  readonly midStreamFailure?: MidStreamFailure;
  /** Call when the handler returns a streaming body: the stream calls `release` itself when done. */
  keepOpen(): () => void;
}

/** One entry of the route table. */
export interface Route {
  method: string;
  /** Path after the version, with `{name}` placeholders, e.g. `/models/{model}`. */
  path: string;
  /** Route lives under `/upload/{version}`. */
  upload?: boolean;
  /** Route lives under `/download/{version}` (media downloads). */
  download?: boolean;
  handle(ctx: RouteContext): Response | Promise<Response>;
}
