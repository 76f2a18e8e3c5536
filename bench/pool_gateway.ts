/**
 * The gateway with a pool of `<keys>` generated keys (in-memory KV), served like `main.ts` serves it
 * (one worker, `serveGateway`, a gentle stop on SIGTERM, so `--cpu-prof` writes its profile): for
 * `deno task bench`'s pool-size rows and `BENCH_POOL_KEYS` of `deno task bench:served` (10,000 keys are
 * too many for an environment variable, and writing them to a KV file first takes minutes on a loaded
 * machine).
 * Usage: deno run -A bench/pool_gateway.ts <port> <keys> (other settings from the environment).
 *
 * @module
 */
import { createGateway } from "../gateway.ts";
import { serveGateway } from "../lib/serve/server.ts";

const [port, count] = Deno.args;
const keys = Array.from({ length: Number(count) }, (_, i) => "AIza" + String(i).padStart(35, "k"));
const gw = await createGateway({
  env: { ...Deno.env.toObject(), KV_PATH: ":memory:", GEMINI_API_KEYS: keys.join(",") },
});
await gw.ready;
const served = serveGateway({ gw, port: Number(port), hostname: "127.0.0.1" });
Deno.addSignalListener("SIGTERM", async () => {
  await served.stop(1_000);
  Deno.exit(0);
});
