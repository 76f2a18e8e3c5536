/**
 * Every resource Google keeps per project (files, cached contents, batches, long-running operations,
 * tuned models, file search stores, upload sessions) belongs to the key that created it: another
 * project's key gets 403 or 404 for it. This map remembers which key made each resource, so every
 * later request that names it uses that key, and keeps one client's uploads, caches and stores on
 * one key while that key is healthy, so a request that combines them finds them all in one project.
 *
 * Lookups are synchronous (in memory); writes go to KV in the background and reach other workers
 * through the change feed.
 *
 * @module
 */
import type { ChangeFeed } from "../kv/change_feed.ts";
import { badRequest } from "../http/errors.ts";

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/** One kind of resource Google names per project. */
export interface ResourceKind {
  /** How Google's name starts, e.g. `files` for `files/abc`; `models/*\/operations` for Veo. */
  collection: string;
  /** How long the owner is remembered after the resource was last seen (ms). */
  ttlMs: number;
  /**
   * Resources a client combines in one request (a prompt naming several files, a cache and a store):
   * a client token's new ones go to the key that holds its others while that key can serve.
   */
  gathers: boolean;
  /** Where the lifetime comes from. */
  source: string;
}

/**
 * The resource kinds, with how long each lives at Google (the remembered owner outlives it a little).
 * A resource object that carries its own `expireTime` / `expirationTime` is remembered until then.
 */
export const RESOURCE_KINDS: readonly ResourceKind[] = [
  {
    collection: "files",
    ttlMs: 49 * HOUR_MS,
    gathers: true,
    source: "https://ai.google.dev/gemini-api/docs/files: files are kept 48 hours (generated videos 2 days)",
  },
  {
    collection: "cachedContents",
    ttlMs: 49 * HOUR_MS,
    gathers: true,
    source: "https://ai.google.dev/gemini-api/docs/caching: the cache's expireTime (default TTL 1 hour)",
  },
  {
    collection: "fileSearchStores",
    ttlMs: 400 * DAY_MS,
    gathers: true,
    source: "https://ai.google.dev/gemini-api/docs/file-search: stores are kept until deleted",
  },
  {
    collection: "corpora",
    ttlMs: 400 * DAY_MS,
    gathers: true,
    source: "https://ai.google.dev/api/semantic-retrieval/corpora: kept until deleted",
  },
  {
    collection: "batches",
    ttlMs: 30 * DAY_MS,
    gathers: false,
    source:
      "https://ai.google.dev/gemini-api/docs/batch-mode: a job may run 48 hours; its record stays (gateway's 30 days)",
  },
  {
    collection: "models/*/operations",
    ttlMs: 49 * HOUR_MS,
    gathers: false,
    source: "https://ai.google.dev/gemini-api/docs/video: Veo operations, videos kept 2 days",
  },
  {
    collection: "operations",
    ttlMs: 49 * HOUR_MS,
    gathers: false,
    source: "long-running operations of imports and uploads (polled for minutes)",
  },
  {
    collection: "tunedModels",
    ttlMs: 400 * DAY_MS,
    gathers: false,
    source: "https://ai.google.dev/api/tuning: tuned models are kept until deleted",
  },
];

/**
 * How long the gateway accepts a resumable upload session URL it handed out, unless the upload ends
 * first. Source: https://cloud.google.com/storage/docs/resumable-uploads (sessions expire after a week).
 */
export const UPLOAD_SESSION_TTL_MS = 7 * DAY_MS;

const ID = "[A-Za-z0-9_-]+";
const MODEL_ID = "[A-Za-z0-9_.-]+";
const PLAIN = RESOURCE_KINDS.filter((k) => !k.collection.includes("*")).map((k) => k.collection);
/** Every resource name in a text: `files/abc`, `models/veo-3.0-generate-001/operations/xyz`, ... */
const NAME = new RegExp(
  `(?<![A-Za-z0-9_])(models/${MODEL_ID}/operations/${ID}|(?:${PLAIN.join("|")})/${ID})`,
  "g",
);
const KIND_OF = new Map(RESOURCE_KINDS.map((k) => [k.collection, k]));

