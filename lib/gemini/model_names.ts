/**
 * Model names: aliases, feature suffixes (`-search`, `-image`, `-thinking`, `-nothinking`, combinable in
 * any order) and the model list with suffixed variants. A real model id that happens to end in a suffix
 * word (e.g. `gemini-2.5-flash-image`) is never misread: the longest known prefix wins.
 *
 * @module
 */
import { badRequest } from "../http/errors.ts";
import { modelFamily, offersThinkingChoice } from "./model_families.ts";
import { bareModel, matchesModelList } from "./model_id.ts";

/**
 * The settings model names depend on (the feature settings' fields of the same names:
 * `lib/features/settings.ts`).
 */
export interface ModelNameSettings {
  /** Client model names mapped to a real model (suffixes allowed in the target). */
  aliases: Readonly<Record<string, string>>;
  /** `-search` accepted. */
  searchSuffix: boolean;
  /** `-image` accepted. */
  imageSuffix: boolean;
  /** `-thinking` / `-nothinking` accepted. */
  thinkingSuffixes: boolean;
  /** Base models that output images when asked (exact ids or `prefix*`): they get `-image` variants. */
  imageOutputModels: readonly string[];
  /** Models left out of the list (exact ids or `prefix*`). */
  hiddenModels: readonly string[];
  /** The list shows suffixed variants. */
  listVariants: boolean;
}

/** A suffix word a model name may end with. */
export type SuffixWord = "image" | "search" | "thinking" | "nothinking";

/** Suffix words in canonical listing order, each with the setting that enables it. */
const SUFFIXES: ReadonlyArray<{ word: SuffixWord; enabled: (s: ModelNameSettings) => boolean }> = [
  { word: "image", enabled: (s) => s.imageSuffix },
  { word: "search", enabled: (s) => s.searchSuffix },
  { word: "thinking", enabled: (s) => s.thinkingSuffixes },
  { word: "nothinking", enabled: (s) => s.thinkingSuffixes },
];

/** A client model name resolved to a real model plus requested features. */
export interface ParsedModel {
  /** Real model id to call upstream. */
  model: string;
  /** Google Search grounding requested (`-search`). */
  search: boolean;
  /** Image output requested (`-image`). */
  image: boolean;
  /** Thinking suffix: `on` (`-thinking`), `off` (`-nothinking`). */
  thinking?: "on" | "off";
  /** The alias that was resolved, if any. */
  alias?: string;
  /** Human-readable remarks (unknown model, ignored suffix, ...). */
  notes: string[];
}

/** Input of {@link parseModelName}. */
export interface ParseModelInput {
  /** Model name as the client sent it (`models/` prefix allowed). */
  name: string;
  /** Real model ids known from the upstream model list (bare ids). */
  knownModels: ReadonlySet<string>;
  settings: ModelNameSettings;
}

/**
 * Which suffixed variants make sense for a real model (chat and image-output families only), as the
 * family table says: `-search` where the family has Google Search grounding, `-thinking`/`-nothinking`
 * where thinking can be switched, `-image` for listed base models that can output images.
 */
export function variantWords(model: string, settings: ModelNameSettings): SuffixWord[] {
  const family = modelFamily(model);
  if (family.kind !== "text" && family.kind !== "image") return [];
  const thinking = offersThinkingChoice(family);
  const can: Record<SuffixWord, boolean> = {
    image: !family.imageOutput && matchesModelList(model, settings.imageOutputModels),
    search: family.search,
    thinking,
    nothinking: thinking,
  };
  return SUFFIXES.filter((s) => s.enabled(settings) && can[s.word]).map((s) => s.word);
}

/**
 * Resolves a client model name: alias → real model, trailing suffix words → features. The longest prefix
 * that is a known model or alias wins; when none is known every trailing suffix word is stripped and a
 * note says the model is unknown. Throws a 400 `GatewayError` for `-thinking` together with `-nothinking`.
 */
