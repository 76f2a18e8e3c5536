/**
 * Serving one gateway with `Deno.serve` and stopping it gently: on stop, Live sessions get a `goAway`
 * at once and a 1001 close at the end of the grace period (new requests meanwhile get a 503), no new
 * connections are accepted, requests and streams in flight may finish within the grace period, then
 * pending KV writes are flushed and KV is closed. Used by the main thread and by every worker of
 * `deno task start`.
 *
 * @module
 */
import type { Gateway } from "../../gateway.ts";
import { GatewayError, googleErrorResponse } from "../http/errors.ts";

/** The answer to requests that arrive while the gateway waits for its Live sessions to end. */
function shuttingDown(): Response {
  return googleErrorResponse(
    new GatewayError(503, "The gateway is shutting down; send the request again.", {
      headers: { "retry-after": "1", connection: "close" },
    }),
  );
}

/** Options for {@link serveGateway}. */
export interface ServeGatewayOptions {
  gw: Gateway;
  port: number;
  hostname: string;
  /** Share the port with the other workers (SO_REUSEPORT; Linux, `--unstable-net`). */
  reusePort?: boolean;
  onListen?: (addr: Deno.NetAddr) => void;
}

/** A gateway being served. */
export interface ServedGateway {
  /** The address it listens on (the real port when `port` was 0). */
  addr: Deno.NetAddr;
  /** Stops accepting, waits up to `graceMs` for requests in flight, then closes the gateway. */
  stop(graceMs: number): Promise<void>;
}

/** Serves `gw` on a port; see {@link ServedGateway.stop}. */
export function serveGateway(o: ServeGatewayOptions): ServedGateway {
  let stopped = false;
  // The connection info goes to Hono as its env: `c.env.remoteAddr` is the peer address that per-client
  // throttles (admin sign-in, client tokens) and TRUSTED_PROXIES read (lib/http/client_address.ts).
  const server = Deno.serve({
    port: o.port,
    hostname: o.hostname,
    reusePort: o.reusePort,
    onListen: (addr) => o.onListen?.(addr as Deno.NetAddr),
  }, (req, info) => stopped ? shuttingDown() : o.gw.app.fetch(req, info));
  let stopping: Promise<void> | undefined;
  return {
    addr: server.addr as Deno.NetAddr,
    stop(graceMs) {
      stopping ??= (async () => {
        stopped = true;
        const deadline = Date.now() + graceMs;
        // `server.shutdown()` would close every WebSocket at once, so Live sessions are drained first
        // (with no session open this returns at once).
        await o.gw.live.drain(graceMs);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const grace = new Promise<void>((r) => timer = setTimeout(r, Math.max(0, deadline - Date.now())));
        await Promise.race([server.shutdown(), grace]);
        clearTimeout(timer);
        await o.gw.close();
      })();
      return stopping;
    },
  };
}
