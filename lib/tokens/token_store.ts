/**
 * Named client tokens: created in the admin panel (shown once), stored in KV only as a SHA-256 hash and
 * a short display prefix, each with optional limits (model allow-list, requests per minute, daily
 * tokens, expiry). An in-memory table (loaded at start, kept in sync through the change feed) answers
 * lookups on the request path without awaiting KV. Tokens from `ALLOWED_TOKENS` stay valid as unlimited
 * tokens named `token-<last 4 characters>-<SHA-256 fingerprint>` (see {@link envTokenName}): two of them
 * never share a name, so logs, usage and limits never mix them, and admin-made names cannot take that
 * shape.
 *
 * @module
 */
import type { ClientToken, TokenResolver } from "../http/client_auth.ts";
import { hashToken } from "../http/client_auth.ts";
import { GatewayError } from "../http/errors.ts";
import type { ChangeFeed } from "../kv/change_feed.ts";

/** What an admin sends to create a token. */
export interface NewToken {
  name: string;
  models?: string[];
  rpm?: number;
  dailyTokens?: number;
  expiresAt?: number;
}

/** A stored token (never the token itself). */
export interface TokenRecord extends NewToken {
  id: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  /** The first characters of the token, for recognising it (`gwt_Ab3x`). */
  prefix: string;
  createdAt: number;
  revoked: boolean;
  revokedAt?: number;
  /** After a rotation: the SHA-256 of the previous secret, still accepted until `previousUntil`. */
  previousHash?: string;
  /** Epoch ms until which the previous secret is accepted (the grace period of a rotation). */
  previousUntil?: number;
  /** Epoch ms of the last rotation. */
  rotatedAt?: number;
  /**
   * Secrets replaced by earlier rotations whose grace periods still run (SHA-256 hex, epoch ms), newest
   * first, at most {@link MAX_EARLIER_SECRETS}: a second rotation does not cut the first one's grace.
   */
  earlierSecrets?: PreviousSecret[];
}

/** A replaced secret of a rotated token: its SHA-256 (hex) and the end of its grace period (epoch ms). */
export interface PreviousSecret {
  hash: string;
  until: number;
}

/** Most replaced secrets kept in their grace periods besides the latest one. */
export const MAX_EARLIER_SECRETS = 10;

/** A change to a token: a value sets a field, null clears a limit (unlimited, no expiry, all models). */
export interface TokenPatch {
  name?: string;
  models?: string[] | null;
  rpm?: number | null;
  dailyTokens?: number | null;
  expiresAt?: number | null;
}

/** Options for {@link TokenStore}. */
export interface TokenStoreOptions {
  kv: Deno.Kv;
  feed: ChangeFeed;
  /** Tokens from `ALLOWED_TOKENS` (unnamed, unlimited); read on every change. */
  envTokens: () => string[];
  /** Clock, for tests. */
  now?: () => number;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TOPIC = "token";

/** A new random client token: `gwt_` + 32 base62 characters. */
export function generateToken(): string {
  const out: string[] = [];
  while (out.length < 32) {
    for (const b of crypto.getRandomValues(new Uint8Array(48))) {
      if (b < 248 && out.length < 32) out.push(BASE62[b % 62]); // 248 = 4 * 62: no modulo bias
    }
  }
  return "gwt_" + out.join("");
}

/** Hex digits of the SHA-256 in an `ALLOWED_TOKENS` token's name (more when two tokens would share one). */
const FINGERPRINT_HEX = 8;

/** The shape of {@link envTokenName}'s names (reserved: admin-made tokens cannot take such a name). */
const ENV_NAME = /^token-.{0,4}-[0-9a-f]{8,64}$/s;

/**
 * The display name of a token from `ALLOWED_TOKENS`: `token-<its last 4 characters>-<the first
 * `hexDigits` hex digits of its SHA-256>` (`token-9999-3fa2b1c4`). The last characters let an operator
 * recognise a token; the fingerprint keeps two tokens that end alike apart.
 */
export function envTokenName(token: string, hexDigits = FINGERPRINT_HEX): string {
  return `token-${token.slice(-4)}-${hashToken(token).slice(0, hexDigits)}`;
}

/** True for a name of the shape {@link envTokenName} gives. */
export function isEnvTokenName(name: string): boolean {
  return ENV_NAME.test(name);
}

/** The id ({@link ClientToken.id}) of an `ALLOWED_TOKENS` token whose SHA-256 is `hash`. */
function envTokenId(hash: string): string {
  return `env-${hash}`;
}

type Entry = { token: ClientToken; hash: string };

/** Client tokens: KV-backed, read synchronously from memory. */
export class TokenStore {
  #byId = new Map<string, TokenRecord>();
  #byHash = new Map<string, Entry>();
  #byName = new Map<string, TokenRecord>();
  #env = new Map<string, Entry>();
  #now: () => number;

