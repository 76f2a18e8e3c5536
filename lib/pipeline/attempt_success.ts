/**
 * An attempt the upstream answered with a 2xx ({@link onSuccess}): the answer is read under the
 * attempt's timers and caps, then served to the client as a {@link ForwardResult}: a unary answer read
 * whole (up to `ANSWER_BUFFER_BYTES`), or a relay (`stream_relay.ts`) for a stream once its first bytes
 * arrived and for a larger unary answer. Until the client gets a byte, a broken connection lets another
 * key try (`attempt_failure.ts`). Also here: the answer's headers for the client and the resources the
 * key created (pinned to it, `affinity.ts`).
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import { answerBody, type Call, recordTry, SERVED } from "./attempt_call.ts";
import { callFailed } from "./attempt_failure.ts";
import { clientHeaders } from "./client_headers.ts";
import { usageFromTail } from "./request_record.ts";
import type { RunState } from "./run_state.ts";
import { relayAnswer } from "./stream_relay.ts";
import type { ForwardResult } from "./types.ts";
import { BodyFailure, concatBytes, type UpstreamBody, UpstreamTimeout } from "./upstream_body.ts";

/** One decoder for whole texts (a `TextDecoder` per request is an allocation per request). */
const UTF8 = new TextDecoder();

/** Google's resumable upload session URLs (upload; query and cancel), rewritten to the gateway. */
const UPLOAD_SESSION_URLS = ["x-goog-upload-url", "x-goog-upload-control-url"] as const;

/**
 * A 2xx answer. A stream is handed over once its first bytes arrived (within the attempt's start
 * timer, `REQUEST_TIMEOUT_MS`); a unary answer once it was read whole (up to `answerBufferBytes`; larger
 * ones stream through). Until then a broken connection lets another key try; the key's success is
 * counted when the answer has ended.
 *
 * @returns the served result, or undefined when the connection broke and another key may try.
 * @throws {GatewayError} 504 after a timeout (unless `resendAfterTimeout`), 499 when the client left,
 *   502 when a translated unary answer is over `answerBufferBytes`.
 */
export async function onSuccess(
  run: RunState,
  call: Call,
  res: Response,
): Promise<ForwardResult | undefined> {
  const response = res;
  const { settings } = run;
  if (!response.body) {
    call.release();
    return served(run, call, response, new Uint8Array());
  }
  const body = answerBody(run, call, response, { tail: run.req.stream === true });
  if (run.req.stream) {
    const first = await readHeld(run, call, body, { idle: false });
    if (first === undefined) return undefined;
    if (first === null) {
      return callFailed(run, call, new BodyFailure("broken", 0, "the stream ended before its first byte"));
    }
    call.release();
    learnResources(run, response, call.choice.id);
    return relay(run, call, response, body, [first]);
  }
  const now = performance.now();
  const left = run.left(now);
  if (body.wholeLength(settings.answerBufferBytes) !== undefined) {
    const bytes = await readWhole(run, call, body, { leftMs: left, now });
    if (bytes === undefined) return undefined;
    call.release();
    return served(run, call, response, bytes);
  }
  const chunks: Uint8Array[] = [];
  const cancel = Number.isFinite(left)
    ? run.deadlines.add(
      left,
      () => call.ctl.abort(new UpstreamTimeout("deadline", settings.requestDeadlineMs)),
      now,
    )
    : undefined;
  try {
    for (;;) {
      const chunk = await readHeld(run, call, body);
      if (chunk === undefined) return undefined;
      if (chunk === null) break;
      // A small piece of a larger read buffer is kept as an exact copy, not with its whole buffer.
      chunks.push(chunk.length < chunk.buffer.byteLength / 2 ? chunk.slice() : chunk);
      if (body.bytes > settings.answerBufferBytes) {
        call.release();
        if (!run.req.passThrough) throw tooLarge(run, call, body);
        learnResources(run, response, call.choice.id);
        body.keepTail(chunks);
        return { ...relay(run, call, response, body, chunks), streamedThrough: true };
      }
    }
  } finally {
    cancel?.();
  }
  call.release();
  return served(run, call, response, concatBytes(chunks, body.bytes));
}

/**
 * The error for a unary answer over `answerBufferBytes` that the edge would have to hold whole to
 * translate it: the upstream socket is closed; not the key's fault, not sent again (it was generated).
 */
function tooLarge(run: RunState, call: Call, body: UpstreamBody): GatewayError {
  body.cancel();
  const err = new GatewayError(
    502,
    `The upstream's answer is larger than ANSWER_BUFFER_BYTES (${run.settings.answerBufferBytes} bytes), which this route must hold whole to translate it; raise ANSWER_BUFFER_BYTES or use the native Gemini route, which streams large answers through.`,
    { headers: { "x-should-retry": "false" } },
  );
  recordTry(run, call, err.status, err.message);
  return err;
}

/**
 * Reads one chunk of an answer the client has not seen yet.
 *
 * @returns the chunk; null at the end of the body; undefined when the connection broke and another
 *   key may try.
 * @throws {GatewayError} 504 after a timeout (unless `resendAfterTimeout`), 499 when the client left.
 */
