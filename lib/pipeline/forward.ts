/**
 * The one request pipeline: choose a key, send upstream, classify the outcome, retry on another key,
 * stream the answer through, and report usage and a log record. Both the Gemini-native and the
 * OpenAI edges call it; they differ only in how they parse requests and format answers.
 *
 * @module
 */
import { asGatewayError, GatewayError } from "../http/errors.ts";
import { type GoogleErrorBody, parseGoogleError } from "../gemini/rpc_status.ts";
import { classify } from "../pool/classify.ts";
import type { KeyPool } from "../pool/key_pool.ts";
import { redactKeys } from "../secrets/redact.ts";
import { pacificDay } from "../pool/quota_clock.ts";
import type { UsageCounter, UsageDelta } from "../pool/usage.ts";
import type { RuntimeSettings } from "../config/schema.ts";
import type { AffinityMap } from "./affinity.ts";
import { Deadlines } from "./deadlines.ts";
import type { RecordSink, RequestRecord } from "./request_record.ts";
import { usageFromTail } from "./request_record.ts";
import type { Forward, ForwardRequest, ForwardResult } from "./types.ts";

/** What the pipeline needs. */
export interface ForwarderDeps {
  pool: KeyPool;
  settings: () => Pick<
    RuntimeSettings,
    "upstreamBaseUrl" | "maxAttempts" | "requestTimeoutMs" | "defaultCooldownMs" | "maxWaitMs"
  >;
  affinity?: AffinityMap;
  usage?: UsageCounter;
  onRecord?: RecordSink;
  /** An HTTP client per key (upstream proxies), if any. */
  clientFor?: (keyId: string) => Deno.HttpClient | undefined;
  /** Told when a call could not reach the upstream (so a failing proxy can be skipped). */
  onNetworkError?: (keyId: string, error: unknown) => void;
  /** Refuses (throws a GatewayError) a model the client token may not use. */
  admitModel?: (tokenName: string | undefined, model: string | undefined) => void;
}

const decoder = new TextDecoder();
const TAIL_BYTES = 2048;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(t);
      reject(new GatewayError(499, "The client closed the request.", { googleStatus: "CANCELLED" }));
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}

function tailOf(chunks: Uint8Array[]): string {
  const out: string[] = [];
  let n = 0;
  for (let i = chunks.length - 1; i >= 0 && n < TAIL_BYTES; i--) {
    out.unshift(decoder.decode(chunks[i]));
    n += chunks[i].length;
  }
  return out.join("");
}

/** Upstream response headers worth passing on; the rest (length, encoding, hop-by-hop, Google's own) are dropped. */
const KEEP_RESPONSE_HEADERS =
  /^(content-type|content-disposition|x-goog-upload-.*|x-goog-.*|server-timing|retry-after|location)$/i;

/** The upstream's response headers that a client should see. */
export function clientHeaders(from: Headers): Headers {
  const out = new Headers();
  from.forEach((v, k) => KEEP_RESPONSE_HEADERS.test(k) && out.set(k, v));
  return out;
}

