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
import { bareModel, upstreamModelId } from "../gemini/model_id.ts";
import {
  METHOD_BODIES,
  type MethodBody,
  MODEL_NAMING_RESOURCES,
  namedModel,
  renameModel,
} from "../gemini/method_bodies.ts";
import { badRequest } from "../http/errors.ts";
import type { FeatureSettings } from "../features/settings.ts";
import {
  applyRequestFeatures,
  featuresNeedBody,
  type GenerateMethod,
  indexOfBytes,
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

/** What {@link CallPreparer} reads. */
export interface PrepareDeps {
  settings: () => FeatureSettings;
  /** Real model ids from the upstream model list (suffix parsing needs them). */
  knownModels: () => ReadonlySet<string>;
}

const encoder = new TextEncoder();
const MEMO_LIMIT = 10_000;
/** A resource body without this names no model: it is not parsed. */
const MODEL_MARKER = encoder.encode('"model"');

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
   * The prepare step of a resource call whose body names a model (`cachedContents.create`,
   * `lib/gemini/method_bodies.ts`): the name is resolved like a model method's (aliases; suffixes are
   * stripped, their features belong to the calls that use the resource) and the real model put in
   * its place. Undefined for any other call, or a body that names no model.
   *
   * @throws {GatewayError} 400 for a body that is not JSON or a name asking for both thinking suffixes.
   */
  prepareResource(
    req: { method: string; path: string; body?: Uint8Array<ArrayBuffer> | null },
  ): PreparedResource | undefined {
    const at = MODEL_NAMING_RESOURCES.find((r) => r.method === req.method && r.path.test(req.path));
    if (!at || !req.body?.length || indexOfBytes(req.body, MODEL_MARKER) < 0) return undefined;
    const object = parseJson(req.body);
    if (typeof object !== "object" || object === null || Array.isArray(object)) return undefined;
    const clientModel = namedModel(object as Record<string, unknown>, at.requests);
    if (clientModel === undefined) return undefined;
    const parsed = this.resolve(clientModel);
    const name = `models/${upstreamModelId(parsed.model)}`;
    const next = at.requests(object as Record<string, unknown>, renameModel(name, "optional"));
    const body = next ? encoder.encode(JSON.stringify(next)) : req.body;
    return { body, clientModel, parsed };
  }

  /**
   * Prepares a model call: the real model in the path, the request features applied to each
   * GenerateContentRequest the body carries, and the real model named inside where Google checks it
   * (`lib/gemini/method_bodies.ts`).
   *
   * @throws {GatewayError} 400 for an invalid model name, a body that is not JSON when it must be
   *   read, or a suffix asking for features of a batch whose requests are in a file.
   */
  prepare(call: GeminiCall): PreparedCall {
    const settings = this.deps.settings();
    const parsed = this.resolve(call.model);
    const model = upstreamModelId(parsed.model);
    const renamed = model !== bareModel(call.model);
    const path = `/${call.version ?? "v1beta"}/${call.collection ?? "models"}/${
      encodeURIComponent(model)
    }:${call.method}`;
    const ctx = { parsed, settings };
    const shape: MethodBody | undefined = METHOD_BODIES[call.method];
    const generate = isGenerateMethod(call.method);
    const renameInner = renamed && shape?.model !== undefined;
    const raw = call.body instanceof Uint8Array || call.body === null;
    const unchanged = (search = false, notes = parsed.notes): PreparedCall => ({
      model,
      path,
      body: raw ? call.body as Uint8Array<ArrayBuffer> | null : encoder.encode(JSON.stringify(call.body)),
      parsed,
      search,
      notes,
    });
    if (raw) {
      const bytes = call.body as Uint8Array | null;
      const mustParse = (generate && featuresNeedBody(ctx, bytes)) || renameInner;
      if (!mustParse || !bytes?.length) return unchanged();
    }
    const object = raw ? parseJson(call.body as Uint8Array) : call.body;
    if (!shape || typeof object !== "object" || object === null || Array.isArray(object)) return unchanged();
    let body = object as Record<string, unknown>;
    let search = false;
    let notes = parsed.notes;
    refuseFileBatchSuffixes(shape, body, parsed);
    if (generate) {
      const r = applyRequestFeatures({ ...ctx, body, method: call.method as GenerateMethod });
      // Nothing changed: a native body still goes upstream byte for byte.
      if (raw && !r.changed) return unchanged(r.search, r.notes);
      [body, search, notes] = [r.body, r.search, r.notes];
    } else {
      const next = renameInner
        ? shape.requests(body, renameModel(`models/${model}`, shape.model))
        : undefined;
      if (!next) return unchanged();
      body = next;
    }
    return { model, path, body: encoder.encode(JSON.stringify(body)), parsed, search, notes };
  }
}

/** A resource call whose body names a model, with that model resolved. */
export interface PreparedResource {
  /** The body to send: the real model named where the client named an alias or a suffixed name. */
  body: Uint8Array<ArrayBuffer>;
  /** The model as the client's body named it. */
  clientModel: string;
  /** How it was resolved. */
  parsed: ParsedModel;
}

/**
 * A batch whose requests are in a JSONL file cannot get what a model suffix asks for (the gateway
 * does not rewrite files): refused, so the client is not billed for a batch without it.
 *
 * @throws {GatewayError} 400 (`batch.inputConfig.fileName`) for `-search`, `-image`, `-thinking` or
 *   `-nothinking` on a batch from a file.
 */
function refuseFileBatchSuffixes(
  shape: MethodBody,
  body: Record<string, unknown>,
  parsed: ParsedModel,
): void {
  const file = shape.inputFile?.(body);
  if (!file || !shape.generate) return;
  const asks = [
    parsed.search && "-search",
    parsed.image && "-image",
    parsed.thinking && `-${parsed.thinking === "on" ? "" : "no"}thinking`,
  ].filter(Boolean);
  if (!asks.length) return;
  throw badRequest(
    "batch.inputConfig.fileName",
    `The model suffix ${asks.join(" ")} cannot apply to a batch whose requests are in ${file}: the gateway ` +
      `does not rewrite files. Use the model ${parsed.model} and put the settings in each request of the ` +
      "file, or send the requests inline (batch.inputConfig.requests), where the gateway applies them.",
  );
}
