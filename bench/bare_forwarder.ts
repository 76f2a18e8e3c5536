/**
 * The baseline the gateway is measured against: `Deno.serve` plus `fetch` to the upstream, nothing else.
 * Usage: deno run --allow-net bench/bare_forwarder.ts <port> <upstream-url> <api-key>
 *
 * @module
 */
const [port, upstream, key] = Deno.args;
Deno.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(`listening ${port}`),
}, (req) => {
  const url = new URL(req.url);
  return fetch(upstream + url.pathname + url.search, {
    method: req.method,
    headers: { "content-type": "application/json", "x-goog-api-key": key },
    body: req.body,
  });
});