  constructor(private readonly o: TokenStoreOptions) {
    this.#now = o.now ?? Date.now;
    o.feed.on(TOPIC, (id) => id ? this.#reload(id) : this.load());
    this.refreshEnv();
  }

  /** Loads every stored token. */
  async load(): Promise<void> {
    const all: TokenRecord[] = [];
    for await (const e of this.o.kv.list<TokenRecord>({ prefix: ["tokens"] })) all.push(e.value);
    this.#byId.clear();
    for (const r of all) this.#byId.set(r.id, r);
    this.#index();
  }

  /**
   * Re-reads `ALLOWED_TOKENS` (call when settings change). Tokens whose names would be the same get
   * longer fingerprints until they differ.
   */
  refreshEnv(): void {
    this.#env.clear();
    const tokens = [...new Set(this.o.envTokens())];
    const names = new Map(tokens.map((t) => [t, envTokenName(t)]));
    for (let digits = FINGERPRINT_HEX * 2; digits <= 64; digits *= 2) {
      const count = new Map<string, number>();
      for (const n of names.values()) count.set(n, (count.get(n) ?? 0) + 1);
      const shared = tokens.filter((t) => count.get(names.get(t)!)! > 1);
      if (!shared.length) break;
      for (const t of shared) names.set(t, envTokenName(t, digits));
    }
    for (const t of tokens) {
      const hash = hashToken(t);
      this.#env.set(hash, { token: { id: envTokenId(hash), name: names.get(t)! }, hash });
    }
  }

  /** The lookup for client auth (synchronous). */
  readonly resolve: TokenResolver = (hash) => this.#byHash.get(hash) ?? this.#env.get(hash);

  /** A stored token by name (limits and allow-list), synchronous. */
  byName(name: string): TokenRecord | undefined {
    return this.#byName.get(name);
  }

  /** The client token (stored or from `ALLOWED_TOKENS`) named `name`, as client auth sees it. */
  clientToken(name: string): ClientToken | undefined {
    const stored = this.#byName.get(name);
    if (stored) return this.#byHash.get(stored.hash)?.token;
    for (const e of this.#env.values()) if (e.token.name === name) return e.token;
    return undefined;
  }

  /** Every stored token, newest first. */
  list(): TokenRecord[] {
    return [...this.#byId.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Creates a token; returns the token (shown once) and its record. Names are unique (409). */
  async create(input: NewToken): Promise<{ token: string; record: TokenRecord }> {
    const name = input.name.trim();
    this.#checkName(name);
    const token = generateToken();
    const record: TokenRecord = {
      id: crypto.randomUUID().replaceAll("-", "").slice(0, 16),
      name,
      hash: hashToken(token),
      prefix: token.slice(0, 8),
      createdAt: this.#now(),
      revoked: false,
    };
    for (const k of ["models", "rpm", "dailyTokens", "expiresAt"] as const) {
      if (input[k] !== undefined) Object.assign(record, { [k]: input[k] });
    }
    const op = this.o.kv.atomic()
      .check({ key: ["tokenNames", name], versionstamp: null })
      .set(["tokenNames", name], record.id)
      .set(["tokens", record.id], record);
    this.o.feed.record(op, { topic: TOPIC, id: record.id });
    if (!(await op.commit()).ok) {
      throw new GatewayError(409, `A token named '${name}' already exists; names must be unique.`, {
        googleStatus: "ALREADY_EXISTS",
      });
    }
    this.#byId.set(record.id, record);
    this.#index();
    return { token, record };
  }

  /** Revokes a token (it is refused with 401 from now on, on every worker). */
  revoke(id: string): Promise<TokenRecord> {
    return this.#change(id, (r) => ({ ...r, revoked: true, revokedAt: r.revokedAt ?? this.#now() }));
  }

  /**
   * Changes a token's name, models, limits or expiry (null clears one). A new name must be unique
   * (409); usage stays under the old name for the rest of the day.
   */
  update(id: string, patch: TokenPatch): Promise<TokenRecord> {
    const name = patch.name?.trim();
    if (name) this.#checkName(name);
    return this.#change(id, (r) => {
      const next: TokenRecord = { ...r };
      if (name) next.name = name;
      for (const k of ["models", "rpm", "dailyTokens", "expiresAt"] as const) {
        const v = patch[k];
        if (v === null || (k === "models" && Array.isArray(v) && v.length === 0)) delete next[k];
        else if (v !== undefined) Object.assign(next, { [k]: v });
      }
      return next;
    });
  }

  /**
   * Gives a token a new secret (returned once). The old secret keeps working for `graceMs`, so clients
   * can switch over; after that it is refused.
   */
  async rotate(id: string, graceMs: number): Promise<{ token: string; record: TokenRecord }> {
    const token = generateToken();
    const now = this.#now();
    const record = await this.#change(id, (r) => {
      if (r.revoked) {
        throw new GatewayError(409, `The token '${r.name}' is revoked; create a new one instead.`);
      }
      // A rotation with a grace period leaves the grace of earlier ones running; one without ends all.
      const earlier = graceMs > 0
        ? [
          ...(r.previousHash && r.previousUntil ? [{ hash: r.previousHash, until: r.previousUntil }] : []),
          ...r.earlierSecrets ?? [],
        ].filter((s) => s.until > now).slice(0, MAX_EARLIER_SECRETS)
        : [];
      return {
        ...r,
        hash: hashToken(token),
        prefix: token.slice(0, 8),
        previousHash: graceMs > 0 ? r.hash : undefined,
        previousUntil: graceMs > 0 ? now + graceMs : undefined,
        rotatedAt: now,
        earlierSecrets: earlier.length ? earlier : undefined,
      };
    });
    return { token, record };
  }

