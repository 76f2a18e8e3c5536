/**
 * Files, uploads and cached contents belong to the key that created them. This map remembers
 * which key made each resource so every later request that names it uses that key. Lookups are
 * synchronous (in memory); writes go to KV in the background and reach other workers through the
 * change feed.
 *
 * @module
 */
import type { ChangeFeed } from "../kv/change_feed.ts";

const TTL_MS = 49 * 3600_000; // files live 48 h; cached contents rarely longer
const RESOURCE = /\b((?:files|cachedContents)\/[A-Za-z0-9_-]+)/g;
const decoder = new TextDecoder();

/** Resource name -> key id. */
export class AffinityMap {
  #map = new Map<string, { keyId: string; expiresAt: number }>();

  constructor(private readonly kv: Deno.Kv, private readonly feed: ChangeFeed) {
    feed.on("affinity", (name) => name ? this.#reload(name) : undefined);
  }

  /** Number of remembered resources. */
  get size(): number {
    return this.#map.size;
  }

  /** Loads remembered resources from KV. */
  async load(): Promise<void> {
    for await (const e of this.kv.list<{ keyId: string; expiresAt: number }>({ prefix: ["affinity"] })) {
      this.#map.set(String(e.key[1]), e.value);
    }
  }

  /** Remembers that `name` (`files/abc`, `cachedContents/x`, `upload:<id>`) belongs to `keyId`. */
  remember(name: string, keyId: string, ttlMs = TTL_MS): void {
    const value = { keyId, expiresAt: Date.now() + ttlMs };
    this.#map.set(name, value);
    const op = this.kv.atomic().set(["affinity", name], value, { expireIn: ttlMs });
    this.feed.record(op, { topic: "affinity", id: name });
    op.commit().catch(() => {});
  }

  /** The key that owns `name`, if known and not expired. */
  owner(name: string): string | undefined {
    const v = this.#map.get(name);
    if (!v) return undefined;
    if (v.expiresAt < Date.now()) {
      this.#map.delete(name);
      return undefined;
    }
    return v.keyId;
  }

  /** The owning key of the first known resource named in a path or a request body. */
  find(
    path: string,
    query: URLSearchParams | undefined,
    body: Uint8Array | null | undefined,
  ): string | undefined {
    if (this.#map.size === 0) return undefined;
    const uploadId = query?.get("upload_id");
    if (uploadId) return this.owner(`upload:${uploadId}`);
    for (const text of [path, body?.length ? decoder.decode(body) : ""]) {
      for (const m of text.matchAll(RESOURCE)) {
        const owner = this.owner(m[1]);
        if (owner) return owner;
      }
    }
    return undefined;
  }

  async #reload(name: string): Promise<void> {
    const e = await this.kv.get<{ keyId: string; expiresAt: number }>(["affinity", name]).catch(() => null);
    if (e?.value) this.#map.set(name, e.value);
  }
}
