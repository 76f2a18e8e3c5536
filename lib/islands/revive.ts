/**
 * Island props revival (client side, also unit-tested on the server): turns the payload written by
 * `PropsCollector` back into props, reviving each signal reference as one shared signal.
 *
 * @module
 */
import { type Signal, signal } from "@preact/signals";
import type { IslandPayload } from "./serialize.ts";

const SIGNAL_REF_KEY = "$gwSignal";

/** Revives every island's props; entry `i` belongs to the marker with index `i`. */
export function reviveIslandProps(payload: IslandPayload): Array<Record<string, unknown>> {
  const signals: Array<Signal<unknown> | undefined> = [];
  const revive = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(revive);
    if (value === null || typeof value !== "object") return value;
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0][0] === SIGNAL_REF_KEY && typeof entries[0][1] === "number") {
      const index = entries[0][1];
      signals[index] ??= signal(revive(payload.signals[index]));
      return signals[index];
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, revive(v)]));
  };
  return payload.props.map((props) => {
    const revived = revive(props);
    return revived !== null && typeof revived === "object" ? revived as Record<string, unknown> : {};
  });
}
