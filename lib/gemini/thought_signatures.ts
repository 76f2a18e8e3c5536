/**
 * Gemini's thought signatures, kept server-side for dialects that have no field for them (OpenAI Chat
 * Completions, Anthropic Messages, OpenAI Responses) or whose clients drop unknown fields.
 *
 * Gemini signs parts of its answers (`thoughtSignature`: the first function call of a step, text parts,
 * and on Gemini 3 image models the image parts) and wants each signature back on the same part on
 * the next turn; Gemini 3 refuses a function call (and an image of an image model) without one with a
 * 400. Signatures run to kilobytes, so they are not put into the ids clients see: a function call gets
 * a short random reference ({@link ThoughtSignatures.rememberCall}, at most 24 characters, for a
 * dialect's call id such as `call_<ref>`), and text and image parts are found again by their content
 * ({@link ThoughtSignatures.rememberContent}: a SHA-256 of the text as the client was given it, or of
 * the image's base64 data).
 *
 * Entries live in memory (bounded) and in Deno KV with a TTL (`expireIn`), so every instance sharing
 * the KV finds them. Writes never block a request (they run in the background); a request reads once
 * ({@link ThoughtSignatures.recall} with everything it needs: memory first, then one round of KV reads
 * for the rest). A reference that is unknown or damaged recalls nothing, never a fragment: the caller
 * then uses {@link SKIP_THOUGHT_SIGNATURE}.
 *
 * Source: https://ai.google.dev/gemini-api/docs/thought-signatures
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * Google's documented value that skips the thought-signature check, for parts whose signature is
 * unknown (history from another model or client, or an expired entry).
 * Source: https://ai.google.dev/gemini-api/docs/thought-signatures#faqs
 */
export const SKIP_THOUGHT_SIGNATURE = "skip_thought_signature_validator";

/** What is kept for one function call. */
export interface SignedCall {
  /** Gemini's `thoughtSignature` of the call's part (base64), when it had one. */
  signature?: string;
  /** Gemini's own `functionCall.id` (Gemini 3), echoed back in `functionCall.id` / `functionResponse.id`. */
  geminiId?: string;
}

/** What one request asks {@link ThoughtSignatures.recall} for. */
export interface RecallQuery {
  /** Call references, as {@link ThoughtSignatures.rememberCall} returned them (others are ignored). */
  calls?: Iterable<string>;
  /** Contents (texts or base64 image data) whose signatures are wanted. */
  contents?: Iterable<string>;
}

/** The answer of {@link ThoughtSignatures.recall}. */
export interface Recalled {
  /** The kept state of a call reference (undefined when unknown, expired or damaged). */
  call(ref: string): SignedCall | undefined;
  /** The kept signature of a content (undefined when unknown). */
  content(content: string): string | undefined;
}

/** Options of {@link ThoughtSignatures}. */
export interface ThoughtSignaturesOptions {
  /** Shared storage; without it entries live in this process only. */
  kv?: Deno.Kv;
  /** How long entries are kept, in ms (read per write). Default 24 h. */
  ttlMs?: () => number;
  /** Memory budget for cached entries, in bytes of signature text (default 16 MiB). */
  memoryBytes?: number;
}

/** Random part of a call reference: 24 base62 characters (143 bits). */
const REF_LENGTH = 24;
const REF_RE = /^[A-Za-z0-9]{24}$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const KV_PREFIX = "thought_signatures";
/** Deno KV's value limit is 64 KiB; larger signatures stay in memory only. */
const KV_VALUE_LIMIT = 60 * 1024;
/** Deno KV's `getMany` takes at most 10 keys. */
const KV_GET_MANY = 10;
const DAY_MS = 24 * 3600_000;

interface Entry {
  s?: string;
  i?: string;
}

/** A random call reference ({@link REF_LENGTH} base62 characters, each equally likely). */
function randomRef(): string {
  let out = "";
  while (out.length < REF_LENGTH) {
    for (const b of crypto.getRandomValues(new Uint8Array(REF_LENGTH))) {
      // 62 * 4 = 248: larger bytes are skipped so that no character is favoured.
      if (b < 248 && out.length < REF_LENGTH) out += ALPHABET[b % 62];
    }
  }
  return out;
}

