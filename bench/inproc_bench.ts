/**
 * `deno task bench:inproc`: the gateway's own CPU time per request, in process. The gateway's
 * `app.fetch` is called in a loop with the upstream `fetch` replaced by a canned Gemini answer, so
 * the figure is the gateway's work alone (no sockets, no other process). Prints µs per request for
 * the native and OpenAI routes, sequential and 64 at a time.
 *
 * Usage: `deno run -A bench/inproc_bench.ts [gateway module]` (default `../gateway.ts`; give another
 * checkout's module to compare two versions in one run). `BENCH_REQUESTS` sets the count (20000).
 *
 * @module
 */

const MODULE = Deno.args[0] ? new URL(Deno.args[0], `file://${Deno.cwd()}/`).href : "../gateway.ts";
const N = Number(Deno.env.get("BENCH_REQUESTS") ?? 20_000);
const UPSTREAM = "http://127.0.0.1:9"; // never reached: fetch is replaced below
const TOKEN = "bench-client-token";
const ANSWER = JSON.stringify({
  candidates: [{
    content: {
      role: "model",
      parts: [{ text: "Hello from the benchmark upstream. This is a short answer." }],
    },
    finishReason: "STOP",
    index: 0,
  }],
  usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 12, totalTokenCount: 20 },
  modelVersion: "gemini-2.5-flash",
  responseId: "bench-response",
});
const MODELS = JSON.stringify({
  models: [{ name: "models/gemini-2.5-flash" }, { name: "models/gemini-2.5-pro" }],
});

const realFetch = globalThis.fetch;
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const url = input instanceof Request ? input.url : String(input);
  if (!url.startsWith(UPSTREAM)) return realFetch(input, init);
  const body = url.includes("/models?") || url.endsWith("/models") ? MODELS : ANSWER;
  return Promise.resolve(
    new Response(body, { headers: { "content-type": "application/json; charset=UTF-8" } }),
  );
};

const { createGateway } = await import(MODULE);
const gw = await createGateway({
  env: {
    KV_PATH: ":memory:",
    GEMINI_API_KEYS: ["b", "c", "d"].map((c) => "AIza" + c.repeat(35)).join(","),
    ALLOWED_TOKENS: TOKEN,
    ADMIN_TOKEN: "bench-admin-token-123",
    UPSTREAM_BASE_URL: UPSTREAM,
    LOGS_ENABLED: Deno.env.get("BENCH_LOGS") ?? "true",
  },
});
await gw.ready;

const nativeBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Say hello." }] }] });
const chatBody = JSON.stringify({
  model: "gemini-2.5-flash",
  messages: [{ role: "user", content: "Say hello." }],
});
const routes = {
  native: () =>
    new Request("http://gw.local/v1beta/models/gemini-2.5-flash:generateContent", {
      method: "POST",
      headers: { "x-goog-api-key": TOKEN, "content-type": "application/json" },
      body: nativeBody,
    }),
  openai: () =>
    new Request("http://gw.local/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: chatBody,
    }),
};

async function one(make: () => Request): Promise<void> {
  const res: Response = await gw.app.fetch(make());
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

async function measure(make: () => Request, concurrency: number): Promise<number> {
  for (let i = 0; i < 2000; i++) await one(make);
  const t0 = performance.now();
  for (let i = 0; i < N; i += concurrency) {
    await Promise.all(Array.from({ length: Math.min(concurrency, N - i) }, () => one(make)));
  }
  return (performance.now() - t0) * 1000 / N;
}

console.log(`in-process, ${N} requests each, module ${MODULE}`);
console.log("| route | concurrency | µs per request |");
console.log("|---|---|---|");
for (const [name, make] of Object.entries(routes)) {
  for (const c of [1, 64]) console.log(`| ${name} | ${c} | ${(await measure(make, c)).toFixed(1)} |`);
}
await gw.close();
