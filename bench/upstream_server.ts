/**
 * A fast canned Gemini upstream for throughput benchmarks: answers generateContent with a fixed
 * response in Google's shape (no per-request bookkeeping, so it is never the bottleneck).
 * Usage: deno run --allow-net bench/upstream_server.ts <port>
 *
 * @module
 */

const BODY = JSON.stringify({
  candidates: [{
    content: {
      role: "model",
      parts: [{ text: "Hello from the benchmark upstream. This is a short answer." }],
    },
    finishReason: "STOP",
    index: 0,
  }],
  usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 12, totalTokenCount: 20 },
  modelVersion: "gemini-2.5-flash",
  responseId: "bench-response",
});

const port = Number(Deno.args[0] ?? 0);
Deno.serve(
  { port, hostname: "127.0.0.1", onListen: ({ port }) => console.log(`listening ${port}`) },
  async (req) => {
    if (req.body) await req.body.cancel();
    if (!req.headers.get("x-goog-api-key")) {
      return Response.json({
        error: {
          code: 403,
          message: "Method doesn't allow unregistered callers.",
          status: "PERMISSION_DENIED",
        },
      }, {
        status: 403,
      });
    }
    return new Response(BODY, { headers: { "content-type": "application/json; charset=UTF-8" } });
  },
);