/** The key of a content: `c` + SHA-256 (base64url) of its UTF-8 text. */
export function contentKey(content: string): string {
  return "c" + createHash("sha256").update(content).digest("base64url");
}

/** Thought signatures kept in memory and KV (see the module docs). */
export class ThoughtSignatures {
  readonly #kv?: Deno.Kv;
  readonly #ttlMs: () => number;
  readonly #budget: number;
  readonly #memory = new Map<string, { entry: Entry; expires: number; size: number }>();
  #bytes = 0;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: ThoughtSignaturesOptions = {}) {
    this.#kv = options.kv;
    this.#ttlMs = options.ttlMs ?? (() => DAY_MS);
    this.#budget = options.memoryBytes ?? 16 * 1024 * 1024;
  }

  /**
   * Keeps a function call's signature and Gemini id; returns its reference (24 base62 characters) for
   * the dialect's call id. Nothing is kept when there is nothing to keep (the reference is then just
   * unique). Never waits.
   */
  rememberCall(call: SignedCall): string {
    const ref = randomRef();
    if (call.signature || call.geminiId) {
      this.#put(ref, {
        ...(call.signature ? { s: call.signature } : {}),
        ...(call.geminiId ? { i: call.geminiId } : {}),
      });
    }
    return ref;
  }

  /** Keeps the signature of a part found again by its content (text as the client got it, or image data). */
  rememberContent(content: string, signature: string): void {
    this.#put(contentKey(content), { s: signature });
  }

  /**
   * Everything one request needs, in one read: memory first, then KV for the rest (all at once).
   * KV failures count as "unknown".
   */
  async recall(query: RecallQuery): Promise<Recalled> {
    const keys = new Set<string>();
    for (const ref of query.calls ?? []) if (REF_RE.test(ref)) keys.add(ref);
    const contentKeys = new Map<string, string>();
    for (const c of query.contents ?? []) {
      if (!contentKeys.has(c)) contentKeys.set(c, contentKey(c));
    }
    for (const k of contentKeys.values()) keys.add(k);
    const found = new Map<string, Entry>();
    const now = Date.now();
    const missing: string[] = [];
    for (const k of keys) {
      const m = this.#memory.get(k);
      if (m && m.expires > now) found.set(k, m.entry);
      else missing.push(k);
    }
    if (missing.length && this.#kv) {
      const kv = this.#kv;
      const batches: string[][] = [];
      for (let i = 0; i < missing.length; i += KV_GET_MANY) batches.push(missing.slice(i, i + KV_GET_MANY));
      try {
        const results = await Promise.all(
          batches.map((b) => kv.getMany<Entry[]>(b.map((k) => [KV_PREFIX, k]))),
        );
        for (const r of results.flat()) {
          if (r.value && typeof r.value === "object") found.set(String(r.key[1]), r.value);
        }
      } catch {
        // Unknown: the caller falls back to Google's skip value.
      }
    }
    return {
      call: (ref) => {
        const e = found.get(ref);
        return e ? { ...(e.s ? { signature: e.s } : {}), ...(e.i ? { geminiId: e.i } : {}) } : undefined;
      },
      content: (c) => found.get(contentKeys.get(c) ?? contentKey(c))?.s,
    };
  }

  /** Waits for the background KV writes started so far (shutdown and tests). */
  async flush(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  #put(key: string, entry: Entry): void {
    const ttl = Math.max(1000, this.#ttlMs());
    const size = (entry.s?.length ?? 0) + (entry.i?.length ?? 0) + key.length;
    this.#remember(key, entry, Date.now() + ttl, size);
    if (!this.#kv || size > KV_VALUE_LIMIT) return;
    const write = this.#kv.set([KV_PREFIX, key], entry, { expireIn: ttl }).catch(() => {});
    this.#pending.add(write);
    write.finally(() => this.#pending.delete(write));
  }

  #remember(key: string, entry: Entry, expires: number, size: number): void {
    const old = this.#memory.get(key);
    if (old) (this.#bytes -= old.size, this.#memory.delete(key));
    this.#memory.set(key, { entry, expires, size });
    this.#bytes += size;
    // Oldest first (a Map keeps insertion order).
    for (const [k, v] of this.#memory) {
      if (this.#bytes <= this.#budget) break;
      this.#memory.delete(k);
      this.#bytes -= v.size;
    }
  }
}
