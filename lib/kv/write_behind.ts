/**
 * How long usage counters, request logs and dashboard metrics wait in memory before they are written
 * to KV in one batch. It bounds what a hard kill (SIGKILL, power loss) can lose: about this long of
 * traffic plus one KV commit; SIGTERM writes everything first. Requests never wait for these writes.
 * `deno task bench:durability` measures the window.
 *
 * @module
 */

/** Write-behind delay in ms (README "Durability"). */
export const WRITE_BEHIND_MS = 200;

/** Delay before retrying a batch the store refused: grows with consecutive failures up to 30 s. */
export function retryDelayMs(failures: number): number {
  return Math.min(30_000, WRITE_BEHIND_MS * 2 ** Math.max(0, failures));
}

/** The underlying reason of a store failure, for a background writer's log line. */
export function failureText(e: unknown): string {
  const inner = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  return inner instanceof Error ? inner.message : String(inner);
}
