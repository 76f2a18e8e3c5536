/**
 * Named client tokens: created in the admin panel (shown once), stored in KV only as a SHA-256 hash and
 * a short display prefix, each with optional limits (model allow-list, requests per minute, daily
 * tokens, expiry). An in-memory table (loaded at start, kept in sync through the change feed) answers
 * lookups on the request path without awaiting KV. Tokens from `ALLOWED_TOKENS` stay valid as unnamed,
 * unlimited tokens.
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
}

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

/** The display name of a token from `ALLOWED_TOKENS`. */
export function envTokenName(token: string): string {
  return `token-${token.slice(-4)}`;
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

  /** Re-reads `ALLOWED_TOKENS` (call when settings change). */
  refreshEnv(): void {
    this.#env.clear();
    for (const t of this.o.envTokens()) {
      const hash = hashToken(t);
      this.#env.set(hash, { token: { name: envTokenName(t) }, hash });
    }
  }

  /** The lookup for client auth (synchronous). */
  readonly resolve: TokenResolver = (hash) => this.#byHash.get(hash) ?? this.#env.get(hash);

  /** A stored token by name (limits and allow-list), synchronous. */
  byName(name: string): TokenRecord | undefined {
    return this.#byName.get(name);
  }

  /** Every stored token, newest first. */
  list(): TokenRecord[] {
    return [...this.#byId.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Creates a token; returns the token (shown once) and its record. Names are unique (409). */
  async create(input: NewToken): Promise<{ token: string; record: TokenRecord }> {
    const name = input.name.trim();
    if (this.#envNameTaken(name)) {
      throw new GatewayError(409, `The name '${name}' is used by a token from ALLOWED_TOKENS; pick another.`);
    }
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
    if (name && this.#envNameTaken(name)) {
      throw new GatewayError(409, `The name '${name}' is used by a token from ALLOWED_TOKENS; pick another.`);
    }
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
      return {
        ...r,
        hash: hashToken(token),
        prefix: token.slice(0, 8),
        previousHash: graceMs > 0 ? r.hash : undefined,
        previousUntil: graceMs > 0 ? now + graceMs : undefined,
        rotatedAt: now,
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
      const token: ClientToken = { name: r.name, revoked: r.revoked };
      for (const k of ["models", "rpm", "dailyTokens", "expiresAt"] as const) {
        if (r[k] !== undefined) Object.assign(token, { [k]: r[k] });
      }
      this.#byHash.set(r.hash, { token, hash: r.hash });
      if (r.previousHash && r.previousUntil) {
        // The secret before a rotation: accepted until the grace period ends, then refused as expired.
        const until = Math.min(r.previousUntil, token.expiresAt ?? Infinity);
        this.#byHash.set(r.previousHash, {
          token: { ...token, expiresAt: until, rotated: true },
          hash: r.previousHash,
        });
      }
    }
  }
}