async function readHeld(
  run: RunState,
  call: Call,
  body: UpstreamBody,
  o: { idle: boolean } = { idle: true },
): Promise<Uint8Array | null | undefined> {
  try {
    return await body.read(o) ?? null;
  } catch (e) {
    call.release();
    body.cancel();
    return callFailed(run, call, e);
  }
}

/**
 * Reads a small answer the client has not seen yet whole ({@link UpstreamBody.whole}).
 *
 * @returns its bytes; undefined when the connection broke and another key may try.
 * @throws {GatewayError} 504 after a timeout (unless `resendAfterTimeout`), 499 when the client left.
 */
async function readWhole(
  run: RunState,
  call: Call,
  body: UpstreamBody,
  o: { leftMs: number; now: number },
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    return await body.whole({ ...o, deadlineMs: run.settings.requestDeadlineMs });
  } catch (e) {
    call.release();
    body.cancel();
    return callFailed(run, call, e);
  }
}

/** A unary answer read whole: the key served; usage comes from its tail. */
function served(
  run: RunState,
  call: Call,
  response: Response,
  bytes: Uint8Array<ArrayBuffer>,
): ForwardResult {
  const now = performance.now();
  const keyId = call.choice.id;
  run.end({ outcome: "ok", status: response.status }, now);
  learnResources(run, response, keyId, bytes);
  run.deps.pool.report(keyId, run.model, { kind: "ok" });
  recordTry(run, call, response.status, SERVED, now);
  run.rec.status = response.status;
  run.rec.latencyMs = run.elapsed(now);
  run.finish(
    usageFromTail(UTF8.decode(bytes.subarray(Math.max(0, bytes.length - 2048)))),
    true,
  );
  return {
    keyId,
    attempts: run.rec.attempts,
    response: new Response(bytes, { status: response.status, headers: answerHeaders(run, response) }),
    body: bytes,
  };
}

/**
 * Hands the answer to the client as a stream that pulls from the upstream one chunk per read (no
 * chunk is queued or kept). How it ends decides the record: the upstream's end (the key served), a
 * break or stall after the first bytes (an error the client sees: Google's error event when the
 * SSE framing allows, else a broken body; the key is charged), the client leaving (499), or a
 * shutdown cutting it.
 */
function relay(
  run: RunState,
  call: Call,
  res: Response,
  body: UpstreamBody,
  head: Uint8Array[],
): ForwardResult {
  const { rec, req } = run;
  const { pool, openStreams, observer } = run.deps;
  const keyId = call.choice.id;
  rec.status = res.status;
  // The client gets its first byte now: the attempt served (a later break is the stream's record).
  run.end({ outcome: "ok", status: res.status });
  const streamEnded = req.stream ? observer?.stream?.(req.route) : undefined;
  const relayed = relayAnswer({
    body,
    head,
    contentType: res.headers.get("content-type") ?? "",
    status: res.status,
    redact: run.redact,
    clientGone: () => run.signal.aborted,
    defaultCooldownMs: run.settings.defaultCooldownMs,
    end: (outcome) => {
      unregister?.();
      streamEnded?.();
      const now = performance.now();
      rec.latencyMs = run.elapsed(now);
      rec.status = outcome.status;
      if (outcome.error) rec.error = outcome.error;
      pool.report(keyId, run.model, outcome.verdict);
      recordTry(run, call, outcome.status, outcome.error ?? SERVED, now);
      const tokens = usageFromTail(body.tail.text());
      if (outcome.ok) run.finish(tokens, true);
      else {
        run.count(keyId, { requests: 1, errors: 1, ...tokens });
        run.finish(tokens);
      }
      return true;
    },
  });
  const unregister = openStreams?.add({ cut: (reason) => relayed.cut(reason) });
  return {
    keyId,
    attempts: rec.attempts,
    response: new Response(relayed.stream, { status: res.status, headers: answerHeaders(run, res) }),
  };
}

/**
 * Pins every resource a key created (files, caches, batches, operations, stores, upload sessions)
 * to that key (`AffinityMap.learn`): from the answer's headers, and from its body when the answer
 * was read whole (`bytes`) and is one the map scans for names.
 */
function learnResources(run: RunState, res: Response, keyId: string, bytes?: Uint8Array): void {
  const { affinity } = run.deps;
  if (!affinity) return;
  const req = run.req;
  const text = bytes && affinity.readsAnswer(req, res.headers) ? UTF8.decode(bytes) : undefined;
  affinity.learn({ request: req, keyId, headers: res.headers, text });
}

/** The answer's headers for the client, with Google's upload session URLs pointing at the gateway. */
function answerHeaders(run: RunState, res: Response): Record<string, string> {
  const headers = clientHeaders(res.headers);
  const { origin } = run.req;
  if (!origin) return headers; // only upload requests carry one
  for (const name of UPLOAD_SESSION_URLS) {
    const url = headers[name];
    if (!url) continue;
    const u = new URL(url);
    headers[name] = origin + u.pathname + u.search;
  }
  return headers;
}
