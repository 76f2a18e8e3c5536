/**
 * Gemini Gateway entry point, usable every way Deno runs a server:
 *
 * - `deno task start` (`deno run main.ts`, or a `deno compile`d binary): serves on `PORT` with
 *   `WORKERS` workers (default one per CPU core; `lib/serve/workers.ts`), and on SIGTERM stops
 *   accepting, lets requests, streams and Live sessions in flight finish (up to `SHUTDOWN_GRACE_MS`;
 *   Live clients get a `goAway` at once and a 1001 close at its end), then exits.
 * - `deno serve [--parallel] main.ts` and Deno Deploy: the runtime serves the default export
 *   (`export default { fetch }`); each of its workers builds its own gateway here.
 *
 * Every worker and instance shares state through KV (see README "Run on every core").
 *
 * @module
 */
import { createGateway, type Gateway } from "./gateway.ts";
import { detectServeMode, runtimeServes, type ServeMode } from "./lib/serve/mode.ts";
import { startErrorMessage } from "./lib/serve/start_errors.ts";
import { serveGateway } from "./lib/serve/server.ts";
import { startWorkers, type WorkerGroup, workerLimit } from "./lib/serve/workers.ts";
import { setupConsole } from "./lib/logs/console_format.ts";

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

/** The start-up lines: where to reach the gateway, and the generated admin token (shown once). */
function banner(gw: Gateway, addr: Deno.NetAddr, workers?: number): void {
  const host = addr.hostname === "0.0.0.0" ? "localhost" : addr.hostname;
  console.log(`Gemini Gateway listening on http://${host}:${addr.port}`);
  console.log(`Admin panel: http://${host}:${addr.port}/admin`);
  console.log(
    `Keys in pool: ${gw.pool.size}; KV: ${gw.start.kvPath}${workers ? `; workers: ${workers}` : ""}`,
  );
}

function printGeneratedToken(gw: Gateway): void {
  if (gw.admin.generated) {
    console.log(
      `Admin token (generated, shown only once; set ADMIN_TOKEN to choose your own): ${gw.admin.generated}`,
    );
  }
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
  banner(gw, served.addr, limit.count);
  if (limit.why) console.log(`One worker: ${limit.why}.`);
  printGeneratedToken(gw);

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
  printGeneratedToken(gw);
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
    if (gateway && addr.transport === "tcp") banner(gateway, addr);
  },
} satisfies Deno.ServeDefaultExport;

if (gateway && mode === "run") await serveSelf(gateway);
if (gateway && mode === "serve") servedByRuntime(gateway);
if (gateway && mode === "unknown") {
  void runtimeServes().then((served) => served ? servedByRuntime(gateway) : serveSelf(gateway));
}

// Under `deno run` nothing is exported to serve (the runtime would only warn "did you mean deno serve").
export default mode === "run" ? undefined : serveExport;
