/**
 * The baseline the gateway is measured against: `Deno.serve` plus `fetch` to the upstream, nothing else.
 * Usage: deno run --allow-net bench/bare_forwarder.ts <port> <upstream-url> <api-key> [transform]
 * With `transform`, the answer's body passes through one JavaScript `TransformStream` (the cost of a
 * single JavaScript stage, for `bench:streams`).
 *
 * @module
 */
const [port, upstream, key, mode] = Deno.args;
Deno.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(`listening ${port}`),
}, async (req) => {
  const url = new URL(req.url);
  const res = await fetch(upstream + url.pathname + url.search, {
    method: req.method,
    headers: { "content-type": "application/json", "x-goog-api-key": key },
    body: req.body,
  });
  if (mode !== "transform" || !res.body) return res;
  return new Response(res.body.pipeThrough(new TransformStream()), {
    status: res.status,
    headers: res.headers,
  });
});
