/**
 * The baselines the gateway is measured against: `Deno.serve` plus `fetch` to the upstream.
 * Usage: deno run --allow-net bench/bare_forwarder.ts <port> <upstream-url> <api-key> [mode]
 *
 * Modes:
 * - `plain` (default): nothing else; both bodies are passed through as streams (the best any
 *   forwarder can do).
 * - `transform`: the answer's body passes through one JavaScript `TransformStream` (the cost of a
 *   single JavaScript stage, for `bench:streams`).
 * - `floor`: what the gateway must do with the bodies and nothing more: the request body is read
 *   whole (the gateway holds it for retries) and a unary answer is read whole before it is answered
 *   (the gateway reads it for usage); a streamed answer (`alt=sse`) passes through. The gateway's
 *   own work is the distance from this one.
 *
 * @module
 */
const [port, upstream, key, mode = "plain"] = Deno.args;
const UPSTREAM_HEADERS = { "content-type": "application/json", "x-goog-api-key": key };

Deno.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(`listening ${port}`),
}, async (req) => {
  const url = new URL(req.url);
  const target = upstream + url.pathname + url.search;
  if (mode === "floor") {
    const body = req.body ? await req.arrayBuffer() : undefined;
    const res = await fetch(target, { method: req.method, headers: UPSTREAM_HEADERS, body });
    const headers = { "content-type": res.headers.get("content-type") ?? "application/json" };
    if (url.search.includes("alt=sse")) return new Response(res.body, { status: res.status, headers });
    return new Response(await res.arrayBuffer(), { status: res.status, headers });
  }
  const res = await fetch(target, { method: req.method, headers: UPSTREAM_HEADERS, body: req.body });
  if (mode !== "transform" || !res.body) return res;
  return new Response(res.body.pipeThrough(new TransformStream()), {
    status: res.status,
    headers: res.headers,
  });
});
