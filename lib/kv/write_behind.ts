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

/**
 * Runs a store's background writes one after another: a flush started while one is running waits for
 * it, so `close()` (a last flush) returns only once every write has landed and KV can close.
 */
export class WriteChain {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `write` after the write already running (if any); settles as `write` does. */
  run(write: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(write);
    this.#tail = run.catch(() => {});
    return run;
  }
}
