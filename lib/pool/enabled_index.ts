/**
 * The enabled-key index ({@link EnabledIndex}): the pool's enabled keys by quota scope and by the
 * models they have configured limits for, so that views of one model (the capacity report, the panel)
 * visit only the keys that have something for it. Built from the pool's keys in O(keys), rebuilt only
 * when a record changed.
 *
 * @module
 */
import type { Entry } from "./pool_state.ts";

/** The pool's enabled keys, indexed (rebuilt when a record changes). */
export interface EnabledIndex {
  /** The pool's `recordsVersion` it was built at. */
  version: number;
  enabled: number;
  /** Enabled keys by quota scope, in pool order. */
  scopes: Map<string, Entry[]>;
  /** Enabled keys with configured limits, by model id (`*`: every model). */
  limited: Map<string, Entry[]>;
  /** Models any key (enabled or not) has configured limits for (not `*`). */
  limitModels: Set<string>;
}

/** Indexes `entries` (in pool order) as of the pool's records version `version`. */
export function indexEnabled(o: { entries: readonly Entry[]; version: number }): EnabledIndex {
  const index: EnabledIndex = {
    version: o.version,
    enabled: 0,
    scopes: new Map(),
    limited: new Map(),
    limitModels: new Set(),
  };
  const add = (map: Map<string, Entry[]>, k: string, e: Entry) => {
    const list = map.get(k);
    if (list) list.push(e);
    else map.set(k, [e]);
  };
  for (const e of o.entries) {
    const models = Object.keys(e.record.limits ?? {});
    for (const model of models) if (model !== "*") index.limitModels.add(model);
    if (!e.record.enabled) continue;
    index.enabled++;
    add(index.scopes, e.scope, e);
    for (const model of models) add(index.limited, model, e);
  }
  return index;
}
