/**
 * `deno task start` on every core: the main thread serves its own gateway and starts `count - 1`
 * Web Workers (`worker.ts`), each with its own gateway on the same KV, all listening on one port
 * (SO_REUSEPORT: the kernel spreads connections over them). Key state, settings and tokens are shared
 * through KV at once (`kv.watch` sees the writes of every worker of a process); limits that must hold
 * in total are split between the workers (`lib/cluster/members.ts`); background jobs take a lease.
 *
 * @module
 */
import type { FromWorker, ToWorker } from "./worker.ts";

/** Why a worker count was lowered, or undefined when `wanted` can be used. */
export function workerLimit(o: { wanted: number; kvPath: string }): { count: number; why?: string } {
  if (o.wanted <= 1) return { count: 1 };
  if (Deno.env.get("DENO_DEPLOY")) return { count: 1, why: "Deno Deploy runs one isolate per instance" };
  if (o.kvPath === ":memory:") {
    return { count: 1, why: "KV_PATH=:memory: is private to each worker, so one worker serves" };
  }
  if (Deno.build.os !== "linux") {
    return {
      count: 1,
      why: `workers share a port only on Linux; use deno serve --parallel on ${Deno.build.os}`,
    };
  }
  // `Deno.listenDatagram` exists only with --unstable-net, which sharing a port (reusePort) needs.
  if (!("listenDatagram" in Deno)) {
    return {
      count: 1,
      why: "several workers need --unstable-net (deno task start sets it), or use deno serve -A --parallel",
    };
  }
  return { count: o.wanted };
}

/** Workers started by {@link startWorkers}. */
export interface WorkerGroup {
  /** Stops every worker gently (each waits up to `graceMs` for its requests in flight). */
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts `count` workers serving on `port` (the main thread's, already listening with reusePort).
 * Resolves once all listen.
 *
 * @throws {Error} with the worker's message when one cannot start (a start-up error).
 */
export async function startWorkers(
  o: { count: number; port: number; hostname: string },
): Promise<WorkerGroup> {
  const workers: Worker[] = [];
  const started: Promise<void>[] = [];
  for (let i = 0; i < o.count; i++) {
    const w = new Worker(new URL("./worker.ts", import.meta.url), {
      type: "module",
      name: `worker-${i + 1}`,
    });
    workers.push(w);
    started.push(
      new Promise<void>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<FromWorker>) => {
          if (e.data.type === "listening") resolve();
          if (e.data.type === "failed") reject(new Error(e.data.message));
        };
        w.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`worker ${i + 1} failed: ${e.message}`));
        };
      }),
    );
    w.postMessage({ type: "start", port: o.port, hostname: o.hostname } satisfies ToWorker);
  }
  try {
    await Promise.all(started);
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  return {
    async stop(graceMs) {
      await Promise.all(workers.map((w) =>
        new Promise<void>((resolve) => {
          w.onmessage = (e: MessageEvent<FromWorker>) => e.data.type === "stopped" && resolve();
          w.onerror = () => resolve();
          w.postMessage({ type: "stop", graceMs } satisfies ToWorker);
        }).then(() => w.terminate())
      ));
    },
  };
}
