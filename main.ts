/**
 * Gemini Gateway entry point, usable every way Deno runs a server:
 *
 * - `deno task start` (`deno run main.ts`, or a `deno compile`d binary): serves on `PORT` with
 *   `WORKERS` workers (default one per CPU core; `lib/serve/workers.ts`), and on SIGTERM stops
 *   accepting, lets requests, streams and Live sessions in flight finish (up to `SHUTDOWN_GRACE_MS`;
 *   Live clients get a `goAway` at once and a 1001 close at its end), then exits.
 * - `deno serve -A [--parallel] main.ts` and Deno Deploy: the runtime serves the default export
 *   (`export default { fetch }`); each of its workers builds its own gateway here (`-A`: see
 *   `lib/serve/mode.ts`).
 *
 * Every worker and instance shares state through KV (see README "Run on every core").
 *
 * @module
 */
import { createGateway, type Gateway } from "./gateway.ts";
import { detectServeMode, type ServeMode } from "./lib/serve/mode.ts";
import { startErrorMessage } from "./lib/serve/start_errors.ts";
import { serveGateway } from "./lib/serve/server.ts";
import { startWorkers, type WorkerGroup, workerLimit } from "./lib/serve/workers.ts";
import { setupConsole } from "./lib/logs/console_format.ts";
import type { AdminSecrets } from "./lib/config/admin_secrets.ts";

/** Builds the gateway; a start-up error is printed as one line (no stack) and exits 2. */
async function openGateway(): Promise<Gateway> {
  try {
    const gw = await createGateway();
    setupConsole(gw.start.logFormat);
    return gw;
  } catch (e) {
    const message = startErrorMessage(e);
    if (message) {
      console.error(message);
      Deno.exit(2);
    }
    throw e;
  }
}

/** What the start-up lines say. */
export interface StartInfo {
  /** The address Deno listens on (`0.0.0.0` for every interface). */
  hostname: string;
  port: number;
  keys: number;
  kvPath: string;
  admin: Pick<AdminSecrets, "source" | "generated">;
  /** Workers serving (`deno task start`); absent when the runtime serves. */
  workers?: number;
}

/** Where the gateway listens, its admin panel and its pool. */
function addressLines(o: Omit<StartInfo, "admin">): string[] {
  const everywhere = o.hostname === "0.0.0.0" || o.hostname === "::";
  const host = everywhere ? "localhost" : o.hostname;
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${o.port}`;
  return [
    `Gemini Gateway listening on ${base}`,
    ...(everywhere
      ? [`  on every network interface (HOST=${o.hostname}); set HOST=127.0.0.1 to accept only this machine.`]
      : []),
    `Admin panel: ${base}/admin`,
    `Keys in pool: ${o.keys}; KV: ${o.kvPath}${o.workers ? `; workers: ${o.workers}` : ""}`,
  ];
}

/** Where the admin token comes from (a generated one is shown here, once). */
function adminLines(admin: StartInfo["admin"]): string[] {
  if (admin.source === "env") return ["Admin token: set by ADMIN_TOKEN."];
  if (admin.source === "generated") {
    return [
      `Admin token (generated at this first start, shown only once): ${admin.generated}`,
      "  It is stored only as a hash. To choose your own, set ADMIN_TOKEN (at least 12 characters) and restart.",
    ];
  }
  return [
    "Admin token: generated at the first start and stored as a hash; it is not shown again.",
    "  Lost it? Set ADMIN_TOKEN (at least 12 characters) and restart: that token then replaces it.",
  ];
}

/** The lines printed once the gateway listens: where, the admin panel, the pool, the admin token. */
export function startLines(o: StartInfo): string[] {
  return [...addressLines(o), ...adminLines(o.admin)];
}

function onSignals(handler: () => void): void {
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    try {
      Deno.addSignalListener(sig, handler);
    } catch {
      // signals are not available on every platform
    }
  }
}

/** `deno task start`: serve with every worker; stop gently on SIGTERM. */
async function serveSelf(gw: Gateway): Promise<void> {
  const { start } = gw;
  const limit = workerLimit({ wanted: start.workers || navigator.hardwareConcurrency, kvPath: start.kvPath });
  const served = serveGateway({ gw, port: start.port, hostname: start.host, reusePort: limit.count > 1 });
  let workers: WorkerGroup | undefined;
  if (limit.count > 1) {
    try {
      workers = await startWorkers({ count: limit.count - 1, port: served.addr.port, hostname: start.host });
    } catch (e) {
      console.error(e instanceof Error ? e.message : String(e));
      Deno.exit(2);
    }
  }
  if (limit.why) console.log(`One worker: ${limit.why}.`);
  const { hostname, port } = served.addr;
  console.log(
    startLines({
      hostname,
      port,
      keys: gw.pool.size,
      kvPath: start.kvPath,
      admin: gw.admin,
      workers: limit.count,
    })
      .join("\n"),
  );

  let stopping = false;
  onSignals(async () => {
    if (stopping) return;
    stopping = true;
    console.log(`Shutting down: waiting up to ${start.shutdownGraceMs} ms for requests in flight.`);
    await Promise.all([served.stop(start.shutdownGraceMs), workers?.stop(start.shutdownGraceMs)]);
    Deno.exit(0);
  });
}

/**
 * `deno serve` / Deno Deploy: the runtime serves; on SIGTERM or SIGINT flush what is pending to KV,
 * then let the process end. A recent Deno stops its own server on these signals (denoland/deno#32862);
 * an older one (2.5, as Deno Deploy runs) keeps serving once a listener is registered (#30771), so the
 * process exits itself a second after the flush when nothing else ended it (the timer is unref'd).
 */
function servedByRuntime(gw: Gateway): void {
  console.log(adminLines(gw.admin).join("\n"));
  onSignals(() =>
    void gw.close().catch(() => {}).finally(() => Deno.unrefTimer(setTimeout(() => Deno.exit(0), 1_000)))
  );
}

const mode: ServeMode | undefined = import.meta.main ? detectServeMode() : undefined;
const gateway = mode ? await openGateway() : undefined;

/** What `deno serve` and Deno Deploy serve (each of their workers evaluates this module). */
const serveExport = {
  fetch(req: Request, info: Deno.ServeHandlerInfo): Response | Promise<Response> {
    if (!gateway) throw new Error("main.ts serves only as the main module");
    return gateway.app.fetch(req, info);
  },
  onListen(addr: Deno.Addr): void {
    if (gateway && addr.transport === "tcp") {
      const { hostname, port } = addr;
      console.log(
        addressLines({ hostname, port, keys: gateway.pool.size, kvPath: gateway.start.kvPath }).join("\n"),
      );
    }
  },
} satisfies Deno.ServeDefaultExport;

if (gateway && mode === "run") await serveSelf(gateway);
if (gateway && mode === "serve") servedByRuntime(gateway);
// Under `deno run` nothing is exported to serve (the runtime would only warn "did you mean deno serve").
export default mode === "run" ? undefined : serveExport;
