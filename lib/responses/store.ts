/**
 * Stored responses of the Responses route (`store: true`): the Response object, the input items the
 * request added (item references resolved) and the id of the response it continued, kept for
 * `RESPONSES_RETENTION_HOURS` and visible only to the client token that made them (its id,
 * `ClientToken.id` in `../http/client_auth.ts`, not its display name). A follow-up naming
 * one (`previous_response_id`) gets the whole conversation back, thought signatures included.
 *
 * Kept in Deno KV (shared by every instance) and in a small in-memory cache of recent records. A
 * record is JSON split into chunks under `["responses", id, n]` (KV values are limited to 64 KiB),
 * then its head `["responses", id]`, so a reader never sees half a record. Writes happen in the
 * background, queued records together in as few atomic commits as fit (one commit per response
 * would make every answer pay for a disk sync under load). Without KV (edge tests) records live in
 * memory only.
 *
 * @module
 */
import type { MappedItem } from "./schemas.ts";
import type { ResponseObject } from "./response_stream.ts";

/** One stored response. */
export interface StoredResponse {
  /** The id of the client token that made it (`ClientToken.id`; only that token sees it). */
  owner: string;
  response: ResponseObject;
  /** The input items this request added (with ids), in order. */
  input: Array<MappedItem & { id: string }>;
  /** The stored response this one continued. */
  previousId?: string;
}

interface Head {
  owner: string;
  chunks: number;
}

const PREFIX = "responses";
const CHUNK_BYTES = 60_000;
/** Bytes per atomic commit (well under KV's 800 KiB per operation). */
const COMMIT_BYTES = 600_000;
/** KV's `getMany` limit. */
const KEYS_PER_READ = 10;
const MEMORY_LIMIT = 256;
/** Longest chain followed for `previous_response_id` (a cycle guard). */
const MAX_CHAIN = 10_000;

/** What {@link ResponseStore} reads. */
export interface ResponseStoreOptions {
  kv?: Deno.Kv;
  /** Retention in ms (0: store nothing). */
  retentionMs: () => number;
}

/** A record waiting for its KV write. */
interface Queued {
  record: StoredResponse;
  expireIn: number;
  /** `JSON.stringify(record.response)`, when the caller already made it (the answer's body). */
  responseJson?: string;
}

const encoder = new TextEncoder();

/**
 * `JSON.stringify(record)` with the response's JSON given: the same text (keys in the record's order,
 * undefined members left out), without serializing the response a second time.
 */
export function recordJson(record: StoredResponse, responseJson: string): string {
  let out = "";
  for (const [key, value] of Object.entries(record)) {
    const json = key === "response" ? responseJson : JSON.stringify(value);
    if (json !== undefined) out += `${out ? "," : "{"}${JSON.stringify(key)}:${json}`;
  }
  return out ? `${out}}` : "{}";
}

/** Stored responses in KV with a memory cache. */
export class ResponseStore {
  readonly #memory = new Map<string, { record: StoredResponse; expires: number }>();
  readonly #queue: Queued[] = [];
  #draining?: Promise<void>;

  constructor(private readonly options: ResponseStoreOptions) {}

  /** True when responses are kept at all. */
  get enabled(): boolean {
    return this.options.retentionMs() > 0;
  }

  /**
   * Stores a record (KV in the background; failures are printed, never thrown). `responseJson`, when
   * given, is `JSON.stringify(record.response)` (the answer's body): the write reuses it.
   */
  save(record: StoredResponse, o: { responseJson?: string } = {}): void {
    const ms = this.options.retentionMs();
    if (ms <= 0) return;
    this.#remember(record.response.id, record, Date.now() + ms);
    const kv = this.options.kv;
    if (!kv) return;
    this.#queue.push({ record, expireIn: ms, responseJson: o.responseJson });
    this.#draining ??= this.#drain(kv).finally(() => this.#draining = undefined);
  }

