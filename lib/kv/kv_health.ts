/**
 * Whether the state store (Deno KV) works: every read and write the gateway makes through a
 * {@link KvHealth.track}ed database reports its outcome, and a small probe write runs when nothing
 * else has written for a while (so a read-only or locked file is noticed without traffic). A failed
 * operation throws a 503 {@link GatewayError} that says the store failed and nothing was saved, so an
 * admin change is never acknowledged unless it is durable. `/health`, `/ready` and the admin panel
 * read {@link KvHealth.status} (memory only: they never wait for KV).
 *
 * While writes fail, at most one write at a time is sent to the store; the others fail at once with
 * the same 503. A local KV file runs its operations one after another, and a write to a file another
 * process holds waits SQLite's 5 s busy timeout before failing: with every background writer (usage,
 * metrics, key state, heartbeat) retrying, reads would queue behind many such waits (20 s and more
 * each, measured) instead of at most one. When a file stays locked for about a minute, even reads stop
 * answering until it is free (Deno 2.9.6, measured with another process holding `BEGIN EXCLUSIVE`: about
 * 60 s in, a write stops failing after 5 s and waits for the file, and every read of every handle of that
 * file waits behind it; and in an outage's first seconds, before any write has failed, reads wait behind
 * every write sent meanwhile: 30 s, measured), so a read that has not answered after `stalledReadMs` fails
 * with the 503 too, instead of holding its request until the outage ends.
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import { answerWithin } from "../util/answer_within.ts";

/** The store's state as last observed. */
export interface KvStatus {
  /** Reads and writes both worked the last time each was tried. */
  ok: boolean;
  readable: boolean;
  writable: boolean;
  /** The last failure's message, while failing. */
  error?: string;
  /** Epoch ms of the first failure in the current run of failures. */
  failingSince?: number;
}

/** Options for {@link KvHealth}. */
export interface KvHealthOptions {
  /** Probe when no write was seen for this long; default 5 000 ms (0 = never). */
  probeMs?: number;
  /** A read that has not answered after this many ms fails with the 503; default 10 000 (see the module doc). */
  stalledReadMs?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

const PROBE_KEY = ["health", "probe"] as const;
/** Methods of `Deno.AtomicOperation` that add to the operation and return it. */
const ATOMIC_BUILDERS = new Set(["check", "set", "delete", "sum", "min", "max", "mutate", "enqueue"]);

/**
 * Errors that are the caller's misuse (a value over KV's size limits, too many mutations, a bad key),
 * not a failing store: they pass through unchanged and do not mark the store as failing.
 */
const USAGE_ERROR = /too large|too many|exceed|invalid|must be|not supported|unsupported/i;

/** The 503 for a store failure: what failed and that the change was not saved. */
export function storeUnavailable(kind: "read" | "write", cause: unknown): GatewayError {
  const why = cause instanceof Error ? cause.message : String(cause);
  const what = kind === "write" ? "could not save the change, so nothing was changed" : "could not be read";
  return new GatewayError(
    503,
    `The state store (Deno KV) ${what}: ${why}. Check KV_PATH (disk space, permissions, another ` +
      "process holding the file) and try again; GET /ready reports when it works again.",
    { cause, googleStatus: "UNAVAILABLE" },
  );
}

/** Tracks the state store's health. */
export class KvHealth {
  #readable = true;
  #writable = true;
  #error?: string;
  #failingSince?: number;
  #lastWriteAt = 0;
  #timer?: number;
  #probing?: Promise<KvStatus>;
  /** Writes sent to the store and not settled yet. */
  #writesInFlight = 0;
  /** Set while the probe's write is sent: it always goes to the store (that is how recovery is seen). */
  #probeWrite = false;
  #kv?: Deno.Kv;
  readonly #probeMs: number;
  readonly #stalledReadMs: number;
  readonly #now: () => number;
  readonly #listeners = new Set<(s: KvStatus) => void>();

  constructor(o: KvHealthOptions = {}) {
    this.#probeMs = o.probeMs ?? 5_000;
    this.#stalledReadMs = o.stalledReadMs ?? 10_000;
    this.#now = o.now ?? Date.now;
  }

  /** The last observed state (synchronous). */
  get status(): KvStatus {
    const ok = this.#readable && this.#writable;
    return ok ? { ok, readable: true, writable: true } : {
      ok,
      readable: this.#readable,
      writable: this.#writable,
      error: this.#error,
      failingSince: this.#failingSince,
    };
  }

