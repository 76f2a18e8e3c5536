/**
 * A fast canned Gemini upstream for throughput benchmarks: answers generateContent with a fixed
 * response in Google's shape, and streamGenerateContent (`alt=sse`) with `BENCH_STREAM_EVENTS` (8)
 * events in Google's SSE framing, the first at once and the rest `BENCH_STREAM_GAP_MS` (2 ms) apart
 * (no per-request bookkeeping, so it is never the bottleneck).
 * Usage: deno run --allow-net --allow-env bench/upstream_server.ts <port>
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
const EVENTS = Number(Deno.env.get("BENCH_STREAM_EVENTS") ?? 8);
const GAP_MS = Number(Deno.env.get("BENCH_STREAM_GAP_MS") ?? 2);
const encoder = new TextEncoder();
const event = (i: number) =>
  encoder.encode(
    `data: ${
      JSON.stringify({
        candidates: [{
          content: { role: "model", parts: [{ text: `word${i} ` }] },
          index: 0,
          ...(i === EVENTS - 1 ? { finishReason: "STOP" } : {}),
        }],
        usageMetadata: { promptTokenCount: 8, candidatesTokenCount: i + 1, totalTokenCount: i + 9 },
        modelVersion: "gemini-2.5-flash",
      })
    }\r\n\r\n`,
  );

function sse(): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(controller) {
      if (i > 0) await new Promise((r) => setTimeout(r, GAP_MS));
      controller.enqueue(event(i++));
      if (i === EVENTS) controller.close();
    },
  }, { highWaterMark: 0 });
}

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
    if (req.url.includes(":streamGenerateContent")) {
      return new Response(sse(), { headers: { "content-type": "text/event-stream" } });
    }
    return new Response(BODY, { headers: { "content-type": "application/json; charset=UTF-8" } });
  },
);
