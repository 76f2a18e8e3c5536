/**
 * The container's HEALTHCHECK: exits 0 when the gateway in this container answers `GET /health`,
 * 1 otherwise. Usage: deno run --allow-net=127.0.0.1 --allow-env=PORT scripts/healthcheck.ts
 *
 * @module
 */
const port = Deno.env.get("PORT") ?? "8000";
try {
  const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) });
  await r.body?.cancel();
  Deno.exit(r.ok ? 0 : 1);
} catch {
  Deno.exit(1);
}
