/**
 * Runs `wrk` (installing it from Debian when missing) and parses its report.
 *
 * @module
 */

/** One wrk run's figures. */
export interface WrkResult {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
}

/** Makes sure `wrk` is installed (Debian package). */
export async function ensureWrk(): Promise<void> {
  const has = await new Deno.Command("sh", { args: ["-c", "command -v wrk"], stdout: "null" }).output();
  if (has.success) return;
  console.log("Installing wrk from Debian...");
  const sh = "(apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) > /dev/null 2>&1";
  const r = await new Deno.Command("sh", { args: ["-c", sh] }).output();
  if (!r.success) throw new Error("Could not install wrk; run `apt-get install -y wrk` as root and retry.");
}

function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
}

/** Options for {@link runWrk}. */
export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  body: string;
  headers: Record<string, string>;
}

/** Runs wrk with a POST body and returns requests per second and latency percentiles (ms). */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  const lua = [
    `wrk.method = "POST"`,
    `wrk.body = ${JSON.stringify(o.body)}`,
    ...Object.entries(o.headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
  ].join("\n");
  await Deno.writeTextFile(script, lua);
  const threads = Math.min(2, o.connections);
  const out = await new Deno.Command("wrk", {
    args: [
      "-t",
      String(threads),
      "-c",
      String(o.connections),
      "-d",
      `${o.seconds}s`,
      "--latency",
      "-s",
      script,
      o.url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(script);
  const text = new TextDecoder().decode(out.stdout);
  const pct = (p: string) => ms(new RegExp(`\\s${p}%\\s+(\\S+)`).exec(text)?.[1] ?? "");
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0),
    p50: pct("50"),
    p90: pct("90"),
    p99: pct("99"),
    errors,
  };
}
