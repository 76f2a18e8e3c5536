/**
 * One worker of `deno task start` (a Web Worker started by `lib/serve/workers.ts`): builds its own
 * gateway on the shared KV and serves it on the shared port, until the main thread says stop.
 *
 * Messages: in `{type: "start", port, hostname}` and `{type: "stop", graceMs}`; out
 * `{type: "listening"}`, `{type: "failed", message}` and `{type: "stopped"}`.
 *
 * @module
 */
import { createGateway } from "../../gateway.ts";
import { startErrorMessage } from "./start_errors.ts";
import { type ServedGateway, serveGateway } from "./server.ts";
import { setupConsole } from "../logs/console_format.ts";

/** A message from the main thread. */
export type ToWorker = { type: "start"; port: number; hostname: string } | { type: "stop"; graceMs: number };
/** A message to the main thread. */
export type FromWorker = { type: "listening" } | { type: "failed"; message: string } | { type: "stopped" };

/** The worker's global scope (typed here: the project's type check uses the window's lib). */
const scope = self as unknown as {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};
let served: ServedGateway | undefined;
const post = (m: FromWorker) => scope.postMessage(m);

scope.onmessage = async (e) => {
  const msg = e.data;
  if (msg.type === "start") {
    try {
      const gw = await createGateway();
      setupConsole(gw.start.logFormat);
      served = serveGateway({
        gw,
        port: msg.port,
        hostname: msg.hostname,
        reusePort: true,
        onListen: () => post({ type: "listening" }),
      });
    } catch (err) {
      post({ type: "failed", message: startErrorMessage(err) ?? String((err as Error)?.stack ?? err) });
    }
  } else if (msg.type === "stop") {
    await served?.stop(msg.graceMs);
    post({ type: "stopped" });
  }
};