/** The kind of a resource name (`files/abc` -> files). */
export function kindOf(name: string): ResourceKind | undefined {
  const top = name.slice(0, name.indexOf("/"));
  return top === "models" ? KIND_OF.get("models/*/operations") : KIND_OF.get(top);
}

/** The words a resource name has before a `/` (`files/…`, `…/operations/…`): the collections. */
const COLLECTION_WORDS: ReadonlySet<string> = new Set(PLAIN);
const LONGEST_COLLECTION = Math.max(...PLAIN.map((c) => c.length));

/** True for a character the names' lookbehind rules out before a collection (`[A-Za-z0-9_]`). */
function isWordChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) ||
    code === 95;
}

/**
 * True when `text` may name a resource: some `/` follows a whole collection word. A text without one
 * (most request bodies) is not scanned with {@link NAME}, whose cost grows with every character of a
 * long conversation; this check visits only the text's slashes.
 */
function mayNameResource(text: string): boolean {
  for (let slash = text.indexOf("/"); slash >= 0; slash = text.indexOf("/", slash + 1)) {
    let start = slash;
    while (start > 0 && slash - start <= LONGEST_COLLECTION && isWordChar(text.charCodeAt(start - 1))) {
      start--;
    }
    if (slash - start <= LONGEST_COLLECTION && COLLECTION_WORDS.has(text.slice(start, slash))) return true;
  }
  return false;
}

/** Every resource name in `text`, in order, each once. */
export function resourceNames(text: string): string[] {
  if (!mayNameResource(text)) return [];
  return [...new Set(Array.from(text.matchAll(NAME), (m) => m[1]))];
}

const VERSION = "v1(?:beta|alpha)?";
/** Calls that create a resource a client combines with others (upload start, register, caches, stores). */
const GATHERING_CREATE = new RegExp(
  `^/(?:upload/)?${VERSION}/(?:files|files:register|cachedContents|fileSearchStores|corpora)$`,
);
/** Listings of the collections a client gathers on its home key (`GET files`, `GET cachedContents`, ...). */
const GATHERING_LIST = new RegExp(
  `^/${VERSION}/(?:${RESOURCE_KINDS.filter((k) => k.gathers).map((k) => k.collection).join("|")})/?$`,
);
/** Upload session URLs the gateway hands out (`x-goog-upload-url`), with their `upload_id`. */
const UPLOAD_PATH = new RegExp(
  `^/(?:gemini/)?upload/${VERSION}/(?:files|fileSearchStores/${ID}:uploadToFileSearchStore)$`,
);
/** Model methods whose answer names a new resource (a batch, an operation); other model calls teach nothing. */
const CREATING_METHODS = /:(?:batchGenerateContent|asyncBatchEmbedContent|predictLongRunning)$/;
const MODEL_CALL = new RegExp(`^/${VERSION}/(?:models|tunedModels)/[^/]+:[A-Za-z]+$`);
const MODEL_INFO = new RegExp(`^/${VERSION}/models(?:/[^/:]+)?/?$`);
/** Answers larger than this are not scanned (huge inline batch results name nothing new). */
const MAX_SCANNED_BYTES = 4 * 1024 * 1024;

/** The `upload_id` of a request to a gateway-issued upload session URL, if it is one. */
export function uploadSessionId(url: URL): string | undefined {
  if (!UPLOAD_PATH.test(url.pathname)) return undefined;
  return url.searchParams.get("upload_id") ?? undefined;
}

/** What {@link AffinityMap.route} needs of a request. */
export interface AffinityRequest {
  method: string;
  /** Upstream path, e.g. `/v1beta/batches/abc`. */
  path: string;
  query?: URLSearchParams;
  body?: Uint8Array | null;
  /** The client token's name (its uploads are kept together). */
  tokenName?: string;
}

/** Where a request must or should go. */
export interface AffinityRoute {
  /** The key that owns a resource the request names: only it can serve. */
  pinned?: string;
  /** The key that holds the client's other resources: used while it can serve. */
  preferred?: string;
}

/** What a successful answer tells about resources, for {@link AffinityMap.learn}. */
export interface AffinityAnswer {
  request: AffinityRequest;
  /** The key that served it. */
  keyId: string;
  /** The upstream answer's headers. */
  headers: Headers;
  /** The answer's body, when {@link AffinityMap.readsAnswer} asked for it. */
  text?: string;
}

