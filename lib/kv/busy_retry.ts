/**
 * Several workers of one process (and processes on one machine) open the same SQLite-backed KV file;
 * a write can then meet another connection's write lock and fail at once with "database is locked"
 * (SQLite's BUSY). {@link retryWhenBusy} makes writes wait and try again, so no worker loses a write
 * to another's lock. Only local files need it: KV Connect and Deno Deploy's KV never answer BUSY.
 *
 * @module
 */
import { abortableSleep } from "../util/sleep.ts";

/** How many times a write is tried when the database is busy. */
const TRIES = 8;

function busy(e: unknown): boolean {
  return e instanceof Error && /database is locked|database table is locked|SQLITE_BUSY/i.test(e.message);
}

/** Runs `write`, again after a short, growing pause while it fails because the database is busy. */
export async function whileBusy<T>(write: () => Promise<T>): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await write();
    } catch (e) {
      if (!busy(e) || i >= TRIES) throw e;
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