  /** Writes queued records until the queue is empty; records queued meanwhile join the next commit. */
  async #drain(kv: Deno.Kv): Promise<void> {
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, this.#queue.length);
      try {
        await this.#write(kv, batch);
      } catch (err) {
        console.error(
          `Could not store ${batch.length} response(s): ${err instanceof Error ? err.message : err}`,
        );
      }
    }
  }

  #remember(id: string, record: StoredResponse, expires: number): void {
    this.#memory.delete(id);
    this.#memory.set(id, { record, expires });
    if (this.#memory.size > MEMORY_LIMIT) this.#memory.delete(this.#memory.keys().next().value!);
  }

  /** Chunks, then each record's head after its last chunk, packed into commits of up to COMMIT_BYTES. */
  async #write(kv: Deno.Kv, batch: Queued[]): Promise<void> {
    let op = kv.atomic();
    let size = 0;
    for (const { record, expireIn, responseJson } of batch) {
      const json = responseJson === undefined ? JSON.stringify(record) : recordJson(record, responseJson);
      const bytes = encoder.encode(json);
      const id = record.response.id;
      const count = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
      for (let n = 0; n < count; n++) {
        if (size + CHUNK_BYTES > COMMIT_BYTES) {
          await op.commit();
          [op, size] = [kv.atomic(), 0];
        }
        const chunk = bytes.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES);
        op.set([PREFIX, id, n], chunk, { expireIn });
        size += chunk.length + 100;
      }
      const head: Head = { owner: record.owner, chunks: count };
      op.set([PREFIX, id], head, { expireIn });
      size += 200;
    }
    await op.commit();
  }

  /** The record `id` when the token `owner` (its id) made it and it has not expired; undefined otherwise. */
  async get(id: string, owner: string): Promise<StoredResponse | undefined> {
    const cached = this.#memory.get(id);
    if (cached && cached.expires > Date.now()) {
      return cached.record.owner === owner ? cached.record : undefined;
    }
    const kv = this.options.kv;
    if (!kv || !this.enabled) return undefined;
    const head = (await kv.get<Head>([PREFIX, id])).value;
    if (!head || head.owner !== owner) return undefined;
    const parts: Uint8Array[] = [];
    for (let first = 0; first < head.chunks; first += KEYS_PER_READ) {
      const keys = Array.from(
        { length: Math.min(KEYS_PER_READ, head.chunks - first) },
        (_, i) => [PREFIX, id, first + i],
      );
      for (const e of await kv.getMany<Uint8Array[]>(keys)) {
        if (!e.value) return undefined;
        parts.push(e.value);
      }
    }
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((off, p) => (bytes.set(p, off), off + p.length), 0);
    return JSON.parse(new TextDecoder().decode(bytes)) as StoredResponse;
  }

  /**
   * The conversation up to and including response `id`: every input and output item of it and of the
   * responses it continued, oldest first. Undefined when `id` is not visible to the token `owner`.
   */
  async conversation(id: string, owner: string): Promise<MappedItem[] | undefined> {
    const records: StoredResponse[] = [];
    let next: string | undefined = id;
    while (next && records.length < MAX_CHAIN) {
      const record = await this.get(next, owner);
      if (!record) {
        if (!records.length) return undefined;
        break;
      }
      records.unshift(record);
      next = record.previousId;
    }
    return records.flatMap((r) => [...r.input, ...(r.response.output as unknown as MappedItem[])]);
  }

  /** Deletes response `id` if the token `owner` made it; false when it was not found. */
  async delete(id: string, owner: string): Promise<boolean> {
    const record = await this.get(id, owner);
    if (!record) return false;
    this.#memory.delete(id);
    const kv = this.options.kv;
    if (kv) {
      const head = (await kv.get<Head>([PREFIX, id])).value;
      const op = kv.atomic().delete([PREFIX, id]);
      for (let n = 0; n < (head?.chunks ?? 0); n++) op.delete([PREFIX, id, n]);
      await op.commit();
    }
    return true;
  }
}
