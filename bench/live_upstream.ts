/**
 * A fast canned Live API upstream for the Live benchmark: accepts the WebSocket at Google's Live path,
 * answers the setup with `setupComplete`, and answers every `realtimeInput.text` at once with a
 * `serverContent` holding the same text (binary frames of UTF-8 JSON, as Google sends). Other HTTP
 * requests get Google's 404 envelope. No bookkeeping, so it is never the bottleneck.
 * Usage: deno run --allow-net bench/live_upstream.ts <port>
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SETUP_COMPLETE = encoder.encode(JSON.stringify({ setupComplete: {} }));
const LIVE_PATH = /^\/ws\/google\.ai\.generativelanguage\.\w+\.GenerativeService\.BidiGenerateContent$/;

const port = Number(Deno.args[0] ?? 0);
Deno.serve(
  { port, hostname: "127.0.0.1", onListen: ({ port }) => console.log(`listening ${port}`) },
  (req) => {
    const path = new URL(req.url).pathname;
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket" || !LIVE_PATH.test(path)) {
      return Response.json({ error: { code: 404, message: `No route for ${path}.`, status: "NOT_FOUND" } }, {
        status: 404,
      });
    }
    if (!req.headers.get("x-goog-api-key")) return new Response("no key", { status: 403 });
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
      const msg = JSON.parse(typeof e.data === "string" ? e.data : decoder.decode(e.data));
      if (msg.setup) return socket.send(SETUP_COMPLETE);
      const text = msg.realtimeInput?.text;
      if (typeof text === "string") {
        socket.send(encoder.encode(JSON.stringify({ serverContent: { modelTurn: { parts: [{ text }] } } })));
      }
    };
    socket.onerror = () => {};
    return response;
  },
);