  /** Calls `listener` whenever the store goes from working to failing or back. */
  onChange(listener: (s: KvStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records the outcome of one operation. */
  report(kind: "read" | "write", error?: unknown): void {
    const wasOk = this.#readable && this.#writable;
    if (kind === "write") this.#lastWriteAt = this.#now();
    const ok = error === undefined;
    if (kind === "read") this.#readable = ok;
    else this.#writable = ok;
    if (!ok) {
      this.#error = error instanceof Error ? error.message : String(error);
      this.#failingSince ??= this.#now();
    } else if (this.#readable && this.#writable) {
      this.#error = this.#failingSince = undefined;
    }
    if (wasOk !== (this.#readable && this.#writable)) { for (const l of this.#listeners) l(this.status); }
  }

  /**
   * `kv` with every read and write reported here; a failed one throws {@link storeUnavailable}.
   * Everything else (watch, close, ...) passes through.
   */
  track(kv: Deno.Kv): Deno.Kv {
    const settle = <T>(kind: "read" | "write", p: Promise<T>): Promise<T> =>
      p.then((v) => (this.report(kind), v), (e) => {
        if (e instanceof GatewayError || (e instanceof Error && USAGE_ERROR.test(e.message))) throw e;
        this.report(kind, e);
        throw storeUnavailable(kind, e);
      });
    const run = <T>(kind: "read" | "write", call: () => Promise<T>): Promise<T> => {
      if (kind === "read") {
        const sent = call();
        return settle(kind, answerWithin(sent, this.#stalledReadMs));
      }
      if (!this.#writable && this.#writesInFlight > 0 && !this.#probeWrite) {
        return Promise.reject(
          storeUnavailable("write", new Error(this.#error ?? "the store refuses writes")),
        );
      }
      const sent = call();
      this.#writesInFlight++;
      return settle(kind, sent).finally(() => this.#writesInFlight--);
    };
    const atomic = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
      const proxy: Deno.AtomicOperation = new Proxy(op, {
        get: (target, prop) => {
          if (prop === "commit") return () => run("write", () => target.commit());
          const value = Reflect.get(target, prop, target);
          if (typeof value !== "function") return value;
          if (typeof prop === "string" && ATOMIC_BUILDERS.has(prop)) {
            return (...args: unknown[]) => (value.apply(target, args), proxy);
          }
          return value.bind(target);
        },
      });
      return proxy;
    };
    const list = (iter: Deno.KvListIterator<unknown>): Deno.KvListIterator<unknown> => {
      const proxy: Deno.KvListIterator<unknown> = new Proxy(iter, {
        get: (target, prop) => {
          if (prop === "next") return () => run("read", () => target.next());
          if (prop === Symbol.asyncIterator) return () => proxy;
          const value = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      return proxy;
    };
    const tracked = new Proxy(kv, {
      get: (target, prop) => {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        switch (prop) {
          case "get":
          case "getMany":
            return (...args: unknown[]) => run("read", () => value.apply(target, args));
          case "set":
          case "delete":
          case "enqueue":
            return (...args: unknown[]) => run("write", () => value.apply(target, args));
          case "atomic":
            return () => atomic(target.atomic());
          case "list":
            return (...args: unknown[]) => list(value.apply(target, args));
          default:
            return value.bind(target);
        }
      },
    });
    // The probe goes through the tracked database, so its outcome is reported like any other.
    this.#kv = tracked;
    return tracked;
  }

  /** Writes and reads a probe entry now (even while other probes are skipped) and answers the state. */
  probe(): Promise<KvStatus> {
    const kv = this.#kv;
    if (!kv) return Promise.resolve(this.status);
    this.#probing ??= (async () => {
      try {
        this.#probeWrite = true;
        const written = kv.set([...PROBE_KEY], this.#now(), { expireIn: 60_000 });
        this.#probeWrite = false;
        await written;
        await kv.get([...PROBE_KEY]);
      } catch {
        // reported by the tracked database
      } finally {
        this.#probeWrite = false;
        this.#probing = undefined;
      }
      return this.status;
    })();
    return this.#probing;
  }

  /** Probes in the background whenever nothing else wrote for `probeMs`. */
  start(): void {
    if (this.#probeMs <= 0 || this.#timer !== undefined) return;
    const timer = setInterval(() => {
      if (this.#now() - this.#lastWriteAt >= this.#probeMs && !this.#probing) void this.probe();
    }, this.#probeMs) as unknown as number;
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Stops probing and waits for a probe in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#probing;
  }
}
