/**
 * Starts benchmark processes and waits for them to listen.
 *
 * @module
 */

/**
 * The flags `deno task start` runs the gateway with (besides its permissions): workers share a port
 * (`--unstable-net`), and `request.signal` aborts only when the client goes (`--unstable-no-legacy-abort`).
 */
export const START_FLAGS = ["-A", "--unstable-net", "--unstable-no-legacy-abort"];

/** A child process serving HTTP. */
export interface Served {
  url: string;
  /** The child's process id (for its memory in /proc). */
  pid: number;
  stop(): Promise<void>;
}

/** A process's resident memory in bytes: `VmRSS` now, or `VmHWM` (its peak since it started). */
export async function rssOf(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** A free loopback port. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Spawns `deno run <args>` and waits until `probe` answers. */
export async function serve(
  args: string[],
  port: number,
  probe: string,
  env: Record<string, string> = {},
): Promise<Served> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...args],
    env,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(url + probe);
      await r.body?.cancel();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
    },
  };
}