  /**
   * Stores token records from a backup (hashes only: the secrets keep working). A record whose id or
   * name is taken here is skipped and reported.
   */
  async importRecords(records: TokenRecord[]): Promise<{ added: number; skipped: string[] }> {
    let added = 0;
    const skipped: string[] = [];
    for (const r of records) {
      const op = this.o.kv.atomic()
        .check({ key: ["tokens", r.id], versionstamp: null })
        .check({ key: ["tokenNames", r.name], versionstamp: null })
        .set(["tokenNames", r.name], r.id)
        .set(["tokens", r.id], r);
      this.o.feed.record(op, { topic: TOPIC, id: r.id });
      if (this.#envNameTaken(r.name) || !(await op.commit()).ok) {
        skipped.push(`token '${r.name}': a token with this id or name exists`);
        continue;
      }
      this.#byId.set(r.id, r);
      added++;
    }
    this.#index();
    return { added, skipped };
  }

  /**
   * Refuses a name an admin-made token may not take.
   *
   * @throws {GatewayError} 400 for a name of the shape `ALLOWED_TOKENS` tokens get, 409 for the name of one.
   */
  #checkName(name: string): void {
    if (isEnvTokenName(name)) {
      throw new GatewayError(
        400,
        `The name '${name}' has the shape of the names given to tokens from ALLOWED_TOKENS (token-<last 4>-<hex>); pick another.`,
      );
    }
    if (this.#envNameTaken(name)) {
      throw new GatewayError(409, `The name '${name}' is used by a token from ALLOWED_TOKENS; pick another.`);
    }
  }

  #envNameTaken(name: string): boolean {
    return [...this.#env.values()].some((e) => e.token.name === name);
  }

  /** Applies `fn` to a stored token atomically (and its name index when the name changes). */
  async #change(id: string, fn: (r: TokenRecord) => TokenRecord): Promise<TokenRecord> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const entry = await this.o.kv.get<TokenRecord>(["tokens", id]);
      if (!entry.value) throw new GatewayError(404, `No token with id '${id}'; list tokens to see the ids.`);
      const next = fn(entry.value);
      const op = this.o.kv.atomic().check(entry).set(["tokens", id], next);
      if (next.name !== entry.value.name) {
        op.check({ key: ["tokenNames", next.name], versionstamp: null })
          .delete(["tokenNames", entry.value.name])
          .set(["tokenNames", next.name], id);
      }
      this.o.feed.record(op, { topic: TOPIC, id });
      if ((await op.commit()).ok) {
        this.#byId.set(id, next);
        this.#index();
        return next;
      }
      if (next.name !== entry.value.name && (await this.o.kv.get(["tokenNames", next.name])).value) {
        throw new GatewayError(409, `A token named '${next.name}' already exists; names must be unique.`, {
          googleStatus: "ALREADY_EXISTS",
        });
      }
    }
    throw new GatewayError(409, "The token is being changed concurrently; try again.");
  }

  async #reload(id: string): Promise<void> {
    const e = await this.o.kv.get<TokenRecord>(["tokens", id]);
    if (e.value) this.#byId.set(id, e.value);
    else this.#byId.delete(id);
    this.#index();
  }

  #index(): void {
    this.#byHash.clear();
    this.#byName.clear();
    for (const r of this.#byId.values()) {
      this.#byName.set(r.name, r);
      const token: ClientToken = { id: r.id, name: r.name, revoked: r.revoked };
      for (const k of ["models", "rpm", "dailyTokens", "expiresAt"] as const) {
        if (r[k] !== undefined) Object.assign(token, { [k]: r[k] });
      }
      this.#byHash.set(r.hash, { token, hash: r.hash });
      const previous = [
        ...(r.previousHash && r.previousUntil ? [{ hash: r.previousHash, until: r.previousUntil }] : []),
        ...r.earlierSecrets ?? [],
      ];
      for (const p of previous) {
        // A secret before a rotation: accepted until its grace period ends, then refused as expired.
        if (this.#byHash.has(p.hash)) continue;
        const until = Math.min(p.until, token.expiresAt ?? Infinity);
        this.#byHash.set(p.hash, { token: { ...token, expiresAt: until, rotated: true }, hash: p.hash });
      }
    }
  }
}
