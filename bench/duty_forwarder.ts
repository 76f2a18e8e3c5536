/**
 * The "duty" forwarder: the least a gateway that keeps issue 14's behaviours (retries, timeouts, the
 * client leaving, auth, usage, logs, metrics) must do per request in this runtime, with none of the
 * gateway's own code: the floor forwarder's two whole-body reads plus
 * - a client token looked up in a `Map` (the gateway's lookup is one hash of the token);
 * - a key picked round robin from three;
 * - the upstream call made abortable: an `AbortController` whose signal `fetch` takes, aborted by a
 *   timer (the headers timeout, cleared when the answer arrives) or by the client leaving
 *   (`request.signal`);
 * - the usage read from the answer's tail (`usageMetadata`, one small `JSON.parse`);
 * - one log record encoded as JSON and kept in a batch that a 200 ms timer writes to Deno KV in one
 *   atomic write (as the gateway's write-behind stores do);
 * - a request counter per status.
 * `deno task bench` runs it beside the bare and floor forwarders, so each run shows how much of the
 * distance between the gateway and the bare forwarder is the runtime's price of those duties and how
 * much is the gateway's own code.
 *
 * Usage: deno run --allow-net --allow-read --allow-write --unstable-kv --unstable-no-legacy-abort
 *   bench/duty_forwarder.ts <port> <upstream-url> <kv-path> <token> <api-key>...
 *
 * @module
 */
const [port, upstream, kvPath, token, ...keys] = Deno.args;
const kv = await Deno.openKv(kvPath);
const tokens = new Map([[token, { name: "bench" }]]);
const counts = new Map<number, number>();
const HEADERS_TIMEOUT_MS = 60_000;
let next = 0;
let batch: string[] = [];
let seq = 0;

setInterval(() => {
  if (!batch.length) return;
  const lines = batch;
  batch = [];
  kv.atomic().set(["dutylog", ++seq], lines.join("\n")).commit().catch(() => {});
}, 200);

/** One decoder for every answer's tail (it keeps no state between whole decodes). */
const UTF8 = new TextDecoder();

/** The usage in the last 2 KiB of an answer (`usageMetadata` is its last object). */
function usage(bytes: Uint8Array): { input?: number; output?: number } {
  const tail = UTF8.decode(bytes.subarray(Math.max(0, bytes.length - 2048)));
  const at = tail.lastIndexOf('"usageMetadata"');
  if (at < 0) return {};
  const open = tail.indexOf("{", at), close = tail.indexOf("}", open);
  try {
    const u = JSON.parse(tail.slice(open, close + 1));
    return { input: u.promptTokenCount, output: u.candidatesTokenCount };
  } catch {
    return {};
  }
}

Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
Deno.serve({ port: Number(port), hostname: "127.0.0.1" }, async (req) => {
  const start = performance.now();
  const client = tokens.get(req.headers.get("x-goog-api-key") ?? "");
  if (!client) return Response.json({ error: { code: 401 } }, { status: 401 });
  const url = new URL(req.url);
  const body = req.body ? await req.arrayBuffer() : undefined;
  const key = keys[next++ % keys.length];
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error("headers timeout")), HEADERS_TIMEOUT_MS);
  const onLeave = () => ctl.abort(new Error("client left"));
  req.signal.addEventListener("abort", onLeave, { once: true });
  let res: Response;
  try {
    res = await fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers: { "content-type": "application/json", "x-goog-api-key": key },
      body,
      signal: ctl.signal,
    });
  } catch (e) {
    req.signal.removeEventListener("abort", onLeave);
    const left = req.signal.aborted;
    return Response.json({ error: { message: String(e) } }, { status: left ? 499 : 504 });
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  req.signal.removeEventListener("abort", onLeave);
  const tokensUsed = usage(bytes);
  counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
  batch.push(JSON.stringify({
    time: Date.now(),
    token: client.name,
    key: key.slice(0, 4) + "…" + key.slice(-4),
    path: url.pathname,
    status: res.status,
    ms: performance.now() - start,
    inputTokens: tokensUsed.input,
    outputTokens: tokensUsed.output,
  }));
  return new Response(bytes, {
    status: res.status,
    headers: { "content-type": res.headers.get("content-type") ?? "application/json" },
  });
});
