/**
 * Background jobs that must run once for all gateways sharing a KV (re-checks of disabled keys, the
 * log sweep), not once per worker: before a run, a gateway takes the job's lease in KV with an
 * atomic check; only the holder runs it, and the lease lasts one period.
 *
 * KV layout (owned here): `["lease", job]` -> {@link LeaseEntry}.
 *
 * @module
 */

/** A lease as stored. */
export interface LeaseEntry {
  /** Who holds it (a gateway's random id). */
  owner: string;
  /** Epoch ms when it ends. */
  expiresAt: number;
}

/** Options for {@link takeLease}. */
export interface LeaseOptions {
  kv: Deno.Kv;
  /** The job's name, e.g. `recheck`. */
  job: string;
  /** Who asks. */
  owner: string;
  /** How long the lease lasts (one period of the job), in ms. */
  ttlMs: number;
  now?: number;
}

/**
 * Takes the job's lease when it is free or expired. True when `owner` took it now (and so runs
 * the job this period); false when another gateway holds it, or `owner` already ran this period.
 */
export async function takeLease(o: LeaseOptions): Promise<boolean> {
  const now = o.now ?? Date.now();
  const key = ["lease", o.job];
  const cur = await o.kv.get<LeaseEntry>(key);
  if (cur.value && cur.value.expiresAt > now) return false;
  const lease: LeaseEntry = { owner: o.owner, expiresAt: now + o.ttlMs };
  const r = await o.kv.atomic().check(cur).set(key, lease, { expireIn: o.ttlMs }).commit();
  return r.ok;
}
