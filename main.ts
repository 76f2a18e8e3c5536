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
import type { AdminSecrets } from "./lib/config/admin_secrets.ts";

/** What the start-up lines say. */
export interface StartInfo {
  /** The address Deno listens on (`0.0.0.0` for every interface). */
  hostname: string;
  port: number;
  keys: number;
  kvPath: string;
  admin: Pick<AdminSecrets, "source" | "generated">;
}

/** The lines printed once the gateway listens: where, the admin panel, the pool, the admin token. */
export function startLines(o: StartInfo): string[] {
  const everywhere = o.hostname === "0.0.0.0" || o.hostname === "::";
  const host = everywhere ? "localhost" : o.hostname;
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${o.port}`;
  const lines = [
    `Gemini Gateway listening on ${base}`,
    ...(everywhere
      ? [`  on every network interface (HOST=${o.hostname}); set HOST=127.0.0.1 to accept only this machine.`]
      : []),
    `Admin panel: ${base}/admin`,
    `Keys in pool: ${o.keys}; KV: ${o.kvPath}`,
  ];
  if (o.admin.source === "env") lines.push("Admin token: set by ADMIN_TOKEN.");
  else if (o.admin.source === "generated") {
    lines.push(
      `Admin token (generated at this first start, shown only once): ${o.admin.generated}`,
      "  It is stored only as a hash. To choose your own, set ADMIN_TOKEN (at least 12 characters) and restart.",
    );
  } else {
    lines.push(
      "Admin token: generated at the first start and stored as a hash; it is not shown again.",
      "  Lost it? Set ADMIN_TOKEN (at least 12 characters) and restart: that token then replaces it.",
    );
  }
  return lines;
}

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
      const lines = startLines({ hostname, port, keys: gw.pool.size, kvPath: start.kvPath, admin: gw.admin });
      console.log(lines.join("\n"));
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