/** Builds the pipeline function for the given dependencies. */
export function createForwarder(deps: ForwarderDeps): Forward {
  const { pool } = deps;
  const deadlines = new Deadlines();

  function count(keyId: string, model: string | undefined, delta: UsageDelta, tokenName?: string) {
    if (!deps.usage) return;
    const day = pacificDay(Date.now());
    deps.usage.add(["usage", day, keyId, model ?? "-"], delta);
    if (tokenName) deps.usage.add(["tokusage", day, tokenName], delta);
  }

  /** Reports a finished request; a success is counted here together with its tokens (one usage update). */
  function finish(
    rec: RequestRecord,
    tokens: { inputTokens?: number; outputTokens?: number },
    served = false,
  ) {
    Object.assign(rec, tokens);
    if (served && rec.keyId) {
      count(
        rec.keyId,
        rec.model,
        { requests: 1, ok: 1, inputTokens: tokens.inputTokens, outputTokens: tokens.outputTokens },
        rec.tokenName,
      );
    }
    deps.onRecord?.(rec);
  }

  /** Passes the body through chunk by chunk, then reads usage from its tail. */
  function observeStream(res: Response, rec: RequestRecord): Response {
    const kept: Uint8Array[] = [];
    let keptBytes = 0;
    const body = res.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          kept.push(chunk);
          keptBytes += chunk.length;
          while (kept.length > 1 && keptBytes - kept[0].length >= TAIL_BYTES) {
            keptBytes -= kept.shift()!.length;
          }
          ctl.enqueue(chunk);
        },
        flush() {
          rec.latencyMs = Math.round(performance.now() - (rec as { t0?: number }).t0!);
          finish(rec, usageFromTail(tailOf(kept)), true);
        },
        cancel() {
          rec.status = 499;
          rec.error = "client closed the stream";
          finish(rec, usageFromTail(tailOf(kept)), true);
        },
      }),
    );
    return new Response(body, { status: res.status, headers: clientHeaders(res.headers) });
  }

  async function attempt(
    req: ForwardRequest,
    keyId: string,
    key: string,
    signal: AbortSignal,
    timeoutMs: number,
  ) {
    const s = deps.settings();
    const url = s.upstreamBaseUrl.replace(/\/$/, "") + req.path + (req.query?.size ? `?${req.query}` : "");
    const headers = new Headers(req.headers);
    headers.set("x-goog-api-key", key);
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const cancel = deadlines.add(timeoutMs, () => ctl.abort(new DOMException("timeout", "TimeoutError")));
    try {
      return await fetch(url, {
        method: req.method,
        headers,
        body: req.body?.length ? req.body : undefined,
        signal: ctl.signal,
        client: deps.clientFor?.(keyId),
      });
    } finally {
      cancel();
    }
  }

  return async function forward(req: ForwardRequest): Promise<ForwardResult> {
    const s = deps.settings();
    const t0 = performance.now();
    const signal = req.signal ?? new AbortController().signal;
    const model = req.model ?? "*";
    const rec: RequestRecord & { t0?: number } = {
      time: Date.now(),
      route: req.route,
      method: req.method,
      path: req.path,
      model: req.model,
      tokenName: req.tokenName,
      status: 0,
      latencyMs: 0,
      attempts: 0,
      stream: !!req.stream,
      t0,
    };
    const pinned = req.pinnedKeyId ?? deps.affinity?.find(req.path, req.query, req.body);
    const tried = new Set<string>();
    let last: GatewayError | undefined;
    let waited = 0;
    try {
      deps.admitModel?.(req.tokenName, req.model);
      while (rec.attempts < s.maxAttempts) {
        let choice: { id: string; key: string } | undefined;
        if (pinned) {
          const r = pool.get(pinned);
          if (!r) {
            throw new GatewayError(404, "The key that created this resource was removed from the pool.");
          }
          choice = { id: r.id, key: r.key };
        } else {
          const pick = pool.pick(model, tried);
          if ("freeAt" in pick) {
            const wait = pick.freeAt - Date.now();
            if (!last && wait <= s.maxWaitMs - waited && Number.isFinite(wait)) {
              await sleep(Math.max(wait, 1), signal);
              waited += wait;
              continue;
            }
            if (last) break;
            const secs = Math.max(1, Math.ceil(wait / 1000));
            const status = pool.size === 0 || !Number.isFinite(wait) ? 503 : 429;
            throw new GatewayError(status, `No key can serve this request: ${pick.reason}.`, {
              headers: Number.isFinite(wait) ? { "retry-after": String(secs) } : undefined,
              googleStatus: status === 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE",
            });
          }
          choice = pick;
        }
        tried.add(choice.id);
        rec.attempts++;
        rec.keyId = choice.id;
        let res: Response;
        try {
          res = await attempt(req, choice.id, choice.key, signal, s.requestTimeoutMs);
        } catch (e) {
          if (signal.aborted) {
            throw new GatewayError(499, "The client closed the request.", { googleStatus: "CANCELLED" });
          }
          const timeout = e instanceof DOMException && e.name === "TimeoutError";
          last = timeout
            ? new GatewayError(
              504,
              `The upstream did not answer within ${s.requestTimeoutMs} ms; try again or raise REQUEST_TIMEOUT_MS.`,
            )
            : new GatewayError(502, `Could not reach the upstream: ${redactKeys(String(e))}`);
          if (!timeout) deps.onNetworkError?.(choice.id, e);
          pool.report(choice.id, model, { kind: "transient", reason: last.message });
          count(choice.id, req.model, { requests: 1, errors: 1 }, req.tokenName);
          continue;
        }
        if (res.ok) {
          pool.report(choice.id, model, { kind: "ok" });
          rec.status = res.status;
          const response = await learnAndRewrite(req, res, choice.id);
          if (req.stream && response.body) {
            return { response: observeStream(response, rec), keyId: choice.id, attempts: rec.attempts };
          }
          // A unary answer is one JSON document: read it whole (cheaper than a stream pipe) and
          // take the usage from its tail.
          const bytes = response.body ? new Uint8Array(await response.arrayBuffer()) : new Uint8Array();
          rec.latencyMs = Math.round(performance.now() - t0);
          finish(
            rec,
            usageFromTail(decoder.decode(bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)))),
            true,
          );
          return {
            response: new Response(bytes, {
              status: response.status,
              headers: clientHeaders(response.headers),
            }),
            keyId: choice.id,
            attempts: rec.attempts,
          };
        }
        if (res.status === 407 && deps.clientFor?.(choice.id)) {
          // The proxy, not Google, refused (plain-http upstreams see this as a response): skip that proxy.
          await res.body?.cancel();
          last = new GatewayError(
            502,
            "The upstream proxy refused the request (407); check the credentials in PROXIES.",
          );
          deps.onNetworkError?.(choice.id, new Error("proxy authentication required (407)"));
          pool.report(choice.id, model, { kind: "transient", reason: last.message });
          continue;
        }
        // Google quotes the key in some messages ("Consumer 'api_key:AIza…' has been suspended").
        const text = redactKeys(await res.text());
        const body: GoogleErrorBody = parseGoogleError(text) ??
          {
            error: {
              code: res.status,
              message: text.slice(0, 500) || res.statusText,
              status: res.statusText,
            },
          };
        const verdict = classify({
          status: res.status,
          body,
          now: Date.now(),
          defaultCooldownMs: s.defaultCooldownMs,
        });
        pool.report(choice.id, model, verdict);
        count(
          choice.id,
          req.model,
          { requests: 1, rateLimited: res.status === 429 ? 1 : 0, errors: 1 },
          req.tokenName,
        );
        if (verdict.kind === "disable") pool.patch(choice.id, { lastError: redactKeys(body.error.message) });
        const headers: Record<string, string> = {};
        const retryAfter = res.headers.get("retry-after");
        if (retryAfter) headers["retry-after"] = retryAfter;
        last = new GatewayError(res.status, body.error.message, { upstream: body, headers });
        if (verdict.kind === "client_error") throw last;
        if (pinned && verdict.kind !== "transient") throw last;
      }
      if (last?.status === 429 && !last.options.headers?.["retry-after"]) {
        const free = pool.nextFreeAt(model);
        if (Number.isFinite(free)) {
          last.options.headers!["retry-after"] = String(Math.max(1, Math.ceil((free - Date.now()) / 1000)));
        }
      }
      throw last ?? new GatewayError(503, "No key could serve this request.");
    } catch (e) {
      const err = asGatewayError(e);
      rec.status = err.status;
      rec.latencyMs = Math.round(performance.now() - t0);
      rec.error = redactKeys(JSON.stringify(err.toGoogle()));
      finish(rec, {});
      throw err;
    }
  };

  async function learnAndRewrite(req: ForwardRequest, res: Response, keyId: string): Promise<Response> {
    const uploadUrl = res.headers.get("x-goog-upload-url");
    const isUpload = req.path.startsWith("/upload/");
    const createsCache = req.method === "POST" && /\/cachedContents$/.test(req.path);
    if (!uploadUrl && !isUpload && !createsCache) return res;
    const headers = new Headers(res.headers);
    if (uploadUrl) {
      const u = new URL(uploadUrl);
      const id = u.searchParams.get("upload_id");
      if (id) deps.affinity?.remember(`upload:${id}`, keyId);
      if (req.origin) headers.set("x-goog-upload-url", req.origin + u.pathname + u.search);
    }
    const text = await res.text();
    for (const m of text.matchAll(/"name"\s*:\s*"((?:files|cachedContents)\/[A-Za-z0-9_-]+)"/g)) {
      deps.affinity?.remember(m[1], keyId);
    }
    headers.delete("content-length");
    return new Response(text, { status: res.status, headers });
  }
}
