/**
 * Real coding agents for end-to-end tests: Claude Code and Codex CLI from npm (in the test tools
 * cache, `npm_tools.ts`), a runner with a clean environment, and a loopback "proxy sink" that the
 * agents' `HTTPS_PROXY`/`HTTP_PROXY` point at, so any request an agent tries to send anywhere but the
 * gateway ends on this machine and is recorded (tests assert there was none).
 *
 * @module
 */
import { ensureNpmTool } from "./npm_tools.ts";

/** Claude Code's platform package (an optional dependency holding the native binary), e.g. `linux-x64`. */
const CLAUDE_PLATFORM = `${Deno.build.os}-${Deno.build.arch === "aarch64" ? "arm64" : "x64"}`;

/**
 * The agents, pinned to versions these tests were written against. Claude Code's `bin/claude.exe` is a
 * stub until its postinstall links the native binary of its platform package into place; install
 * scripts stay off, so the tests run that binary directly.
 */
export const AGENTS = {
  claude: {
    pkg: "@anthropic-ai/claude-code",
    version: "2.1.197",
    entry: `node_modules/@anthropic-ai/claude-code-${CLAUDE_PLATFORM}/claude`,
  },
  codex: { pkg: "@openai/codex", version: "0.171.0", entry: "node_modules/.bin/codex" },
} as const;

/** The path of an agent's executable, installing it from npm into the test tools cache when missing. */
export function ensureAgent(name: keyof typeof AGENTS): Promise<string> {
  return ensureNpmTool(AGENTS[name]);
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
