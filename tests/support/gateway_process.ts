/**
 * Runs the gateway as users start it (`deno task start`'s command, `deno serve --parallel`, ...) in a
 * child process on a free loopback port, with its output captured.
 *
 * @module
 */

/** A free loopback port. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A gateway child process. */
export interface GatewayProcess {
  url: string;
  child: Deno.ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and waits for the exit; the exit code. */
  stop(): Promise<number>;
}

/** Options for {@link startGatewayProcess}. */
export interface GatewayProcessOptions {
  /** Deno arguments before the environment, e.g. `["run", "-A", "--unstable-net", "main.ts"]`. */
  args: string[];
  env: Record<string, string>;
  /** The port the gateway listens on (default: a free one, passed as PORT). */
  port?: number;
  /** A path answered once the gateway is up (default `/health`). */
  probe?: string;
  /** Also wait until stdout matches this (e.g. the start-up banner). */
  ready?: RegExp;
}

async function collect(stream: ReadableStream<Uint8Array>, into: { text: string }): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) into.text += decoder.decode(chunk, { stream: true });
}

/** Starts the gateway and waits until it answers `probe`. */
export async function startGatewayProcess(o: GatewayProcessOptions): Promise<GatewayProcess> {
  const port = o.port ?? freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: o.args,
    cwd: new URL("../..", import.meta.url),
    env: { PORT: String(port), HOST: "127.0.0.1", NO_COLOR: "1", ...o.env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { text: "" }, err = { text: "" };
  const reading = Promise.all([collect(child.stdout, out), collect(child.stderr, err)]);
  const url = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 300 && !up; i++) {
    try {
      await (await fetch(url + (o.probe ?? "/health"))).body?.cancel();
      up = !o.ready || o.ready.test(out.text);
    } catch {
      // not listening yet
    }
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const status = await child.status;
    await reading;
    return status.code;
  };
  if (!up) {
    await stop();
    throw new Error(`the gateway did not start:\n${out.text}\n${err.text}`);
  }
  return { url, child, stdout: () => out.text, stderr: () => err.text, stop };
}
