/**
 * Real coding agents for end-to-end tests: installs Claude Code and Codex CLI from npm into a cache
 * directory outside the repository (once; later runs reuse it), and a loopback "proxy sink" that the
 * agents' `HTTPS_PROXY`/`HTTP_PROXY` point at, so any request an agent tries to send anywhere but the
 * gateway ends on this machine and is recorded (tests assert there was none).
 *
 * @module
 */

/** The agents, pinned to versions these tests were written against. */
export const AGENTS = {
  claude: { pkg: "@anthropic-ai/claude-code", version: "2.1.197", bin: "claude" },
  codex: { pkg: "@openai/codex", version: "0.171.0", bin: "codex" },
} as const;

/** Where agents are installed: `$GATEWAY_TEST_CACHE` or `~/.cache/gemini-gateway-tests`. */
export function agentCacheDir(): string {
  const base = Deno.env.get("GATEWAY_TEST_CACHE") ??
    `${Deno.env.get("HOME") ?? "/tmp"}/.cache/gemini-gateway-tests`;
  return `${base}/agents`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of an agent's executable, installing it with `npm install` into the cache first when it is
 * missing. Throws with npm's output when the install fails.
 */
export async function ensureAgent(name: keyof typeof AGENTS): Promise<string> {
  const a = AGENTS[name];
  const dir = `${agentCacheDir()}/${name}-${a.version}`;
  const bin = `${dir}/node_modules/.bin/${a.bin}`;
  if (await exists(bin)) return bin;
  await Deno.mkdir(dir, { recursive: true });
  const out = await new Deno.Command("npm", {
    args: ["install", "--no-audit", "--no-fund", "--no-save", "--prefix", dir, `${a.pkg}@${a.version}`],
    stdout: "piped",
    stderr: "piped",
    env: { npm_config_update_notifier: "false" },
  }).output();
  if (!out.success || !await exists(bin)) {
    const log = new TextDecoder().decode(out.stderr).slice(-2000);
    throw new Error(`npm could not install ${a.pkg}@${a.version} into ${dir}:\n${log}`);
  }
  return bin;
}

/** A loopback listener standing in for a proxy: it records the first line of every connection and closes it. */
export interface ProxySink {
  /** `http://127.0.0.1:PORT`, for `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY`. */
  url: string;
  /** First lines seen, e.g. `CONNECT github.com:443 HTTP/1.1`. */
  attempts: string[];
  close(): Promise<void>;
}

/** Starts a {@link ProxySink} on a random loopback port. */
export function startProxySink(): ProxySink {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const attempts: string[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(1024);
      const n = await conn.read(buf).catch(() => null);
      attempts.push(new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0]);
      conn.close();
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    attempts,
    async close() {
      listener.close();
      await done.catch(() => {});
    },
  };
}

/** Environment that sends every non-loopback request of a child process to `sink`. */
export function loopbackOnlyEnv(sink: ProxySink): Record<string, string> {
  return {
    HTTPS_PROXY: sink.url,
    HTTP_PROXY: sink.url,
    ALL_PROXY: sink.url,
    https_proxy: sink.url,
    http_proxy: sink.url,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  };
}

/** Runs `bin` with `args` in `cwd` with exactly `env` (plus PATH); returns exit code and output. */
export async function runAgent(
  o: { bin: string; args: string[]; cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(o.bin, {
    args: o.args,
    cwd: o.cwd,
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", ...o.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 180_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}