type Entry = { keyId: string; expiresAt: number; tokenName?: string };

/** Options for {@link AffinityMap}. */
export interface AffinityOptions {
  /** True when two keys belong to one Google project (their resources are shared). Default: same key. */
  sameProject?: (a: string, b: string) => boolean;
  /** Clock, for tests. */
  now?: () => number;
}

const decoder = new TextDecoder();

/** Resource name -> key id, plus upload sessions and each client token's home key. */
export class AffinityMap {
  #map = new Map<string, Entry>();
  readonly #sameProject: (a: string, b: string) => boolean;
  readonly #now: () => number;
  #writes = 0;

  constructor(
    private readonly kv: Deno.Kv,
    private readonly feed: ChangeFeed,
    options: AffinityOptions = {},
  ) {
    this.#sameProject = options.sameProject ?? ((a, b) => a === b);
    this.#now = options.now ?? Date.now;
    feed.on("affinity", (name) => name ? this.#reload(name) : undefined);
  }

  /** Number of remembered entries. */
  get size(): number {
    return this.#map.size;
  }

  /** Loads remembered resources from KV. */
  async load(): Promise<void> {
    for await (const e of this.kv.list<Entry>({ prefix: ["affinity"] })) {
      this.#map.set(String(e.key[1]), e.value);
    }
  }

  /**
   * Remembers that `name` (`files/abc`, `batches/x`, `upload:<id>`, `home:<token>`) belongs to
   * `keyId` for `ttlMs` (default: its kind's).
   */
  remember(name: string, keyId: string, options: { ttlMs?: number; tokenName?: string } = {}): void {
    const ttlMs = Math.max(1, options.ttlMs ?? kindOf(name)?.ttlMs ?? 49 * HOUR_MS);
    const value: Entry = { keyId, expiresAt: this.#now() + ttlMs };
    if (options.tokenName !== undefined) value.tokenName = options.tokenName;
    this.#map.set(name, value);
    const op = this.kv.atomic().set(["affinity", name], value, { expireIn: ttlMs });
    this.feed.record(op, { topic: "affinity", id: name });
    op.commit().catch(() => {});
    if (++this.#writes % 1000 === 0) this.#sweep();
  }

  /** Forgets `name` (an upload session that ended). */
  forget(name: string): void {
    if (!this.#map.delete(name)) return;
    const op = this.kv.atomic().delete(["affinity", name]);
    this.feed.record(op, { topic: "affinity", id: name });
    op.commit().catch(() => {});
  }

  /** The key that owns `name`, if known and not expired. */
  owner(name: string): string | undefined {
    return this.#entry(name)?.keyId;
  }

  /**
   * The client token that started upload session `uploadId` through the gateway, while the session
   * is open: the session URL is then its own credential (Google's upload calls carry no key).
   */
  uploadSession(uploadId: string): { tokenName?: string; keyId: string } | undefined {
    const e = this.#entry(`upload:${uploadId}`);
    return e ? { tokenName: e.tokenName, keyId: e.keyId } : undefined;
  }

  /**
   * Where a request goes: to the owner of the resources it names (all of them must share one
   * project), else, for a call that creates a file, cache or store or lists them, preferably to the
   * key that holds the same client's others (its home key; a listing elsewhere would leave them out).
   *
   * @throws {GatewayError} 400 when the request names resources that live in different projects.
   */
  route(req: AffinityRequest): AffinityRoute {
    const uploadId = req.query?.get("upload_id");
    if (uploadId) return { pinned: this.owner(`upload:${uploadId}`) };
    const owners = this.#map.size ? this.#owners(req) : [];
    if (owners.length > 1) {
      const [a, b] = owners;
      throw badRequest(
        undefined,
        `This request names ${a.name} and ${b.name}, which were created with different Gemini API keys ` +
          "of the gateway; Google keeps them per project, so no key can use both. Upload or create them " +
          "again with one client token (the gateway keeps one token's files, caches and stores on one key " +
          "while that key is healthy), then send the request naming the new ones.",
        { code: "resources_in_different_projects" },
      );
    }
    if (owners.length === 1) return { pinned: owners[0].keyId };
    if (req.tokenName && gathers(req)) return { preferred: this.owner(`home:${req.tokenName}`) };
    return {};
  }

  /** Whether {@link learn} needs the answer's body (a resource answer that is not media or huge). */
  readsAnswer(req: AffinityRequest, headers: Headers): boolean {
    if (req.query?.get("alt") === "media" || req.path.endsWith(":download")) return false;
    if (MODEL_CALL.test(req.path) && !CREATING_METHODS.test(req.path)) return false;
    if (req.method === "GET" && MODEL_INFO.test(req.path)) return false;
    if (!/json/i.test(headers.get("content-type") ?? "")) return false;
    const length = Number(headers.get("content-length") ?? 0);
    return !(length > MAX_SCANNED_BYTES);
  }

  /**
   * Learns from a successful answer: resources it names belong to the key that served it; an upload
   * session started through the gateway is remembered with its client token (and forgotten when it
   * ends); a client's new file, cache or store makes that key the client's home key.
   */
  learn(answer: AffinityAnswer): void {
    const { request: req, keyId, headers, text } = answer;
    const uploadUrl = headers.get("x-goog-upload-url");
    const started = uploadUrl ? new URL(uploadUrl).searchParams.get("upload_id") : null;
    if (started) {
      this.remember(`upload:${started}`, keyId, { ttlMs: UPLOAD_SESSION_TTL_MS, tokenName: req.tokenName });
    }
    const continued = req.query?.get("upload_id");
    if (continued && /final|cancelled/i.test(headers.get("x-goog-upload-status") ?? "")) {
      this.forget(`upload:${continued}`);
    }
    if (text && text.length <= MAX_SCANNED_BYTES) this.#learnNames(text, keyId);
    if (req.method === "POST" && req.tokenName && !continued && GATHERING_CREATE.test(req.path)) {
      this.remember(`home:${req.tokenName}`, keyId, { ttlMs: 49 * HOUR_MS });
    }
  }

  #learnNames(text: string, keyId: string): void {
    const names = resourceNames(text);
    if (!names.length) return;
    const expiries = /"(?:expireTime|expirationTime)"/.test(text) ? expiriesIn(text) : undefined;
    const now = this.#now();
    for (const name of names) {
      const until = expiries?.get(name);
      const ttlMs = until && until > now ? until - now + HOUR_MS : undefined;
      this.remember(name, keyId, { ttlMs });
    }
  }

  /** The distinct owners (by project) of the known resources a request names. */
  #owners(req: AffinityRequest): Array<{ name: string; keyId: string }> {
    const found: Array<{ name: string; keyId: string }> = [];
    for (const text of [req.path, req.body?.length ? decoder.decode(req.body) : ""]) {
      for (const name of resourceNames(text)) {
        const keyId = this.owner(name);
        if (keyId && !found.some((f) => this.#sameProject(f.keyId, keyId))) found.push({ name, keyId });
      }
    }
    return found;
  }

  #entry(name: string): Entry | undefined {
    const v = this.#map.get(name);
    if (!v) return undefined;
    if (v.expiresAt < this.#now()) {
      this.#map.delete(name);
      return undefined;
    }
    return v;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [name, v] of this.#map) if (v.expiresAt < now) this.#map.delete(name);
  }

  async #reload(name: string): Promise<void> {
    const e = await this.kv.get<Entry>(["affinity", name]).catch(() => null);
    if (!e) return;
    if (e.value) this.#map.set(name, e.value);
    else this.#map.delete(name);
  }
}

/** A call that creates a resource a client gathers on its home key, or lists that collection. */
function gathers(req: AffinityRequest): boolean {
  if (req.method === "POST") return GATHERING_CREATE.test(req.path);
  return req.method === "GET" && GATHERING_LIST.test(req.path);
}

/** Resource name -> expiry (epoch ms) of every object in a JSON text that has both. */
function expiriesIn(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (typeof v !== "object" || v === null) return;
    const o = v as Record<string, unknown>;
    const when = o.expireTime ?? o.expirationTime;
    if (typeof o.name === "string" && typeof when === "string") {
      const t = Date.parse(when);
      if (Number.isFinite(t)) out.set(o.name, t);
    }
    Object.values(o).forEach(visit);
  };
  try {
    visit(JSON.parse(text));
  } catch {
    // not JSON: the kinds' lifetimes apply
  }
  return out;
}
