/**
 * Google's model list (`GET /v1beta/models`, all pages followed), cached in memory with a TTL: the
 * real model ids the prepare step knows (suffix parsing needs them) and the ids every dialect lists
 * (with the gateway's suffixed variants and aliases). Each dialect formats the list its own way
 * (OpenAI: `lib/openai/models.ts`).
 *
 * Source: https://ai.google.dev/api/models#method:-models.list
 *
 * @module
 */
import { GatewayError } from "../http/errors.ts";
import { bareModel } from "../gemini/model_id.ts";
import { type GeminiCaller, readJson } from "./gemini_client.ts";

/** Options for {@link ModelCatalog}. */
export interface ModelCatalogOptions {
  /** The pipeline the listing goes through (not bound to a client request: a client leaving never cancels it). */
  upstream: () => GeminiCaller;
  /** Cache lifetime in ms (default 5 minutes). */
  ttlMs?: number;
  /** Rewrites Google's id list for listing (adds suffixed variants and aliases, drops hidden models). */
  transformList?: (googleIds: string[]) => string[];
  /** Clock, for tests. */
  now?: () => number;
  /** Safety cap on pages followed (default 20). */
  maxPages?: number;
}

const PAGE_SIZE = "1000";

/** Google's model ids with an in-memory TTL cache shared by all callers. */
export class ModelCatalog {
  #cache?: { at: number; ids: string[] };
  #known?: { ids?: string[]; set: ReadonlySet<string> };
  #inflight?: Promise<string[]>;

  constructor(readonly options: ModelCatalogOptions) {}

  async #fetchAll(gemini: GeminiCaller): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < (this.options.maxPages ?? 20); page++) {
      const query = new URLSearchParams({ pageSize: PAGE_SIZE });
      if (token) query.set("pageToken", token);
      const res = await gemini.send({ method: "GET", path: "/v1beta/models", query });
      const json = await readJson<{ models?: Array<{ name?: string }>; nextPageToken?: string }>(res);
      for (const m of json.models ?? []) if (m.name) ids.push(bareModel(m.name));
      token = json.nextPageToken;
      if (!token) break;
    }
    return ids;
  }

  async #googleIds(): Promise<string[]> {
    const now = (this.options.now ?? Date.now)();
    if (this.#cache && now - this.#cache.at < (this.options.ttlMs ?? 300_000)) return this.#cache.ids;
    // Concurrent callers share one upstream listing; failures are not cached.
    this.#inflight ??= this.#fetchAll(this.options.upstream()).then((ids) => {
      this.#cache = { at: (this.options.now ?? Date.now)(), ids };
      return ids;
    }).finally(() => (this.#inflight = undefined));
    return await this.#inflight;
  }

  /** All model ids to list (Google's as `transformList` rewrites them), deduplicated. */
  async ids(): Promise<string[]> {
    const google = await this.#googleIds();
    return [...new Set(this.options.transformList?.(google) ?? google)];
  }

  /**
   * The listed id of a model (a leading `models/` ignored), for a dialect's "retrieve model" route.
   *
   * @throws {GatewayError} 404 `model_not_found` when the list has no such model.
   */
  async find(id: string): Promise<string> {
    const bare = bareModel(id);
    if ((await this.ids()).includes(bare)) return bare;
    throw new GatewayError(404, `The model \`${id}\` does not exist or you do not have access to it.`, {
      code: "model_not_found",
      param: "model",
    });
  }

  /** Google's real model ids from the last successful listing (empty before the first), no upstream call. */
  known(): ReadonlySet<string> {
    const ids = this.#cache?.ids;
    if (!this.#known || this.#known.ids !== ids) this.#known = { ids, set: new Set(ids ?? []) };
    return this.#known.set;
  }
}
