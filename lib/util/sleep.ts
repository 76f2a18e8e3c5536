/**
 * Waiting that a signal can cut short.
 *
 * @module
 */

/**
 * Waits `ms` milliseconds, or less when `signal` aborts (the timer is then cleared).
 *
 * @returns true when the full time passed, false when the signal aborted first.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (full: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
      resolve(full);
    };
    const abort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}
