/**
 * A Gemini upstream for `bench:streams`: every `:streamGenerateContent` answer is an SSE stream of
 * small events, one per `BENCH_EVENT_MS` (default 1000 ms) for all open streams at once (one shared
 * timer), ending after `BENCH_EVENTS` events (default 15). Unary calls and the model list answer at once.
 * Usage: deno run --allow-net --allow-env bench/slow_stream_upstream.ts <port>
 *
 * @module
 */
const EVENT_MS = Number(Deno.env.get("BENCH_EVENT_MS") ?? 1000);
const EVENTS = Number(Deno.env.get("BENCH_EVENTS") ?? 15);
const enc = new TextEncoder();

function event(i: number, last: boolean): Uint8Array {
  return enc.encode(`data: ${
    JSON.stringify({
      candidates: [{
        content: { role: "model", parts: [{ text: `piece ${i} ` }] },
        index: 0,
        ...(last ? { finishReason: "STOP" } : {}),
      }],
      usageMetadata: { promptTokenCount: 4, candidatesTokenCount: i + 1, totalTokenCount: 5 + i },
      modelVersion: "gemini-2.5-flash",
    })
  }\r\n\r\n`);
}

const open = new Set<{ sent: number; controller: ReadableStreamDefaultController<Uint8Array> }>();
setInterval(() => {
  for (const s of open) {
    try {
      const last = s.sent === EVENTS - 1;
      s.controller.enqueue(event(s.sent++, last));
      if (last) {
        open.delete(s);
        s.controller.close();
      }
    } catch {
      open.delete(s);
    }
  }
}, EVENT_MS);

const port = Number(Deno.args[0] ?? 0);
Deno.serve(
  { port, hostname: "127.0.0.1", onListen: ({ port }) => console.log(`listening ${port}`) },
  async (req) => {
    if (req.body) await req.body.cancel();
    const url = new URL(req.url);
    if (url.pathname.endsWith(":streamGenerateContent")) {
      let entry: { sent: number; controller: ReadableStreamDefaultController<Uint8Array> };
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          entry = { sent: 1, controller };
          controller.enqueue(event(0, false));
          open.add(entry);
        },
        cancel() {
          open.delete(entry);
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }
    if (req.method === "GET") return Response.json({ models: [{ name: "models/gemini-2.5-flash" }] });
    return new Response(new TextDecoder().decode(event(0, true)).slice(6), {
      headers: { "content-type": "application/json; charset=UTF-8" },
    });
  },
);
