/**
 * Several workers of one process (and processes on one machine) open the same SQLite-backed KV file.
 * SQLite waits up to 5 s for another connection's write lock, but in some conflicts between two
 * connections (a read that must become a write after another one wrote) it answers "database is
 * locked" at once, without waiting. {@link retryWhenBusy} tries such a write again after a short
 * pause, so no worker loses a write to another's; a write that failed after SQLite's own wait (a file
 * held by another process, see `kv_health.ts`) fails as it did. Only local files need this: KV
 * Connect and Deno Deploy's KV never answer BUSY.
 *
 * @module
 */
import { abortableSleep } from "../util/sleep.ts";

/** How many times a write is tried when the database answered busy at once. */
const TRIES = 8;
/** A busy answer that took longer than this came after SQLite's own wait: not retried. */
const AT_ONCE_MS = 1_000;

function busy(e: unknown): boolean {
  return e instanceof Error && /database is locked|database table is locked|SQLITE_BUSY/i.test(e.message);
}

/** Runs `write`, again after a short, growing pause while it fails at once because the database is busy. */
export async function whileBusy<T>(write: () => Promise<T>): Promise<T> {
  for (let i = 1;; i++) {
    const started = performance.now();
    try {
      return await write();
    } catch (e) {
      if (!busy(e) || i >= TRIES || performance.now() - started > AT_ONCE_MS) throw e;
      await abortableSleep(5 * 2 ** i + Math.random() * 10);
    }
  }
}

/** `kv` with its writes (`atomic().commit()`, `set`, `delete`) retried while the database is busy. */
export function retryWhenBusy(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => whileBusy(commit);
          return op;
        };
      }
      if (prop === "set" || prop === "delete") {
        const fn = (target[prop] as (...args: unknown[]) => Promise<unknown>).bind(target);
        return (...args: unknown[]) => whileBusy(() => fn(...args));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