export function parseModelName(input: ParseModelInput): ParsedModel {
  const name = bareModel(input.name);
  const { settings, knownModels } = input;
  const enabled = new Set(SUFFIXES.filter((s) => s.enabled(settings)).map((s) => s.word as string));
  const isKnown = (n: string) => knownModels.has(n) || Object.hasOwn(settings.aliases, n);
  const tokens = name.split("-");
  let cut = tokens.length; // tokens[cut..] are suffix words
  let found = isKnown(name);
  while (!found && cut > 1 && enabled.has(tokens[cut - 1])) {
    cut--;
    found = isKnown(tokens.slice(0, cut).join("-"));
  }
  if (!found) cut = unknownModelCut(tokens, enabled);
  const base = tokens.slice(0, cut).join("-");
  const words = tokens.slice(cut) as SuffixWord[];
  const notes: string[] = [];
  if (!found) notes.push(`Model ${base} is not in the known model list; sending it upstream as is.`);
  const parsed = fromWords(base, words, name);
  parsed.notes.unshift(...notes);
  const target = Object.hasOwn(settings.aliases, base) && !knownModels.has(base)
    ? settings.aliases[base]
    : null;
  if (target === null) return parsed;
  const inner = parseModelName({ name: target, knownModels, settings: { ...settings, aliases: {} } });
  return {
    model: inner.model,
    search: inner.search || parsed.search,
    image: inner.image || parsed.image,
    thinking: parsed.thinking ?? inner.thinking,
    alias: base,
    notes: [...parsed.notes, ...inner.notes],
  };
}

/**
 * Where the suffix words start in a name no model list knows: every trailing suffix word, except that
 * an `-image` the family table reads as part of an image model's own id (`gemini-2.5-flash-image`)
 * stays in the id.
 */
function unknownModelCut(tokens: string[], enabled: Set<string>): number {
  let cut = tokens.length;
  while (cut > 1 && enabled.has(tokens[cut - 1])) {
    if (tokens[cut - 1] === "image" && modelFamily(tokens.slice(0, cut).join("-")).kind === "image") break;
    cut--;
  }
  return cut;
}

function fromWords(model: string, words: SuffixWord[], requested: string): ParsedModel {
  const has = (w: SuffixWord) => words.includes(w);
  if (has("thinking") && has("nothinking")) {
    throw badRequest(
      "model",
      `Model name ${requested} asks for both -thinking and -nothinking; use only one of the two suffixes.`,
    );
  }
  const thinking = has("thinking") ? "on" : has("nothinking") ? "off" : undefined;
  return { model, search: has("search"), image: has("image"), thinking, notes: [] };
}

/** Every non-empty combination of the given words, in canonical order, thinking/nothinking exclusive. */
function combinations(words: SuffixWord[]): SuffixWord[][] {
  let out: SuffixWord[][] = [[]];
  for (const w of words) {
    out = out.flatMap((c) => (w === "nothinking" && c.includes("thinking")) ? [c] : [c, [...c, w]]);
  }
  return out.filter((c) => c.length > 0);
}

/**
 * The model ids to show clients: each visible real model followed by its suffixed variants (when
 * `listVariants` is on), then the aliases. Hidden entries (exact or `prefix*`) are left out; hiding a
 * real model hides its variants too.
 */
export function listModelVariants(realModels: Iterable<string>, settings: ModelNameSettings): string[] {
  const real = [...realModels].map(bareModel);
  const realSet = new Set(real);
  const out = new Set<string>();
  const hidden = (m: string) => matchesModelList(m, settings.hiddenModels);
  for (const m of real) {
    if (hidden(m)) continue;
    out.add(m);
    if (!settings.listVariants) continue;
    for (const combo of combinations(variantWords(m, settings))) {
      const v = [m, ...combo].join("-");
      if (!realSet.has(v) && !hidden(v)) out.add(v);
    }
  }
  for (const alias of Object.keys(settings.aliases)) if (!hidden(alias)) out.add(alias);
  return [...out];
}

/**
 * The names one call knows its model by, the client's first: the name as sent (bare), the alias it
 * resolved through, and the real model (a token's allow-list admits the model by any of them).
 */
export function modelNames(clientName: string, parsed: ParsedModel): string[] {
  return [...new Set([bareModel(clientName), parsed.alias, parsed.model].filter((n): n is string => !!n))];
}

/**
 * The aliases of an `aliases` setting that are named like a real model (in `knownModels`): the real
 * model wins (see {@link parseModelName}), so such an alias would never apply. One violation each, for
 * the settings API to refuse the change with.
 */
export function shadowedAliases(
  aliases: unknown,
  knownModels: ReadonlySet<string>,
): Array<{ field: string; description: string }> {
  if (typeof aliases !== "object" || aliases === null || Array.isArray(aliases)) return [];
  return Object.keys(aliases).filter((name) => knownModels.has(bareModel(name))).map((name) => ({
    field: `aliases.${name}`,
    description: `the alias ${name} is named like a real model, which always wins over an alias, so it ` +
      "would never apply; give the alias another name",
  }));
}
