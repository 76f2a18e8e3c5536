/**
 * A memory probe for benchmarks, loaded into a served process with `deno run --preload
 * bench/memory_probe.ts ...` so the process under test (the gateway's `main.ts`, a bare forwarder) runs
 * unchanged. When `BENCH_PROBE_PORT` is set it listens on that loopback port:
 *
 * - `GET /memory`: runs V8's full garbage collection when the process was started with
 *   `--v8-flags=--expose-gc`, then answers `Deno.memoryUsage()` (bytes: `rss`, `heapTotal`, `heapUsed`,
 *   `external`), `gc` (whether it could collect) and `spaces`: each V8 heap space with memory in it, as
 *   `{ name, size, used }` (bytes V8 holds for it and bytes in use; `node:v8` `getHeapSpaceStatistics`).
 * - `GET /snapshot?path=<file>`: writes a V8 heap snapshot there (`node:v8` `writeHeapSnapshot`, which
 *   collects garbage first); answers `{ path }`. Open it in Chrome DevTools (Memory tab) to compare two.
 *
 * Without `BENCH_PROBE_PORT` it does nothing.
 *
 * @module
 */
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";

const port = Deno.env.get("BENCH_PROBE_PORT");
if (port) {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Unref'd: a preloaded module runs before the main one only once nothing of its own keeps the event
  // loop busy; the process under test keeps it alive.
  const server = Deno.serve({ port: Number(port), hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/memory") {
      gc?.();
      const spaces = getHeapSpaceStatistics().filter((s) => s.space_size > 0)
        .map((s) => ({ name: s.space_name, size: s.space_size, used: s.space_used_size }));
      return Response.json({ ...Deno.memoryUsage(), gc: gc !== undefined, spaces });
    }
    if (url.pathname === "/snapshot") {
      return Response.json({ path: writeHeapSnapshot(url.searchParams.get("path") ?? undefined) });
    }
    return new Response("not found", { status: 404 });
  });
  server.unref();
}
