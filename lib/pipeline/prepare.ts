/**
 * The one `prepare` step between an edge and the pipeline, for every method that names a model:
 * resolves the client's model name (aliases, feature suffixes, `models/` prefix) to the real model,
 * applies the request features to the GenerateContentRequest the method carries, rewrites model
 * names inside the body where Google checks them, and serializes the body once.
 *
 * A native body (bytes) is parsed only when the model name or the bytes ask for a feature (the
 * pre-check derived from the features' declarations); otherwise it goes upstream byte for byte.
 *
 * @module
 */
import { parseJson } from "../http/body.ts";
import { type ParsedModel, parseModelName } from "../gemini/model_names.ts";
import { upstreamModelId } from "../gemini/model_id.ts";
import type { FeatureSettings } from "../features/settings.ts";
import {
  applyRequestFeatures,
  featuresNeedBody,
  type GenerateMethod,
  isGenerateMethod,
} from "../features/request_features.ts";

/** A call to a model method, in Gemini's terms, as an edge parsed it from the client's request. */
export interface GeminiCall {
  /** The model method, e.g. `generateContent`, `streamGenerateContent`, `embedContent`, `predict`. */
  method: string;
  /** The model as the client named it: aliases, feature suffixes and a `models/` prefix allowed. */
  model: string;
  /**
   * The request body: an object (translating edges; serialized once here) or the client's bytes
   * (the native edge; parsed only when a feature applies).
   */
  body: object | Uint8Array | null;
  /** API version of the upstream path (default `v1beta`). */
  version?: string;
  /** Resource collection of the model (default `models`; `tunedModels` for tuned models). */
  collection?: "models" | "tunedModels";
}

/** A call ready for the pipeline. */
export interface PreparedCall {
  /** The real model id to call. */
  model: string;
  /** Upstream path, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`. */
  path: string;
  /** Body bytes to send. */
  body: Uint8Array<ArrayBuffer> | null;
  /** How the model name was resolved (suffix asks, alias, notes). */
  parsed: ParsedModel;
  /** Google Search grounding is on for this call. */
  search: boolean;
  /** What the gateway changed or ignored. */
  notes: string[];
}

/** Where a method's body names the model again; Google refuses a name that differs from the path's. */
const INNER_MODEL_NAMES: Readonly<Record<string, (body: Record<string, unknown>, name: string) => void>> = {
  embedContent: (body, name) => {
    if (typeof body.model === "string") body.model = name;
  },
  batchEmbedContents: (body, name) => {
    if (!Array.isArray(body.requests)) return;
    body.requests = body.requests.map((r) =>
      r && typeof r === "object" && typeof (r as { model?: unknown }).model === "string"
        ? { ...r, model: name }
        : r
    );
  },
};

/** What {@link CallPreparer} reads. */
export interface PrepareDeps {
  settings: () => FeatureSettings;
  /** Real model ids from the upstream model list (suffix parsing needs them). */
  knownModels: () => ReadonlySet<string>;
}

const encoder = new TextEncoder();
const MEMO_LIMIT = 10_000;

/** Resolves model names (memoized per settings and model list) and prepares calls. */
export class CallPreparer {
  #memo = new Map<string, ParsedModel>();
  #memoFor: { settings?: FeatureSettings; known?: ReadonlySet<string> } = {};

  constructor(private readonly deps: PrepareDeps) {}

  /**
   * The real model and feature asks for a client model name, without calling upstream.
   *
   * @throws {GatewayError} 400 for a name asking for both `-thinking` and `-nothinking`.
   */
  resolve(model: string): ParsedModel {
    const settings = this.deps.settings();
    const known = this.deps.knownModels();
    if (this.#memoFor.settings !== settings || this.#memoFor.known !== known) {
      this.#memo.clear();
      this.#memoFor = { settings, known };
    }
    let parsed = this.#memo.get(model);
    if (!parsed) {
      parsed = parseModelName({ name: model, knownModels: known, settings });
      if (this.#memo.size < MEMO_LIMIT) this.#memo.set(model, parsed);
    }
    return parsed;
  }

  /**
   * Prepares a model call.
   *
   * @throws {GatewayError} 400 for an invalid model name or a body that is not JSON when it must be read.
   */
  prepare(call: GeminiCall): PreparedCall {
    const settings = this.deps.settings();
    const parsed = this.resolve(call.model);
    const model = upstreamModelId(parsed.model);
    const renamed = model !== call.model.replace(/^models\//, "");
    const path = `/${call.version ?? "v1beta"}/${call.collection ?? "models"}/${
      encodeURIComponent(model)
    }:${call.method}`;
    const ctx = { parsed, settings };
    const generate = isGenerateMethod(call.method);
    const renameInner = renamed ? INNER_MODEL_NAMES[call.method] : undefined;
    const raw = call.body instanceof Uint8Array || call.body === null;
    if (raw) {
      const bytes = call.body as Uint8Array<ArrayBuffer> | null;
      const mustParse = generate
        ? featuresNeedBody(ctx, bytes) || (renamed && call.method === "countTokens")
        : renameInner !== undefined;
      if (!mustParse || !bytes?.length) {
        return { model, path, body: bytes, parsed, search: false, notes: parsed.notes };
      }
    }
    const object = raw ? parseJson(call.body as Uint8Array) : call.body;
    if (typeof object !== "object" || object === null || Array.isArray(object)) {
      const body = raw ? call.body as Uint8Array<ArrayBuffer> : encoder.encode(JSON.stringify(object));
      return { model, path, body, parsed, search: false, notes: parsed.notes };
    }
    let body = object as Record<string, unknown>;
    let search = false;
    let notes = parsed.notes;
    if (generate) {
      const r = applyRequestFeatures({ ...ctx, body, method: call.method as GenerateMethod });
      // Nothing changed: a native body still goes upstream byte for byte.
      if (raw && !r.changed) {
        return {
          model,
          path,
          body: call.body as Uint8Array<ArrayBuffer>,
          parsed,
          search: r.search,
          notes: r.notes,
        };
      }
      [body, search, notes] = [r.body, r.search, r.notes];
    } else if (renameInner) {
      body = { ...body };
      renameInner(body, `models/${model}`);
    }
    return { model, path, body: encoder.encode(JSON.stringify(body)), parsed, search, notes };
  }
}
