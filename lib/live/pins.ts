/**
 * Live credentials that belong to one key. An ephemeral token (`auth_tokens/…`) is created with a pool
 * key and only that key's project accepts it; a session resumption handle only resumes on the project
 * that issued it. This store remembers which key (and which client token) each one belongs to, so a
 * session that presents one goes to that key. Both are secrets, so only their SHA-256 is kept. Lookups
 * are synchronous (in memory); writes go to KV in the background (`["live_pin", kind, hash]`, expiring
 * with the credential) and reach other workers through the change feed.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { ChangeFeed } from "../kv/change_feed.ts";

/** What a pin is for. */
export type PinKind = "token" | "handle";

/** The key (and client token) a credential belongs to. */
export interface LivePin {
  keyId: string;
  /** The client token that created the ephemeral token (its sessions count for it). */
  tokenName?: string;
  /**
   * SHA-256 (hex) of the client token that created the ephemeral token, the key client auth looks
   * tokens up by: each session the ephemeral token opens passes that token's checks (revoked, expired,
   * limits) again. The token store keeps the same hash in KV.
   */
  tokenHash?: string;
  /** Epoch ms after which the pin is gone. */
  expiresAt: number;
}

const TOPIC = "live_pin";
/** Expired pins are swept from memory every this many new pins. */
const SWEEP_EVERY = 256;

function hashOf(secret: string): string {
  return createHash("sha256").update(secret).digest("hex").slice(0, 32);
}

/** Ephemeral tokens and resumption handles, by hash, to their key. */
export class LivePins {
  #map = new Map<string, LivePin>();
  #added = 0;
  readonly #kv: Deno.Kv;
  readonly #feed: ChangeFeed;

  constructor(o: { kv: Deno.Kv; feed: ChangeFeed }) {
    this.#kv = o.kv;
    this.#feed = o.feed;
    this.#feed.on(TOPIC, (id) => id ? this.#reload(id) : undefined);
  }

  /** Loads the pins stored in KV. */
  async load(): Promise<void> {
    for await (const e of this.#kv.list<LivePin>({ prefix: [TOPIC] })) {
      this.#map.set(`${String(e.key[1])}:${String(e.key[2])}`, e.value);
    }
  }

  /** Pins `secret` (an ephemeral token or a resumption handle) to a key for `ttlMs`. */
  pin(
    kind: PinKind,
    secret: string,
    pin: { keyId: string; tokenName?: string; tokenHash?: string; ttlMs: number },
  ): void {
    const hash = hashOf(secret);
    const { ttlMs, ...rest } = pin;
    const value: LivePin = { ...rest, expiresAt: Date.now() + ttlMs };
    this.#map.set(`${kind}:${hash}`, value);
    if (++this.#added % SWEEP_EVERY === 0) this.#sweep();
    const op = this.#kv.atomic().set([TOPIC, kind, hash], value, { expireIn: ttlMs });
    this.#feed.record(op, { topic: TOPIC, id: `${kind}:${hash}` });
    op.commit().catch(() => {});
  }

  /** The pin of `secret`, if known and not expired. */
  find(kind: PinKind, secret: string): LivePin | undefined {
    const id = `${kind}:${hashOf(secret)}`;
    const pin = this.#map.get(id);
    if (!pin) return undefined;
    if (pin.expiresAt <= Date.now()) {
      this.#map.delete(id);
      return undefined;
    }
    return pin;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, pin] of this.#map) if (pin.expiresAt <= now) this.#map.delete(id);
  }

  async #reload(id: string): Promise<void> {
    const [kind, hash] = id.split(":");
    const e = await this.#kv.get<LivePin>([TOPIC, kind, hash]).catch(() => null);
    if (e?.value) this.#map.set(id, e.value);
  }
}
