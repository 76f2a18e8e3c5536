/**
 * Periodic background work that never piles up: a timer's tick starts the task only when its previous
 * run has settled. A KV write can wait SQLite's 5 s busy timeout while another process holds the file;
 * a heartbeat every 5 s that queued a write per tick would grow the store's queue for as long as the
 * outage lasts, and every KV read waits behind that queue.
 *
 * @module
 */

/**
 * A tick function for `setInterval`: runs `task` unless its previous run is still pending (then the tick
 * is skipped). Errors are `task`'s to handle; a rejection only ends that run.
 */
export function oneAtATime(task: () => Promise<unknown>): () => void {
  let running = false;
  return () => {
    if (running) return;
    running = true;
    task().catch(() => {}).finally(() => running = false);
  };
}
