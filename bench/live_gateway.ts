/**
 * The gateway for `bench:live`, served like `main.ts` but with one bench-only route,
 * `GET /bench/memory`: it runs V8's garbage collector (start with `--v8-flags=--expose-gc`) and answers
 * `Deno.memoryUsage()`, so memory per open session is read without garbage in the figures.
 * Usage: deno run -A --v8-flags=--expose-gc bench/live_gateway.ts (settings from the environment).
 *
 * @module
 */
import { createGateway } from "../gateway.ts";

const gw = await createGateway();
const gc = (globalThis as { gc?: () => void }).gc;
Deno.serve({ port: gw.start.port, hostname: gw.start.host, onListen: () => {} }, (req) => {
  if (new URL(req.url).pathname !== "/bench/memory") return gw.app.fetch(req);
  gc?.();
  return Response.json({ ...Deno.memoryUsage(), gc: gc !== undefined });
});
