/**
 * Gemini Gateway entry point: `deno task start`. Reads settings from the environment, serves the
 * gateway, and on SIGTERM stops accepting, lets streams and Live sessions in flight finish (up to a
 * grace period; Live clients get a `goAway` at once and a 1001 close at its end), then exits. Also the
 * entry point for Deno Deploy and `deno compile`.
 *
 * @module
 */
import { createGateway } from "./gateway.ts";
import { EnvError } from "./lib/config/env.ts";
import { KvOpenError } from "./lib/kv/open_kv.ts";
import { GatewayError, googleErrorResponse } from "./lib/http/errors.ts";

/** The answer to requests that arrive while the gateway waits for its Live sessions to end. */
function shuttingDown(): Response {
  return googleErrorResponse(
    new GatewayError(503, "The gateway is shutting down; send the request again.", {
      headers: { "retry-after": "1", connection: "close" },
    }),
  );
}

async function main() {
  let gw;
  try {
    gw = await createGateway();
  } catch (e) {
    // Start-up errors say what is wrong and how to fix it: print that, not a stack.
    if (e instanceof EnvError || e instanceof KvOpenError) {
      console.error(`Cannot start: ${e.message}`);
      Deno.exit(2);
    }
    throw e;
  }
  const { start } = gw;
  let stopping = false;
  // The connection info goes to Hono as its env: `c.env.remoteAddr` is the peer address that per-client
  // throttles (admin sign-in, client tokens) and TRUSTED_PROXIES read (lib/http/client_address.ts).
  const server = Deno.serve({
    port: start.port,
    hostname: start.host,
    onListen({ hostname, port }) {
      const host = hostname === "0.0.0.0" ? "localhost" : hostname;
      console.log(`Gemini Gateway listening on http://${host}:${port}`);
      console.log(`Admin panel: http://${host}:${port}/admin`);
      console.log(`Keys in pool: ${gw.pool.size}; KV: ${start.kvPath}`);
      if (gw.admin.generated) {
        console.log(
          `Admin token (generated, shown only once; set ADMIN_TOKEN to choose your own): ${gw.admin.generated}`,
        );
      }
    },
  }, (req, info) => stopping ? shuttingDown() : gw.app.fetch(req, info));

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log(`Shutting down: waiting up to ${start.shutdownGraceMs} ms for requests in flight.`);
    const deadline = Date.now() + start.shutdownGraceMs;
    // `server.shutdown()` would close every WebSocket at once, so Live sessions are drained first: a
    // goAway now, a 1001 close when the grace period is over (new requests meanwhile get a 503). With no
    // session open this returns at once.
    await gw.live.drain(start.shutdownGraceMs);
    const grace = new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
    await Promise.race([server.shutdown(), grace]);
    await gw.close();
    Deno.exit(0);
  };
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    try {
      Deno.addSignalListener(sig, stop);
    } catch {
      // signals are not available on every platform (Deno Deploy)
    }
  }
}

if (import.meta.main) await main();
