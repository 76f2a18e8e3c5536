/**
 * Island props serialization (server side). Props travel to the browser as JSON inside one inline
 * `<script type="module">`; signals are sent as their current value and revived on the client
 * (see `revive.ts`). The same signal object passed twice is sent once, so the revived islands share it.
 *
 * @module
 */
import { Signal } from "@preact/signals";

/** Key that marks a signal reference in serialized props: `{"$gwSignal": <index into signals>}`. */
export const SIGNAL_REF_KEY = "$gwSignal";

/** The JSON payload the client runtime receives. */
export interface IslandPayload {
  /** One entry per island occurrence, in marker order: the props with signal references. */
  props: unknown[];
  /** Current values of every distinct signal referenced from `props`. */
  signals: unknown[];
}

/** Collects the props of all islands rendered in one page and turns them into a payload. */
export class PropsCollector {
  #props: unknown[] = [];
  #signals: unknown[] = [];
  #signalIndex = new Map<Signal, number>();

  /** Number of islands collected so far. */
  get size(): number {
    return this.#props.length;
  }

  /**
   * Encodes the props of one island and returns its index (the number in its marker).
   * Throws a TypeError naming the island and the offending prop path when a value cannot be sent.
   */
  add(island: string, props: Record<string, unknown>): number {
    const encoded = this.#encode(props, `${island} props`, new Set());
    this.#props.push(encoded);
    return this.#props.length - 1;
  }

  /** The collected payload. */
  payload(): IslandPayload {
    return { props: this.#props, signals: this.#signals };
  }

  #encode(value: unknown, path: string, seen: Set<object>): unknown {
    if (value === null || typeof value === "string" || typeof value === "boolean") return value;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw refuse(path, `non-finite number ${value}`);
      return value;
    }
    if (value === undefined) return undefined;
    if (typeof value === "function") throw refuse(path, "a function (islands cannot receive callbacks)");
    if (typeof value !== "object") throw refuse(path, `a ${typeof value}`);
    if (value instanceof Signal) return { [SIGNAL_REF_KEY]: this.#signalRef(value, path, seen) };
    if (Object.hasOwn(value, "constructor") && "props" in value) {
      throw refuse(path, "JSX (a vnode); pass data");
    }
    if (seen.has(value)) throw refuse(path, "a circular reference");
    seen.add(value);
    try {
      if (Array.isArray(value)) {
        return value.map((item, i) => this.#encode(item, `${path}[${i}]`, seen) ?? null);
      }
      if (value instanceof Date) return value.toISOString();
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw refuse(path, "a class instance; pass plain data");
      }
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (key === SIGNAL_REF_KEY) throw refuse(`${path}.${key}`, "a reserved key name");
        const encoded = this.#encode(item, `${path}.${key}`, seen);
        if (encoded !== undefined) out[key] = encoded;
      }
      return out;
    } finally {
      seen.delete(value);
    }
  }

  #signalRef(sig: Signal, path: string, seen: Set<object>): number {
    const known = this.#signalIndex.get(sig);
    if (known !== undefined) return known;
    const index = this.#signals.length;
    this.#signalIndex.set(sig, index);
    this.#signals.push(null);
    this.#signals[index] = this.#encode(sig.peek(), `${path}.value`, seen) ?? null;
    return index;
  }
}

function refuse(path: string, what: string): TypeError {
  return new TypeError(
    `Cannot send island prop ${path}: it is ${what}. Island props must be JSON data or signals.`,
  );
}

/**
 * JSON for embedding inside an HTML `<script>`: `<` is written as `\u003c` (so neither `</script`
 * nor `<!--` can appear), and U+2028/U+2029 are escaped too.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}
