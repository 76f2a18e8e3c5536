/**
 * Serving one gateway with `Deno.serve` and stopping it gently: on stop, no new connections are
 * accepted, requests and streams in flight may finish within the grace period, then pending KV
 * writes are flushed and KV is closed. Used by the main thread and by every worker of
 * `deno task start`.
 *
 * @module
 */
import type { Gateway } from "../../gateway.ts";

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
  const server = Deno.serve({
    port: o.port,
    hostname: o.hostname,
    reusePort: o.reusePort,
    onListen: (addr) => o.onListen?.(addr as Deno.NetAddr),
  }, o.gw.app.fetch);
  let stopping: Promise<void> | undefined;
  return {
    addr: server.addr as Deno.NetAddr,
    stop(graceMs) {
      stopping ??= (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const grace = new Promise<void>((r) => timer = setTimeout(r, graceMs));
        await Promise.race([server.shutdown(), grace]);
        clearTimeout(timer);
        await o.gw.close();
      })();
      return stopping;
    },
  };
}
